"""Fixtures for the report tests: the sample pass (tests/report/sample_pass.py) installed as the
pipeline, and helpers that run ``check`` over in-memory Dockerfiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SCHEMAS
from tests.report import sample_pass


def install_sample_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the sample pass the whole pipeline, for the engine and for rule-code validation.

    Worker processes are forked, so they inherit the patch too.
    """
    import slimfile.engine
    import slimfile.pipeline

    monkeypatch.setattr(slimfile.engine, "default_passes", lambda: (sample_pass.check,))
    monkeypatch.setattr(slimfile.pipeline, "all_rules", lambda: list(sample_pass.RULES))


@pytest.fixture
def sample_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    install_sample_rules(monkeypatch)


@pytest.fixture(scope="session")
def schemas_dir() -> Path:
    """The SARIF and rdjson schemas, kept in the repository (tests/data/schemas)."""
    return SCHEMAS


SAMPLE = (
    b"FROM debian:12\n"
    b"# install the tools\n"
    b"RUN apt-get update && \\\n"
    b"    apt-get install -y curl && sudo ls\n"
    b"ADD app.tar /srv/\n"
    b"RUN pip install flask\n"
)


def check_files(root: Path, files: dict[str, bytes], *, unsafe_fixes: bool = False, mode: str = "check"):
    """Write ``files`` under ``root`` and check (or fix) them with the current pipeline."""
    from slimfile.engine import Settings
    from slimfile.runner import Job, run_jobs

    jobs = []
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        jobs.append(Job(str(path), mode, Settings(unsafe_fixes=unsafe_fixes)))
    return run_jobs(jobs, workers=1)


def make_report(root: Path, files: dict[str, bytes], *, unsafe_fixes: bool = False, errors=()):
    from slimfile.report.model import Report

    outcomes = check_files(root, files, unsafe_fixes=unsafe_fixes)
    return Report.from_outcomes(outcomes, errors=list(errors), unsafe_fixes=unsafe_fixes, root=root)
