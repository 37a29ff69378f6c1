"""The output formats of ``slimfile layers``: each renders a finished report to a string."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

from slimfile.layers.report import LayersReport


def as_text(report: LayersReport, width: int = 120) -> str:
    """The terminal report without colours (for a file)."""
    from rich.console import Console

    from slimfile.layers.render_text import render

    buffer = io.StringIO()
    render(report, Console(file=buffer, width=width, color_system=None, force_terminal=False))
    return buffer.getvalue()


def as_json(report: LayersReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def as_markdown(report: LayersReport) -> str:
    from slimfile.layers.render_markdown import render

    return render(report)


def as_html(report: LayersReport) -> str:
    from slimfile.layers.render_html import render

    return render(report)


RENDERERS: dict[str, Callable[[LayersReport], str]] = {
    "text": as_text,
    "json": as_json,
    "markdown": as_markdown,
    "html": as_html,
}
