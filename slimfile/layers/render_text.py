"""The report for people in a terminal (rich): a summary, the layers with size bars, the waste
items with the rule that removes each, and the rules' totals."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from slimfile.layers.fixes import FIRES, PENDING, SILENT, RuleMatch
from slimfile.layers.report import LayerReport, LayersReport, WasteItem
from slimfile.report.text import plural
from slimfile.verify.report import human_size

BAR_WIDTH = 24
SHOWN_WASTE = 15
INSTRUCTION_WIDTH = 48


def render(report: LayersReport, console: Console) -> None:
    if report.error is not None:
        _failure(report, console)
        return
    _header(report, console)
    console.print(layer_table(report))
    console.print(waste_table(report))
    if report.rule_totals():
        console.print(rule_table(report))
    _footer(report, console)


def _failure(report: LayersReport, console: Console) -> None:
    console.print(f"[bold]slimfile layers[/] {escape(report.image or report.dockerfile or '')}")
    if report.error_log:
        console.print("[bold]build output (end):[/]")
        console.print(escape("\n".join(report.error_log)), highlight=False)
    console.print(f"[red]error:[/] {escape(report.error or '')}")


def _header(report: LayersReport, console: Console) -> None:
    source = f" (Dockerfile {escape(report.dockerfile)}" + (f", context {escape(report.context)})" if report.context else ")") if report.dockerfile else ""
    console.print(f"[bold]slimfile layers[/] {escape(report.image)}{source}")
    console.print(
        f"image {human_size(report.image_size)} in {len(report.layers)} layers; final filesystem "
        f"{human_size(report.final_bytes)} in {report.final_files:,} files; hidden by later layers {human_size(report.hidden_bytes)}",
        highlight=False,
    )
    console.print(
        f"waste [bold]{human_size(report.waste_bytes)}[/] of {human_size(report.total_bytes)}: "
        f"efficiency [bold]{report.efficiency * 100:.1f}%[/]",
        highlight=False,
    )
    console.print(recovery_sentence(report), highlight=False)
    if report.build is not None and report.build.built_on_retry:
        console.print(f"the build {escape(report.build.retry_note() or '')}")


def recovery_sentence(report: LayersReport) -> str:
    """What slimfile's fixes would recover, and what waste no fix here removes (yet)."""
    parts = [f"slimfile's fixes would recover {human_size(report.recoverable_bytes)} (measured)"]
    pending = report.bytes_with_status(PENDING)
    silent = report.bytes_with_status(SILENT)
    if pending:
        parts.append(f"{human_size(pending)} more is for rules not in this slimfile yet")
    if silent:
        parts.append(f"{human_size(silent)} for rules that do not fire on this Dockerfile")
    if report.unruled_bytes:
        parts.append(f"{human_size(report.unruled_bytes)} has no rule yet")
    return "; ".join(parts) + "."


def bar(size: int, waste: int, largest: int, width: int = BAR_WIDTH) -> tuple[int, int]:
    """Cells of a size bar: (kept, waste), scaled to the largest layer; any bytes show."""
    if largest <= 0 or size <= 0:
        return 0, 0
    cells = max(1, round(size / largest * width))
    waste_cells = min(cells, round(waste / largest * width)) if waste else 0
    if waste and waste_cells == 0:
        waste_cells = 1 if cells > 1 else 0
    return cells - waste_cells, waste_cells


def where(layer: LayerReport) -> str:
    o = layer.origin
    return str(o.line) if o.line is not None else "-"


def short(text: str, width: int = INSTRUCTION_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def layer_label(layer: LayerReport, report: LayersReport) -> str:
    """The instruction that made a layer; a base layer names its image and its own history."""
    if layer.origin.origin == "base":
        made_by = layer.origin.history_text or "imported filesystem"
        return f"FROM {report.base_image}: {made_by}" if report.base_image else f"base image: {made_by}"
    return layer.origin.history_text


def layer_table(report: LayersReport) -> Table:
    largest = max((layer.file_bytes for layer in report.layers), default=0)
    table = Table(title="Layers, oldest first (bars: [red]█[/] waste); under each, its largest folders", title_justify="left")
    for name, justify in (("#", "right"), ("line", "right"), ("instruction", "left"), ("size", "right"), ("", "left"), ("waste", "right")):
        table.add_column(name, justify=justify, overflow="fold" if name == "instruction" else "ellipsis", no_wrap=name == "")
    for layer in report.layers:
        kept, waste = bar(layer.file_bytes, layer.waste_bytes, largest)
        cells = Text("█" * kept, style="cyan") + Text("█" * waste, style="red")
        folders = "".join(f"\n  [dim]{escape(path)} {human_size(size)}[/]" for path, size, _ in layer.largest_folders[:3])
        table.add_row(
            str(layer.index), where(layer), escape(short(layer_label(layer, report), 72)) + folders, human_size(layer.file_bytes),
            cells, human_size(layer.waste_bytes) if layer.waste_bytes else "",
        )
    return table


def rule_cell(rule: RuleMatch | None) -> str:
    if rule is None:
        return "no rule yet"
    if rule.status == FIRES:
        return f"{rule.code} {rule.name}" + (" (fix)" if rule.fixable else "")
    if rule.status == SILENT:
        return f"{rule.code} {rule.name} (does not fire here)"
    return f"{rule.code} (not in this slimfile yet)"


def estimate_cell(rule: RuleMatch | None) -> str:
    return rule.estimate if rule is not None and rule.estimate else "-"


def item_line(item: WasteItem) -> str:
    if item.line is None:
        return "-"
    return str(item.line)


def waste_table(report: LayersReport) -> Table:
    table = Table(title="Waste, largest first", title_justify="left")
    for name, justify in (("line", "right"), ("what", "left"), ("measured", "right"), ("rule that removes it", "left"), ("fix estimate", "left")):
        table.add_column(name, justify=justify, overflow="fold")
    for item in report.waste[:SHOWN_WASTE]:
        base = "[dim]base image[/] " if item.from_base else ""
        example = f"\n[dim]{escape(item.examples[0][0])}{' ...' if item.files > 1 else ''}[/]" if item.examples else ""
        table.add_row(
            item_line(item), base + escape(item.describe()) + example, f"{human_size(item.bytes)}\n[dim]{plural(item.files, 'file')}[/]",
            escape(rule_cell(item.rule)), escape(estimate_cell(item.rule)),
        )
    hidden = report.waste[SHOWN_WASTE:]
    if hidden:
        table.caption = f"{len(hidden)} smaller items ({human_size(sum(i.bytes for i in hidden))}) not shown: --output-format json lists them all"
    return table


def rule_table(report: LayersReport) -> Table:
    table = Table(title="By rule", title_justify="left")
    for name, justify in (("rule", "left"), ("status", "left"), ("measured waste", "right"), ("fix estimate", "left")):
        table.add_column(name, justify=justify)
    status = {FIRES: "[green]fires: fix available[/]", SILENT: "does not fire here", PENDING: "not in this slimfile yet"}
    for total in report.rule_totals():
        name = f"{total.code} {total.name}" if total.name else total.code
        table.add_row(escape(name), status.get(total.status, total.status), human_size(total.measured_bytes), escape(", ".join(total.estimates) or "-"))
    return table


def _footer(report: LayersReport, console: Console) -> None:
    for mismatch in report.mismatches:
        console.print(f"[yellow]warning:[/] the image does not match the Dockerfile: {escape(mismatch)}")
    for note in report.notes:
        console.print(f"note: {escape(note)}")
    if report.fail_under is not None:
        verdict = "below" if report.exit_code == 1 else "not below"
        console.print(f"efficiency {report.efficiency * 100:.1f}% is {verdict} --fail-under {report.fail_under:g}%")
    for tag in report.not_removed:
        console.print(f"[yellow]warning:[/] could not remove {escape(tag)}")
