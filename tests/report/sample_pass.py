"""A small pass used only by the report and CLI tests.

The real passes (``slimfile/passes/``) land separately; these tests must not depend on which
rules exist. This pass has four rules with codes in a namespace no real rule uses (``XT``), so
the tests keep working, unchanged, once the real pipeline is full:

- XT101: ``apt-get install`` without ``--no-install-recommends`` (safe fix, with a saving);
- XT102: ``ADD`` of a local path (safe fix: ``COPY``; no saving);
- XT103: ``sudo`` in a RUN (no fix);
- XT104: ``pip install`` without ``--no-cache-dir`` (unsafe fix, with a saving).

Tests install it with the ``sample_rules`` fixture (see ``tests/report/conftest.py``), which
monkeypatches ``slimfile.engine.default_passes`` and ``slimfile.pipeline.all_rules``.
"""

from __future__ import annotations

from typing import Iterator

from slimfile.analysis.context import Context
from slimfile.diagnostics import Finding, Rule, Saving
from slimfile.syntax.edits import Edit, Fix, Safety
from slimfile.syntax.nodes import Instruction

APT = Rule(
    code="XT101",
    name="apt-install-recommends",
    summary="`apt-get install` also installs recommended packages",
    fix_title="Add `--no-install-recommends`",
    doc="""## What it does
Finds `apt-get install` without `--no-install-recommends`.

## Why is this bad?
Recommended packages are rarely needed in an image and make it larger.

## Example
```dockerfile
RUN apt-get install -y curl
```

## Use instead
```dockerfile
RUN apt-get install -y --no-install-recommends curl
```
""",
    related=("DL3015",),
)
ADD = Rule(
    code="XT102",
    name="add-local-path",
    summary="`ADD` of a local path",
    fix_title="Use `COPY`",
    doc="## What it does\nFinds `ADD` where `COPY` does the same.\n\n"
    "## Why is this bad?\n`ADD` also unpacks archives.\n",
    related=("DL3020",),
)
SUDO = Rule(
    code="XT103",
    name="sudo-in-run",
    summary="`sudo` in a RUN instruction",
    fix_title="",
    doc="## What it does\nFinds `sudo` in RUN.\n\n## Why is this bad?\nBuilds run as root already.\n",
)
PIP = Rule(
    code="XT104",
    name="pip-cache",
    summary="`pip install` keeps its download cache",
    fix_title="Add `--no-cache-dir`",
    doc="## What it does\nFinds `pip install` without `--no-cache-dir`.\n",
    safety=Safety.UNSAFE,
)
RULES = (APT, ADD, SUDO, PIP)

APT_SAVING = Saving("~20 MB", "recommended packages of a typical install", bytes=20_000_000)
PIP_SAVING = Saving("~5 MB", "pip's wheel cache", bytes=5_000_000)


def check(ctx: Context) -> Iterator[Finding]:
    for instruction in ctx.dockerfile.instructions:
        if instruction.name == "RUN":
            yield from _run_findings(instruction)
        elif instruction.name == "ADD" and b"://" not in instruction.args:
            start, end = instruction.keyword_source_span()
            fix = Fix((Edit(start, end, b"COPY"),), title=ADD.fix_title)
            yield Finding(ADD, "`ADD` of a local path; `COPY` is clearer", start, end, fix=fix)


def _run_findings(instruction: Instruction) -> Iterator[Finding]:
    text = instruction.logical.text
    yield from _missing_flag(instruction, b"apt-get install", b"--no-install-recommends", APT, APT_SAVING, Safety.SAFE)
    yield from _missing_flag(instruction, b"pip install", b"--no-cache-dir", PIP, PIP_SAVING, Safety.UNSAFE)
    at = text.find(b"sudo ")
    if at >= 0:
        start, end = instruction.logical.source_span(at, at + 4)
        yield Finding(SUDO, "`sudo` is not needed: the build runs as root", start, end)


def _missing_flag(instruction: Instruction, command: bytes, flag: bytes, rule: Rule, saving: Saving, safety: Safety):
    text = instruction.logical.text
    at = text.find(command)
    if at < 0 or flag in text:
        return
    start, end = instruction.logical.source_span(at, at + len(command))
    fix = Fix((Edit.insert(end, b" " + flag),), safety=safety, title=rule.fix_title)
    message = f"`{command.decode()}` without `{flag.decode()}`"
    yield Finding(rule, message, start, end, fix=fix, saving=saving)
