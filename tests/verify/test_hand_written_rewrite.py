"""A hand-written rewrite verified in place of slimfile's (``VerifyRequest.rewritten``): the
benchmarks measure an expert's Dockerfile against the original this way. No Docker needed."""

from pathlib import Path

from slimfile.verify.report import RewriteSummary, VerifyReport
from slimfile.verify.session import VerifyRequest, prepare, rewrite_summary
from tests.verify.test_render import rendered

ORIGINAL = b"FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
EXPERT = b"FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n"


def test_the_hand_written_file_is_the_rewrite_and_no_fix_is_applied(tmp_path: Path):
    (tmp_path / "Dockerfile").write_bytes(ORIGINAL)
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    expert = tmp_path / "expert.Dockerfile"
    expert.write_bytes(EXPERT)
    prepared = prepare(VerifyRequest(tmp_path / "Dockerfile", rewritten=expert), tmp_path, None)
    assert prepared.source == ORIGINAL
    assert prepared.fixed.output == EXPERT
    assert [n.name for n in prepared.fixed_tree.stages.stages[0].instructions] == ["WORKDIR", "COPY", "RUN", "COPY"]
    summary = rewrite_summary(prepared.fixed)
    # nothing is declared: any difference in files, config or output is a problem
    assert summary.changed and summary.applied == [] and summary.declares == []


def test_the_report_says_the_rewrite_was_written_by_hand():
    report = VerifyReport("Dockerfile", "/ctx", None, False, rewrite=RewriteSummary(True, [], [], []))
    assert "rewrite: a hand-written Dockerfile (no fix applied, so every difference counts)" in rendered(report)
    report.rewrite = RewriteSummary(False, [], [], [])
    assert "no fix applies, so the rewritten Dockerfile is the original" in rendered(report)
