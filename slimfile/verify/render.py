"""The report for people: a before/after table, the layers with the lines that made them,
config and file differences, the ``--run`` comparison, per-fix savings and the verdict."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from slimfile.report.text import plural
from slimfile.verify.config_diff import CONFIG_FIELDS
from slimfile.verify.fs_diff import FsDiff
from slimfile.verify.layers import LayerChange, LayerRow
from slimfile.verify.report import INSTRUCTION_WIDTH, ImageFacts, VerifyReport, human_size, signed_size

SHOWN_CHANGES = 20


def render(report: VerifyReport, console: Console) -> None:
    console.print(f"[bold]slimfile verify[/] {escape(report.dockerfile)} (context {escape(report.context)})")
    if report.engine:
        console.print(f"engine: Docker {report.engine.get('engine')} (API {report.engine.get('api')}), client {escape(report.engine.get('cli', ''))}")
    _rewrite(report, console)
    if report.error_log:
        console.print("[bold]build output (end):[/]")
        console.print(escape("\n".join(report.error_log)), highlight=False)
    _retried(report, console)
    if report.before is not None:
        console.print(_summary_table(report))
        for title, facts in (("original", report.before), ("rewritten", report.after)):
            if facts is not None and facts.rows:
                console.print(_layer_table(f"Layers of the {title} image (oldest first; lines of the {title} Dockerfile)", facts))
        _layer_changes(report.layer_changes, console)
        _config(report, console)
        if report.files is not None:
            _files(report.files, console)
        _run(report, console)
        _per_fix(report, console)
    _images(report, console)
    _verdict(report, console)


def _rewrite(report: VerifyReport, console: Console) -> None:
    rewrite = report.rewrite
    if rewrite is None:
        return
    if not rewrite.applied and rewrite.changed:
        console.print("rewrite: a hand-written Dockerfile (no fix applied, so every difference counts)")
    elif not rewrite.applied:
        console.print("rewrite: no fix applies, so the rewritten Dockerfile is the original (both are built and compared)")
    else:
        codes = ", ".join(sorted({a["code"] for a in rewrite.applied}))
        declares = ", ".join(rewrite.declares) or "nothing"
        unsafe = sum(1 for fix in rewrite.applied if fix["safety"] == "unsafe")
        note = f", {unsafe} unsafe (distribution files may differ)" if unsafe else ""
        console.print(f"rewrite: {plural(len(rewrite.applied), 'fix', 'fixes')} applied ({codes}{note}); they declare: {declares}")
    for rejected in rewrite.rejected:
        console.print(f"  dropped by the static check: {escape(rejected)}")


def _retried(report: VerifyReport, console: Console) -> None:
    """Builds that failed once: the verdict rests on their second try, and the first failure's
    last line says why it failed (a network fault, most often)."""
    for label, build in report.retried_builds():
        console.print(f"the {label} build {escape(build.retry_note() or '')}")


def _summary_table(report: VerifyReport) -> Table:
    before, after = report.before, report.after
    table = Table(title="Before / after")
    for column in ("", "original", "rewritten", "change"):
        table.add_column(column, justify="right" if column else "left")
    ratio = f" (ratio {report.size_ratio:.4f})" if report.size_ratio is not None else ""
    table.add_row("image size", human_size(before.size), human_size(after.size if after else None), signed_size(report.size_delta) + ratio)
    table.add_row("layers", _num(before.layers), _num(after.layers if after else None), _signed(report.layer_delta))
    table.add_row("cold build", _seconds(before.build.seconds), _seconds(after.build.seconds if after else None) if after and after.build.ok else "failed", "")
    table.add_row(_warm_label(before), _warm(before), _warm(after), "")
    return table


def _warm_label(facts: ImageFacts) -> str:
    probe = facts.warm.probe if facts.warm else None
    return f"warm rebuild ({escape(probe.context_path)} changed)" if probe else "warm rebuild"


def _warm(facts: ImageFacts | None) -> str:
    if facts is None or facts.warm is None:
        return "-"
    build = facts.warm.build
    if build is None:
        return "not measured"
    if not build.ok:
        return "failed"
    return f"{build.cached_steps}/{len(build.steps)} steps cached, {build.seconds:.1f} s"


def _layer_table(title: str, facts: ImageFacts) -> Table:
    table = Table(title=title)
    table.add_column("line", justify="right")
    table.add_column("instruction")
    table.add_column("size", justify="right")
    base = [row for row in facts.rows if row.origin == "base"]
    if base:
        layers = sum(1 for row in base if row.creates_layer)
        table.add_row("", f"base image ({layers} {'layer' if layers == 1 else 'layers'})", human_size(sum(row.size for row in base)))
    for row in facts.rows:
        if row.origin == "dockerfile":
            table.add_row(str(row.line or ""), escape(_short(row.instruction)), human_size(row.size) if row.creates_layer else "-")
    return table


def _layer_changes(changes: list[LayerChange], console: Console) -> None:
    interesting = [c for c in changes if c.kind != "unchanged"]
    if not interesting:
        console.print("layers: no layer was removed, shrunk, grown or added")
        return
    table = Table(title="Layers the rewrite removed, shrank, grew or added")
    for column in ("change", "original", "rewritten", "delta"):
        table.add_column(column, justify="right" if column == "delta" else "left")
    for change in interesting:
        table.add_row(change.kind, _layer_cell(change.before), _layer_cell(change.after), signed_size(change.delta))
    console.print(table)


def _layer_cell(row: LayerRow | None) -> str:
    if row is None:
        return "-"
    where = f"{row.line}: " if row.line else ""
    return escape(f"{where}{_short(row.instruction, 50)} ({human_size(row.size)})")


def _config(report: VerifyReport, console: Console) -> None:
    if not report.config_changes:
        console.print(f"config: identical ({', '.join(CONFIG_FIELDS)})")
        return
    table = Table(title="Config differences")
    table.add_column("field")
    table.add_column("difference")
    for change in report.config_changes:
        table.add_row(change.field, escape(change.describe()))
    console.print(table)


def _files(files: FsDiff, console: Console) -> None:
    app, system = files.by_category("app"), files.by_category("system")
    console.print(
        f"files: {files.compared} paths compared; application files: "
        f"{'identical' if not app else f'{len(app)} differ'}; distribution files: {'identical' if not system else f'{len(system)} differ'}"
    )
    if files.excluded:
        shown = ", ".join("/" + c.path for c in files.excluded[:5])
        more = f" and {len(files.excluded) - 5} more" if len(files.excluded) > 5 else ""
        console.print(
            f"  left out by the created .dockerignore (declared): {plural(len(files.excluded), 'application file')}: "
            + escape(shown + more)
        )
    for change in (app + system)[:SHOWN_CHANGES]:
        console.print("  " + escape(f"[{change.category}] {change.describe()}"), highlight=False)
    if len(app) + len(system) > SHOWN_CHANGES:
        console.print(f"  ... and {len(app) + len(system) - SHOWN_CHANGES} more (see --json)")
    if files.nondeterministic:
        console.print(
            f"  not counted: {plural(len(files.nondeterministic), 'difference')} that a second build of the original shows too "
            f"(the build is not reproducible there), e.g. {escape(files.nondeterministic[0].describe())}"
        )
    for name, totals in files.ignored.items():
        if totals.bytes_before or totals.bytes_after:
            console.print(
                f"  not compared, {escape(name)}: {human_size(totals.bytes_before)} ({plural(totals.files_before, 'file')}) -> "
                f"{human_size(totals.bytes_after)} ({plural(totals.files_after, 'file')})"
            )


def _run(report: VerifyReport, console: Console) -> None:
    run = report.run
    if run is None:
        return
    differences = run.differences()
    if not differences:
        console.print(f"run {escape(run.command or '(own CMD)')}: same exit code ({run.before.exit_code}) and output")
        return
    console.print(f"run {escape(run.command or '(own CMD)')}: " + escape("; ".join(differences)))
    for label, out in (("original", run.before), ("rewritten", run.after)):
        console.print(
            f"  {label}: exit {out.exit_code}, stdout {escape(repr(_short(out.stdout.strip(), 160)))}, "
            f"stderr {escape(repr(_short(out.stderr.strip(), 160)))}",
            highlight=False,
        )


def _per_fix(report: VerifyReport, console: Console) -> None:
    if not report.per_fix:
        return
    table = Table(title="Per fix: each rule alone, and added in pipeline order (the last column adds up to the total)")
    table.add_column("rule", no_wrap=True)
    for column in ("fixes", "saved alone", "saved in sequence"):
        table.add_column(column, justify="right")
    for saving in report.per_fix:
        if not saving.fixes_alone:
            alone = "after other fixes"
        elif saving.size_alone is None:
            alone = "build failed"
        else:
            alone = human_size(saving.saved_alone)
        in_sequence = human_size(saving.saved_in_sequence) if saving.saved_in_sequence is not None else "build failed"
        table.add_row(f"{saving.code} {saving.name}", str(saving.fixes_alone), alone, in_sequence)
    console.print(table)


def _images(report: VerifyReport, console: Console) -> None:
    if report.kept_images:
        console.print("kept (--keep): " + ", ".join(report.kept_images))
    if report.not_removed:
        console.print("[yellow]could not remove:[/] " + ", ".join(report.not_removed))


def _verdict(report: VerifyReport, console: Console) -> None:
    if report.error is not None:
        console.print(f"[bold red]error:[/] {escape(report.error)}")
        return
    if not report.problems:
        console.print("[bold green]verified:[/] the rewrite builds and every difference was declared by a fix")
        return
    console.print(f"[bold red]not verified[/] ({plural(len(report.problems), 'problem')}):")
    for problem in report.problems:
        console.print("  " + escape(f"[{problem.kind}] {problem.message}"), highlight=False)


def _short(text: str, width: int = INSTRUCTION_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _num(value: int | None) -> str:
    return "-" if value is None else str(value)


def _signed(value: int | None) -> str:
    return "-" if value is None else (f"+{value}" if value > 0 else str(value) if value else "±0")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"
