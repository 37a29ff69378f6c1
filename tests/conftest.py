"""Shared test data locations, and what happens to tests whose data or engine is missing.
Area-specific fixtures live in each tests/<area>/conftest.py."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SLIMFILE_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "files"
CASES = SHARED / "parsing" / "cases"
BUILDKIT_TESTFILES = SHARED / "parsing" / "buildkit-testfiles"
FIXTURES = ROOT / "fixtures"

# in the repository, so that a fresh clone can run the tests (tests/data/README.md)
DATA = ROOT / "tests" / "data"
CORPUS_SAMPLE = DATA / "corpus-sample"
HAND_CASES = DATA / "parsing-cases"
SCHEMAS = DATA / "schemas"


def shared_files(*directories: Path) -> list[Path]:
    """The files of shared directories; none when ``../shared`` is absent (the tests that use
    them carry the ``shared`` marker, which skips them with the reason)."""
    files: list[Path] = []
    for directory in directories:
        if directory.is_dir():
            files.extend(sorted(p for p in directory.iterdir() if p.is_file() and p.name != "NOTICE"))
    return files


def all_inputs() -> list[Path]:
    """Every shared Dockerfile: the corpus, the hand cases and buildkit's parser test files."""
    return shared_files(CORPUS, CASES, BUILDKIT_TESTFILES)


def corpus_files() -> list[Path]:
    """The whole shared corpus (marker ``shared``)."""
    return shared_files(CORPUS)


def corpus_sample() -> list[Path]:
    """The corpus files kept in the repository (tests/data/corpus-sample): always there."""
    return sorted(p for p in CORPUS_SAMPLE.iterdir() if p.is_file() and p.name != "SOURCES.tsv")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    problem = missing_shared()
    if problem:
        skip_or_fail(problem)
    return SHARED


# --- tests that need ../shared or a Docker engine ----------------------------------------------
# Marked `shared` or `docker`, they are skipped with a reason that says how to enable them when
# what they need is absent, and listed at the end of the run. Under SLIMFILE_REQUIRE_ALL=1 (set
# by .ci/run) such a skip is a failure instead, so CI always runs every test.

REQUIRE_ALL = "SLIMFILE_REQUIRE_ALL"
SHARED_HINT = "clone it beside the checkout or set SLIMFILE_SHARED"
DOCKER_HINT = (
    "run ZOO_EXTRA=1 ../shared/docker-zoo/setup.sh as root (the tests run it themselves as root when it is there), "
    "or point DOCKER_HOST at an engine that has the images"
)
BROWSER_HINT = "apt-get install -y chromium (.ci/run installs it)"
GROUPS = {
    "shared": ("needs ../shared (the shared corpus)", SHARED_HINT),
    "docker": ("needs a Docker engine with the docker-zoo base images and extras", DOCKER_HINT),
    "browser": ("needs Chromium for the headless-browser tests", BROWSER_HINT),
}


def require_all() -> bool:
    return os.environ.get(REQUIRE_ALL, "") not in ("", "0")


def missing_shared() -> str | None:
    if CORPUS.is_dir():
        return None
    what, hint = GROUPS["shared"]
    return f"{what}, not found at {SHARED}: {hint}"


def missing_docker() -> str | None:
    from tests.docker_engine import engine_problem

    problem = engine_problem()
    if problem is None:
        return None
    what, hint = GROUPS["docker"]
    return f"{what} ({problem}): {hint}"


def missing_browser() -> str | None:
    import shutil

    if shutil.which("chromium") or shutil.which("chromium-browser"):
        return None
    what, hint = GROUPS["browser"]
    return f"{what}: {hint}"


def skip_or_fail(reason: str) -> None:
    if require_all():
        pytest.fail(f"{REQUIRE_ALL}=1 and this test {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C back to Python's default. A shell without job control starts background jobs with
    SIGINT ignored (`.ci/run &` in a script), and an ignored signal is inherited: the tests that
    press Ctrl-C, in this process or in a `slimfile verify` they start, would see nothing."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Shared-data tests get their skip reason at collection, before pytest's own "got empty
    parameter set" (a parametrization over shared files that are absent) can take its place."""
    problem = missing_shared()
    if problem is None or require_all():
        return
    for item in items:
        if item.get_closest_marker("shared") is not None:
            item.add_marker(pytest.mark.skip(reason=problem), append=False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before pytest's own skip marks (so that SLIMFILE_REQUIRE_ALL=1 turns a missing ../shared
    into a failure even for an empty parametrization); the engine is looked for once, lazily."""
    if item.get_closest_marker("shared") is not None and (problem := missing_shared()):
        skip_or_fail(problem)
    if item.get_closest_marker("docker") is not None and (problem := missing_docker()):
        skip_or_fail(problem)
    if item.get_closest_marker("browser") is not None and (problem := missing_browser()):
        skip_or_fail(problem)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under SLIMFILE_REQUIRE_ALL=1 a run that collects no test fails (as .ci/run says)."""
    if require_all() and exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """After a run with skips: which groups were skipped, and how to run them."""
    counts: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        for group, (what, _hint) in GROUPS.items():
            if what in reason:
                counts[group] += 1
    if not counts:
        return
    terminalreporter.section("skipped test groups and how to enable them")
    for group, count in counts.items():
        what, hint = GROUPS[group]
        terminalreporter.write_line(f"{group} ({count} tests): {what}: {hint}")
    terminalreporter.write_line(f"{REQUIRE_ALL}=1 (as .ci/run sets it) turns these skips into failures.")
