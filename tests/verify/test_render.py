"""The report for people, rendered from a made-up verification (no Docker needed)."""

from rich.console import Console

from slimfile.verify.attribution import RuleSaving
from slimfile.verify.build import BuildResult, Step
from slimfile.verify.cache import Probe, WarmRebuild
from slimfile.verify.config_diff import config_differences
from slimfile.verify.docker_engine import RunOutput
from slimfile.verify.fs_diff import FileChange, FileEntry, FsDiff, IgnoredTotals
from slimfile.verify.layers import LayerRow, compare_layers
from slimfile.verify.render import render
from slimfile.verify.report import ImageFacts, RewriteSummary, VerifyReport
from slimfile.verify.run_compare import RunComparison
from slimfile.verify.verdict import Problem


def facts(size, rows, cached, config):
    steps = [Step(None, 2, 3, "COPY app.py .", True), Step(None, 3, 3, "RUN make", cached)]
    warm = WarmRebuild(Probe(None, "app.py", "srv/app.py", 5), BuildResult("t", True, 0.4, "sha256:w", steps))
    return ImageFacts("slimfile-verify:x", BuildResult("t", True, 3.2, "sha256:c", steps), warm, size, len(rows), rows, config)


def made_up_report():
    before_rows = [LayerRow("", 75_000_000, True), LayerRow("RUN apt-get update", 19_856_468, True, "dockerfile", 4)]
    after_rows = [LayerRow("", 75_000_000, True), LayerRow("RUN apt-get update && rm -rf /var/lib/apt/lists/*", 0, True, "dockerfile", 4)]
    before = facts(94_856_468, before_rows, False, {"Cmd": ["app"]})
    after = facts(75_000_000, after_rows, True, {"Cmd": ["other"]})
    entry = FileEntry("srv/app.py", "file", 0o644, 0, 0, 10, "aa")
    files = FsDiff(
        [FileChange("srv/app.py", "removed", "app", (), entry, None)],
        {"apt lists and archives": IgnoredTotals("lists", 12, 19_856_468, 0, 0)},
        4200,
    )
    run = RunComparison("", RunOutput(0, "ok\n", ""), RunOutput(2, "", "no app.py\n"))
    return VerifyReport(
        "fixtures/apps/x/Dockerfile",
        "/ctx",
        None,
        False,
        engine={"engine": "20.10.24", "api": "1.41", "cli": "/usr/bin/docker"},
        rewrite=RewriteSummary(True, [{"code": "SF101", "name": "apt-lists", "line": 4, "safety": "safe", "declares": []}], [], []),
        before=before,
        after=after,
        layer_changes=compare_layers(before_rows, after_rows),
        config_changes=config_differences(before.config, after.config),
        files=files,
        run=run,
        problems=[Problem("app-files", "application files differ (1): /srv/app.py removed")],
        per_fix=[
            RuleSaving("SF105", "apt-lists-not-removed", (), 0, saved_in_sequence=19_856_468),
            RuleSaving("SF502", "merge-consecutive-runs", (), 2, 93_856_468, 1_000_000, 0),
        ],
    )


def rendered(report) -> str:
    console = Console(record=True, width=140, color_system=None)
    render(report, console)
    return console.export_text()


def test_the_report_shows_every_measure_and_the_verdict():
    text = rendered(made_up_report())
    for expected in (
        "rewrite: 1 fix applied (SF101); they declare: nothing",
        "94.9 MB",
        "-19.9 MB (ratio 0.7907)",
        "warm rebuild (app.py changed)",
        "1/2 steps cached",
        "2/2 steps cached",
        "RUN apt-get update",
        "shrank",
        "Cmd: ['app'] -> ['other']",
        "application files: 1 differ",
        "[app] /srv/app.py removed",
        "apt lists and archives: 19.9 MB (12 files) -> 0 B (0 files)",
        "exit code 0 -> 2",
        "not verified (1 problem):",
    ):
        assert expected in text, expected


def test_per_fix_rows_show_alone_and_in_sequence_savings():
    lines = rendered(made_up_report()).splitlines()
    (sf105,) = [line for line in lines if "SF105 apt-lists-not-removed" in line]
    (sf502,) = [line for line in lines if "SF502 merge-consecutive-runs" in line]
    assert "after other fixes" in sf105 and sf105.rstrip(" │").endswith("19.9 MB")
    assert "1.0 MB" in sf502 and sf502.rstrip(" │").endswith("0 B")


def test_an_error_is_shown_with_the_build_log():
    report = VerifyReport("Dockerfile", "/ctx", None, False, error="the original Dockerfile does not build", error_log=["#5 ERROR: boom [x]"])
    text = rendered(report)
    assert "#5 ERROR: boom [x]" in text and "error: the original Dockerfile does not build" in text
