"""Instructions the builder rejects: the build stops there, whatever else the file does well.

Before::

    FORM python:3.12-slim
    COPPY . /app

After: the same file (nothing is rewritten), and::

    Dockerfile:1:1: SF001 `FORM` is not an instruction (did you mean FROM?): the build stops here ("unknown instruction")
    Dockerfile:2:1: SF001 `COPPY` is not an instruction (did you mean COPY?): the build stops here ("unknown instruction")

slimfile parses as buildkit's parser does, which accepts any word as an instruction and leaves
the rest to the step that turns the tree into a build (``instructions.Parse`` and
``dockerfile2llb``): an unknown keyword, an instruction before the first FROM other than ARG,
a file with no FROM, too few arguments, a JSON array of non-strings, ``ENV`` or ``LABEL``
without a value. The file stays editable (the other passes still run), and these are
reported, so that a typo does not pass as "All checks passed!".
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from slimfile.analysis.context import Context
from slimfile.diagnostics import Finding, Rule
from slimfile.syntax.edits import Safety
from slimfile.syntax.gocompat import go_split_whitespace
from slimfile.syntax.nodes import Instruction

BUILD_ERROR = Rule(
    code="SF001",
    name="build-error",
    summary="An instruction the builder rejects: the build stops there",
    fix_title="Correct the instruction (report only: which one was meant is the author's call)",
    related=("hadolint DL1000",),
    safety=Safety.UNSAFE,
    severity="error",
    doc="""
## What it does
Reports what `docker build` refuses before it runs a single step, although the file parses:

- a keyword that is not an instruction (`COPPY`, `FORM`, `RUNN`), with the instruction it is
  closest to;
- an instruction other than `ARG` before the first `FROM` (buildkit: "no build stage in
  current context");
- a file with no `FROM` at all, or with no instruction;
- too few arguments: `COPY app.py` (no destination), `FROM a b`, an `ENV`, `LABEL`, `USER`,
  `WORKDIR` ... with nothing after it;
- a `SHELL` not in JSON form, a `HEALTHCHECK` that is neither `NONE` nor `CMD` and a command;
- `ONBUILD ONBUILD`, `ONBUILD FROM` and `ONBUILD MAINTAINER`; an `ONBUILD` trigger that is not
  an instruction or lacks its arguments (that one fails in every build `FROM` the image);
- a JSON array of non-strings (`CMD ["a", 1]`), an `ENV` or `LABEL` whose words are not
  `name=value` pairs or a name and a value;
- a flag the instruction does not take in any version of the Dockerfile frontend
  (`COPY --form=build`, with the flag it is closest to), a flag given twice (`--chown` twice;
  `--mount` may repeat), a flag that needs a value without one (`COPY --chown app /app`).

The wording is the builder's own (Docker 20.10's BuildKit frontend, checked on a real engine).
It is the one rule reported at the error level (SARIF, rdjson, GitHub annotations).

## Why is this bad?
The build stops at that line. A linter that checks everything else and answers "All checks
passed!" for a file with a typo in an instruction tells the reader the file is fine.

## Example
```dockerfile
FROM python:3.12-slim
COPPY . /app
```

## Use instead
```dockerfile
FROM python:3.12-slim
COPY . /app
```

## Fix safety
Not fixed: which instruction was meant is the author's call (the message names the closest
one). The other rules still run on the rest of the file, and their fixes never touch the
rejected line.
""",
)

RULES = (BUILD_ERROR,)

# what buildkit's instructions.ParseInstruction dispatches; anything else is an unknown instruction
INSTRUCTIONS = (
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
    "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
)
_KNOWN = frozenset(INSTRUCTIONS)
# instructions buildkit refuses without arguments (checked after flags: `COPY --from=a` has none)
_AT_LEAST_ONE = frozenset({"ARG", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL", "ONBUILD", "SHELL", "VOLUME"})
_EXACTLY_ONE = frozenset({"MAINTAINER", "STOPSIGNAL", "USER", "WORKDIR"})  # the rest of the line is one argument
# the flags each instruction takes in some version of the Dockerfile frontend (labs ones
# included: a file may ask for a newer frontend with `# syntax=`), and how buildkit reads
# each: "string" needs `=value`, "strings" may be given again; the others are "bool". Any
# other flag stops the build, but for the instructions whose flags buildkit never reads
_FLAGS: dict[str, dict[str, str]] = {
    "FROM": {"platform": "string"},
    "COPY": {
        "from": "string", "chown": "string", "chmod": "string", "link": "bool", "parents": "bool", "exclude": "strings",
    },
    "ADD": {
        "chown": "string", "chmod": "string", "link": "bool", "keep-git-dir": "bool", "checksum": "string",
        "unpack": "bool", "exclude": "strings",
    },
    "RUN": {"mount": "strings", "network": "string", "security": "string", "device": "strings"},
    "HEALTHCHECK": {
        "interval": "string", "timeout": "string", "start-period": "string", "start-interval": "string", "retries": "string",
    },
}
_FLAGS_NOT_READ = frozenset({"ARG", "STOPSIGNAL"})  # and HEALTHCHECK NONE
_NOT_TRIGGERS = {
    "ONBUILD": "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
    "FROM": "FROM isn't allowed as an ONBUILD trigger",
    "MAINTAINER": "MAINTAINER isn't allowed as an ONBUILD trigger",
}


def check(ctx: Context) -> Iterator[Finding]:
    instructions = ctx.dockerfile.instructions
    if not any(node.keyword for node in instructions):
        yield Finding(BUILD_ERROR, "the file has no instructions: there is nothing to build (buildkit: \"file with no instructions\")", 0, 0)
        return
    has_from = any(node.name == "FROM" for node in instructions)
    seen_from = False
    unknown = False
    for node in instructions:
        if not node.keyword:
            continue
        problem = _problem(node, seen_from or not has_from)  # no FROM at all: said once, below
        seen_from = seen_from or node.name == "FROM"
        unknown = unknown or node.name not in _KNOWN
        if problem is not None:
            start, end = node.keyword_source_span()
            yield Finding(BUILD_ERROR, problem, start, end)
    if not has_from and not unknown:  # `FORM x` is one mistake, named above with its FROM
        first = next(node for node in instructions if node.keyword)
        start, end = first.keyword_source_span()
        yield Finding(BUILD_ERROR, "the file has no FROM: there is no stage to build", start, end)


def _problem(node: Instruction, seen_from: bool) -> str | None:
    """Why the builder rejects ``node``, or None."""
    if node.name not in _KNOWN:
        return _unknown(node.keyword) + ": the build stops here (\"unknown instruction\")"
    if not seen_from and node.name not in ("ARG", "FROM"):
        return f"`{node.keyword}` comes before the first FROM, where only ARG may: the build stops here (\"no build stage in current context\")"
    found = _own_problem(node)
    if found is not None:
        return f"{found}: the build stops here"
    inner = node.inner
    if node.name == "ONBUILD" and inner is not None and inner.keyword:
        if inner.name in _NOT_TRIGGERS:
            return f"{_NOT_TRIGGERS[inner.name]}: the build stops here"
        # the trigger runs, and fails, in every build FROM this image, not in this one
        if inner.name not in _KNOWN:
            return f"ONBUILD {_unknown(inner.keyword)}: every build FROM this image stops there"
        found = _own_problem(inner)
        if found is not None:
            return f"ONBUILD {found}: every build FROM this image stops there"
    return None


def _own_problem(node: Instruction) -> str | None:
    """What is wrong with the instruction itself (its arguments, or what the parser kept),
    named with the instruction."""
    found = _arguments_problem(node) or _flags_problem(node) or (node.problems[0] if node.problems else None)
    return _named(node, found) if found is not None else None


def _flags_problem(node: Instruction) -> str | None:
    """buildkit's BFlags.Parse: a flag the instruction does not take, one given twice, one
    that needs a value and has none (in Docker 20.10's words, checked on its engine)."""
    if not node.flags or node.name in _FLAGS_NOT_READ:
        return None
    if node.name == "HEALTHCHECK" and node.args_text.split(None, 1)[:1] == ["NONE"]:
        return None
    known = _FLAGS.get(node.name, {})
    used: set[str] = set()
    for flag in node.flags:
        if flag.value == "--":  # the end of the flags
            return None
        name, kind = flag.name, known.get(flag.name)
        if kind is None:
            close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
            return f"Unknown flag: {name}" + (f" (did you mean --{close[0]}?)" if close else "")
        if name in used and kind != "strings":
            return f"Duplicate flag specified: {name}"
        used.add(name)
        if kind != "bool" and "=" not in flag.value:
            return f"Missing a value on flag: {name}"
    return None


def _arguments_problem(node: Instruction) -> str | None:
    """buildkit's checks of the number of arguments (``errAtLeastOneArgument`` and its kin)."""
    name = node.name
    if name in ("ADD", "COPY"):
        count = len(node.json) if node.json is not None else len(_words(node))
        if count < 2:
            return f"{name} requires at least two arguments, but only one was provided. Destination could not be determined"
        return None
    if name == "FROM":
        words = _words(node)
        if len(words) != 1 and (len(words) != 3 or words[1].lower() != b"as"):
            return "FROM requires either one or three arguments"
        return None
    if name == "HEALTHCHECK" and node.args_text.strip():
        return _healthcheck_problem(node.args_text)
    if name == "SHELL" and node.args_text.strip() and node.json is None:
        return "SHELL requires the arguments to be in JSON form"
    if node.args_text.strip():
        return None
    if name in _AT_LEAST_ONE:
        return f"{name} requires at least one argument"
    if name in _EXACTLY_ONE:
        return f"{name} requires exactly one argument"
    return None


def _healthcheck_problem(args: str) -> str | None:
    """buildkit's parseHealthcheck: NONE alone, or CMD and a command."""
    kind, *more = args.split(None, 1)
    kind, rest = kind.upper(), "".join(more)
    if kind == "NONE":
        return "HEALTHCHECK NONE takes no arguments" if rest.strip() else None
    if kind != "CMD":
        return f'Unknown type "{kind}" in HEALTHCHECK (try CMD)'
    return None if rest.strip() else "Missing command after HEALTHCHECK CMD"


def _words(node: Instruction) -> list[bytes]:
    """buildkit's parseStringsWhitespaceDelimited (COPY, ADD and FROM; quotes do not group), as
    the stage model reads a FROM."""
    return go_split_whitespace(node.args) if node.args else []


def _named(node: Instruction, problem: str) -> str:
    """The problem, with the instruction's name (buildkit's own texts mostly have it)."""
    return problem if node.name in problem else f"{node.name}: {problem}"


def _unknown(keyword: str) -> str:
    """``keyword`` is not an instruction, with the closest one (buildkit suggests it too)."""
    close = difflib.get_close_matches(keyword.upper(), INSTRUCTIONS, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"`{keyword}` is not an instruction{hint}"
