"""``slimfile layers --output-format markdown``: a pull-request comment, to sit beside the fix
suggestions of ``slimfile check --output-format markdown``.

A headline with the efficiency and what slimfile's fixes recover, the layers with text size
bars, the waste items with the rule that removes each, the rules' totals, and the largest
folders per layer folded away in ``<details>``.
"""

from __future__ import annotations

from slimfile.layers.render_text import (
    SHOWN_WASTE,
    bar,
    estimate_cell,
    item_line,
    layer_label,
    recovery_sentence,
    rule_cell,
    short,
    where,
)
from slimfile.layers.report import LayersReport
from slimfile.report.text import plural
from slimfile.verify.report import human_size

BAR_WIDTH = 16
_STATUS = {"fires": "fires: fix available", "silent": "does not fire here", "pending": "not in this slimfile yet"}


def cell(text: str) -> str:
    """Table-safe text: no pipes, no line breaks, no HTML or emphasis from file names."""
    for char in "\\`*_<>[]|":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ")


def render(report: LayersReport) -> str:
    if report.error is not None:
        return f"## slimfile layers\n\n**Error:** {cell(report.error)}\n"
    parts = [f"## slimfile layers: {cell(report.image)}", "", _headline(report), ""]
    parts += _layers(report) + [""] + _waste(report) + [""]
    if report.rule_totals():
        parts += _rules(report) + [""]
    parts += _folders(report)
    for mismatch in report.mismatches:
        parts += ["", f"> **Warning:** the image does not match the Dockerfile: {cell(mismatch)}"]
    for note in report.notes:
        parts += ["", f"> {cell(note)}"]
    return "\n".join(parts).rstrip("\n") + "\n"


def _headline(report: LayersReport) -> str:
    return (
        f"**Efficiency {report.efficiency * 100:.1f}%**: {human_size(report.waste_bytes)} of the image's "
        f"{human_size(report.total_bytes)} ({plural(len(report.layers), 'layer')}) is waste. "
        + cell(recovery_sentence(report))
    )


def _layers(report: LayersReport) -> list[str]:
    largest = max((layer.file_bytes for layer in report.layers), default=0)
    rows = ["| # | line | instruction | size | | waste |", "|--:|--:|---|--:|---|--:|"]
    for layer in report.layers:
        kept, waste = bar(layer.file_bytes, layer.waste_bytes, largest, BAR_WIDTH)
        bars = "█" * kept + "░" * waste
        rows.append(
            f"| {layer.index} | {where(layer)} | {cell(short(layer_label(layer, report), 70))} | {human_size(layer.file_bytes)} "
            f"| {bars} | {human_size(layer.waste_bytes) if layer.waste_bytes else ''} |"
        )
    rows.append("")
    rows.append("Bars: █ kept, ░ waste, scaled to the largest layer.")
    return rows


def _waste(report: LayersReport) -> list[str]:
    if not report.waste:
        return ["No waste found."]
    rows = ["### Waste", "", "| line | what | measured | rule that removes it | fix estimate |", "|--:|---|--:|---|---|"]
    for item in report.waste[:SHOWN_WASTE]:
        what = ("base image " if item.from_base else "") + item.describe()
        example = f" (`{item.examples[0][0].replace('`', '')}`{', ...' if item.files > 1 else ''})" if item.examples else ""
        rows.append(
            f"| {item_line(item)} | {cell(what)}{example} | {human_size(item.bytes)} | {cell(rule_cell(item.rule))} "
            f"| {cell(estimate_cell(item.rule))} |"
        )
    rest = report.waste[SHOWN_WASTE:]
    if rest:
        rows += ["", f"{plural(len(rest), 'smaller item')} ({human_size(sum(i.bytes for i in rest))}) not shown."]
    return rows


def _rules(report: LayersReport) -> list[str]:
    rows = ["### By rule", "", "| rule | status | measured waste | fix estimate |", "|---|---|--:|---|"]
    for total in report.rule_totals():
        name = f"{total.code} {total.name}" if total.name else total.code
        rows.append(
            f"| {cell(name)} | {_STATUS.get(total.status, total.status)} | {human_size(total.measured_bytes)} "
            f"| {cell(', '.join(total.estimates) or '-')} |"
        )
    return rows


def _folders(report: LayersReport) -> list[str]:
    rows = ["<details><summary>Largest folders and files per layer</summary>", ""]
    for layer in report.layers:
        if not layer.largest_folders:
            continue
        rows.append(f"- **layer {layer.index}** (line {where(layer)}): " + ", ".join(
            f"`{path.replace('`', '')}` {human_size(size)}" for path, size, _ in layer.largest_folders
        ))
        if layer.largest_files:
            rows.append("  - files: " + ", ".join(f"`{path.replace('`', '')}` {human_size(size)}" for path, size in layer.largest_files))
    rows += ["", "</details>"]
    return rows
