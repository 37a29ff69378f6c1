"""What each FROM names, and how its image word could be rewritten.

A FROM names another stage, ``scratch``, or an image; the image may be written with global
ARGs (``ARG PY=3.11`` + ``FROM python:${PY}``), carry ``--platform``, a digest, or be used by
several stages. :func:`from_images` answers, per stage: the reference as written and as
resolved with the ARG defaults, the catalog's entry for it, the source span of the image word
(the only bytes a base-image edit touches: ``--platform``, ``AS name``, case and spacing stay),
and for an ARG-driven reference the ARG whose default would change instead.

:func:`rewrite` turns "this stage should run on NEW" into an edit, or says why not: a pinned
digest cannot be swapped offline (the new digest is unknown), and an ARG default changes only
when every use of that ARG is this image reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slimfile.analysis.context import Context
from slimfile.analysis.images import CatalogImage, lookup
from slimfile.analysis.steps import global_defaults, referenced
from slimfile.shell.expansion import TooLong, substitute
from slimfile.syntax.edits import Edit
from slimfile.syntax.nodes import Instruction
from slimfile.syntax.stages import ImageRef, Stage, parse_image_ref

_SIMPLE_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True)
class ArgBinding:
    """The global ARG an image reference is written with (``python:${PY}``)."""

    name: str
    default: str | None  # None: declared without a default, or not declared before FROM
    declaration: Instruction | None
    value_span: tuple[int, int] | None  # source bytes of the default value (quotes excluded)
    prefix: str  # the reference text before the variable, resolved
    suffix: str  # and after it
    other_uses: tuple[str, ...]  # where else the ARG is used: "line 9 (LABEL)" (the first few)
    other_use_count: int = 0  # how many places there are in all


@dataclass(frozen=True)
class FromImage:
    stage: Stage
    kind: str  # "image", "stage", "scratch" or "unresolved"
    written: str  # the image word as written
    resolved: str | None  # with the global ARG defaults expanded
    ref: ImageRef | None
    image: CatalogImage | None  # None: not an image the catalog knows
    word: tuple[int, int] | None  # source span of the image word
    binding: ArgBinding | None = None
    base_stage: Stage | None = None  # for kind "stage" (also when named through an ARG)
    problem: str | None = None  # why the word cannot be rewritten here

    @property
    def line(self) -> int:
        return self.stage.from_instruction.start_line


def from_images(ctx: Context) -> list[FromImage]:
    """One entry per stage, in order (computed once per round)."""
    return ctx.memo("from-images", lambda: _describe_all(ctx))


def _describe_all(ctx: Context) -> list[FromImage]:
    """Each stage with the aliases of the stages before it, kept as one running map (a stage
    named through an ARG may be an earlier one; rebuilding the map per stage would be quadratic)."""
    earlier: dict[str, Stage] = {}
    out = []
    for stage in ctx.stages.stages:
        out.append(_describe(ctx, stage, earlier))
        if stage.alias:
            earlier[stage.alias] = stage
    return out


def base_of(ctx: Context, stage: Stage) -> Stage | None:
    """The stage ``stage`` is built FROM, also when named through an ARG."""
    return from_images(ctx)[stage.index].base_stage


def descendants(ctx: Context, stage: Stage) -> list[Stage]:
    """The stages built FROM ``stage``, directly or through others, in file order."""
    family = {stage.index}
    out = []
    for entry in from_images(ctx)[stage.index + 1 :]:
        if entry.base_stage is not None and entry.base_stage.index in family:
            family.add(entry.stage.index)
            out.append(entry.stage)
    return out


def final_chain(ctx: Context) -> list[Stage]:
    """The final stage and the stages it is built FROM, root first: what the image ships
    (computed once per round; callers must not change the list)."""
    return ctx.memo("from-images.final-chain", lambda: _final_chain(ctx))


def in_final_chain(ctx: Context, stage: Stage) -> bool:
    indexes = ctx.memo("from-images.final-chain-indexes", lambda: {s.index for s in final_chain(ctx)})
    return stage.index in indexes


def _final_chain(ctx: Context) -> list[Stage]:
    chain: list[Stage] = []
    seen: set[int] = set()
    stage = ctx.stages.final
    while stage is not None and stage.index not in seen:
        chain.append(stage)
        seen.add(stage.index)
        stage = base_of(ctx, stage)
    return list(reversed(chain))


# -- one FROM ----------------------------------------------------------------------------------------


def _describe(ctx: Context, stage: Stage, earlier: dict[str, Stage]) -> FromImage:
    written = stage.image_text
    word = _image_word_span(stage.from_instruction)
    if stage.base_stage is not None:
        return FromImage(stage, "stage", written, written, None, None, word, base_stage=stage.base_stage)
    binding = None
    resolved: str | None = written
    if "$" in written:
        binding = _binding(ctx, stage, written)
        resolved = _expand(written, global_defaults(ctx))
        if resolved is None:
            return FromImage(stage, "unresolved", written, None, None, None, word, binding, problem=_unresolved(written, binding))
        if resolved.lower() in earlier:
            return FromImage(stage, "stage", written, resolved, None, None, word, binding, base_stage=earlier[resolved.lower()])
    if resolved.lower() == "scratch":
        return FromImage(stage, "scratch", written, resolved, None, None, word, binding)
    ref = parse_image_ref(resolved)
    problem = None
    if ref.digest:
        problem = f"`{written}` is pinned by digest: the new image's digest cannot be looked up offline"
    elif word is None:
        problem = "the image word spans a line continuation"
    elif binding is not None:
        problem = _binding_problem(binding)
    return FromImage(stage, "image", written, resolved, ref, lookup(ref), word, binding, problem=problem)


def _image_word_span(node: Instruction) -> tuple[int, int] | None:
    """Source span of the first argument of FROM (after the flags), when it is written on one
    line (a word cut by a continuation is never edited)."""
    text = node.logical.text
    match = re.compile(rb"\S+").search(text, node.args_start, node.args_end)
    if match is None:
        return None
    start, end = node.logical.source_span(match.start(), match.end())
    return (start, end) if end - start == match.end() - match.start() else None


def _expand(text: str, values: dict[str, str]) -> str | None:
    """Only ``$NAME`` and ``${NAME}`` with known values; anything else is unresolved."""
    if re.search(r"\$\{[^}]*[:#%/]", text):
        return None
    try:
        expanded = substitute(_SIMPLE_VARIABLE, text, lambda m: values[m.group("braced") or m.group("plain")])
    except (KeyError, TooLong):
        return None
    return None if "$" in expanded else expanded


def _unresolved(written: str, binding: ArgBinding | None) -> str:
    if binding is not None and binding.default is None:
        return f"`{written}` uses ${binding.name}, which has no default before the first FROM"
    return f"`{written}` uses variables slimfile does not resolve"


def _binding(ctx: Context, stage: Stage, written: str) -> ArgBinding | None:
    """The one ARG the reference is written with; None with several or with modifiers."""
    variables = list(_SIMPLE_VARIABLE.finditer(written))
    if len(variables) != 1 or re.search(r"\$\{[^}]*[:#%/]", written):
        return None
    match = variables[0]
    name = match.group("braced") or match.group("plain")
    defaults = global_defaults(ctx)
    declaration, span = _declaration(ctx, name)
    prefix = _expand(written[: match.start()], defaults)
    suffix = _expand(written[match.end() :], defaults)
    if prefix is None or suffix is None:
        return None
    listed, count = _other_uses(ctx, stage, name)
    return ArgBinding(name, defaults.get(name), declaration, span, prefix, suffix, listed, count)


def _declaration(ctx: Context, name: str) -> tuple[Instruction | None, tuple[int, int] | None]:
    """The last global ``ARG NAME=value`` and the source span of its value (None when the
    value is not one plain or quoted word: quotes around ``$``, backslashes or backquotes)."""
    found: tuple[Instruction | None, tuple[int, int] | None] = (None, None)
    for node in _global_args_naming(ctx).get(name.encode(), ()):  # each one declares the name
        segment = node.logical.text[node.args_start : node.args_end]
        match = _plain_value(segment, name.encode() + b"=")
        if match is None:
            found = (node, None)  # declared, but its value is not a plain word
            continue
        group = next(i for i in (1, 2, 3) if match.group(i) is not None)
        start, end = node.args_start + match.start(group), node.args_start + match.end(group)
        source = node.logical.source_span(start, end)
        found = (node, source if source[1] - source[0] == end - start else None)
    return found


# the value of NAME= when it is a word: "..." or '...' without $, \ or `, or bare, up to a space
_PLAIN_VALUE = re.compile(rb"(?:\"([^\"$\\`]*)\"|'([^'$\\`]*)'|([^\s\"'$\\`]*))(?=\s|$)")
_SPACES = frozenset(b" \t\n\r\f\v")


def _plain_value(segment: bytes, assignment: bytes) -> re.Match[bytes] | None:
    """The first ``NAME=`` of the segment that starts it or follows a space and is followed by
    a plain value (what ``(?:^|\\s)NAME=value`` finds, without compiling a pattern per name:
    a file of many ARG-driven FROMs compiled two per FROM)."""
    position = segment.find(assignment)
    while position >= 0:
        if position == 0 or segment[position - 1] in _SPACES:
            match = _PLAIN_VALUE.match(segment, position + len(assignment))
            if match is not None:
                return match
        position = segment.find(assignment, position + 1)
    return None


def _global_args_naming(ctx: Context) -> dict[bytes, list[Instruction]]:
    """The global ARGs by the names they declare (a word ``NAME`` or ``NAME=...``), in file
    order, once per round: :func:`_declaration` looked at every global ARG for every FROM
    that reads one. Only those ARGs can match its patterns (``NAME`` after the start or a
    space, before ``=``, a space or the end)."""

    def compute() -> dict[bytes, list[Instruction]]:
        naming: dict[bytes, list[Instruction]] = {}
        for node in ctx.stages.global_args:
            segment = node.logical.text[node.args_start : node.args_end]
            for word in dict.fromkeys(chunk.split(b"=", 1)[0] for chunk in segment.split()):
                naming.setdefault(word, []).append(node)
        return naming

    return ctx.memo("from-images.global-args-naming", compute)


# a refusal lists this many of the other places that read the ARG, then counts the rest
LISTED_USES = 5


@dataclass(frozen=True)
class _ArgReads:
    """Where each ARG name is read, in file order, collected in one walk of the file (asking
    per variable FROM made a file of many such stages quadratic)."""

    in_stages: dict[str, list[tuple[Stage | None, str]]]  # the stage whose FROM reads it (None: an instruction)
    in_global_args: dict[str, list[str]]


def _arg_reads(ctx: Context) -> _ArgReads:
    return ctx.memo("from-images.arg-reads", lambda: _collect_arg_reads(ctx))


def _collect_arg_reads(ctx: Context) -> _ArgReads:
    in_stages: dict[str, list[tuple[Stage | None, str]]] = {}
    for other in ctx.stages.stages:
        line = other.from_instruction.start_line
        for name in referenced(other.image_text):
            in_stages.setdefault(name, []).append((other, f"line {line} (FROM)"))
        for name in referenced(other.platform) if other.platform else ():
            in_stages.setdefault(name, []).append((other, f"line {line} (FROM --platform)"))
        declared: set[str] = set()  # names the stage has declared again with its own ARG
        for node in other.instructions:
            inner = node.effective
            own = {w.split("=", 1)[0] for w in inner.args_text.split()} if inner.name == "ARG" else set()
            declared |= own
            read = referenced(inner.args_text).union(*(referenced(f.value) for f in inner.flags))
            for name in (read - own) & declared:
                in_stages.setdefault(name, []).append((None, f"line {node.start_line} ({node.name})"))
    in_global_args: dict[str, list[str]] = {}
    for node in ctx.stages.global_args:
        values = [w.split("=", 1)[1] for w in node.args_text.split() if "=" in w]
        for name in frozenset().union(*(referenced(v) for v in values)):
            in_global_args.setdefault(name, []).append(f"line {node.start_line} (ARG)")
    return _ArgReads(in_stages, in_global_args)


def _other_uses(ctx: Context, stage: Stage, name: str) -> tuple[tuple[str, ...], int]:
    """Where the global ARG ``name`` is read besides this FROM: other FROMs, later global ARGs,
    and instructions of stages that declare ``ARG name`` again. The first ``LISTED_USES`` of
    them, and how many there are."""
    reads = _arg_reads(ctx)
    in_stages = reads.in_stages.get(name, ())
    in_args = reads.in_global_args.get(name, ())
    own_platform = [f"line {stage.from_instruction.start_line} (FROM --platform)"] if stage.platform and name in referenced(stage.platform) else []
    own = int(name in referenced(stage.image_text)) + len(own_platform)  # this FROM's own entries in in_stages
    listed: list[str] = []
    for owner, where in in_stages:
        if len(listed) == LISTED_USES:
            break
        if owner is not stage:
            listed.append(where)
    listed.extend(in_args[: LISTED_USES - len(listed)])
    listed.extend(own_platform[: LISTED_USES - len(listed)])
    return tuple(listed), len(in_stages) - own + len(in_args) + len(own_platform)


def _binding_problem(binding: ArgBinding) -> str | None:
    if binding.declaration is None or binding.value_span is None:
        return f"the default of ARG {binding.name} is not a plain word slimfile can change"
    if binding.other_uses:
        more = binding.other_use_count - len(binding.other_uses)
        return f"ARG {binding.name} is also used at {', '.join(binding.other_uses)}" + (f" and {more} more places" if more > 0 else "")
    return None


# -- the edit -----------------------------------------------------------------------------------------


def rewrite(entry: FromImage, new_text: str) -> Edit | str:
    """The edit that makes ``entry``'s stage run on ``new_text``: the image word, or the
    default of the ARG it is written with; or why there is none."""
    if entry.problem:
        return entry.problem
    if entry.word is None:
        return "the image word is not on one line"
    binding = entry.binding
    if binding is None:
        return Edit(entry.word[0], entry.word[1], new_text.encode())
    if not (new_text.startswith(binding.prefix) and new_text.endswith(binding.suffix)):
        return f"`{new_text}` cannot be written by changing the default of ARG {binding.name} alone"
    value = new_text[len(binding.prefix) : len(new_text) - len(binding.suffix) if binding.suffix else None]
    if not value or not re.fullmatch(r"[A-Za-z0-9._:/@-]+", value):
        return f"`{new_text}` cannot be written by changing the default of ARG {binding.name} alone"
    assert binding.value_span is not None
    return Edit(binding.value_span[0], binding.value_span[1], value.encode())
