"""Output formats, one module each. Each turns a :class:`~slimfile.report.model.Report` into
text; none of them decides anything (which findings, which fixes) on its own."""

from __future__ import annotations

from importlib import import_module
from typing import Sequence

from slimfile.syntax.errors import DockerfileError

# format name -> module in this package with ``render(report) -> str``
FORMAT_MODULES = {
    "text": "text",
    "json": "json_format",
    "diff": "diff",
    "sarif": "sarif",
    "rdjson": "rdjson",
    "github": "github",
    "markdown": "markdown",
}
FORMATS = tuple(FORMAT_MODULES)


def render_outcomes(
    outcomes: Sequence,
    output_format: str,
    *,
    unsafe_fixes: bool,
    quiet: bool,
    errors: Sequence[DockerfileError] = (),
) -> tuple[str | bytes, bool]:
    """The report for ``check`` in one format, and whether it reported anything to fix."""
    if output_format == "diff":
        from slimfile.report.diff import render_diffs

        text = render_diffs(outcomes)
        return text, bool(text)
    from slimfile.report.model import Report

    report = Report.from_outcomes(outcomes, errors=errors, unsafe_fixes=unsafe_fixes, quiet=quiet)
    module = import_module(f"slimfile.report.{FORMAT_MODULES[output_format]}")
    return module.render(report), report.finding_count > 0
