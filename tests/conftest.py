"""Shared test data locations. Area-specific fixtures live in each tests/<area>/conftest.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SLIMFILE_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "files"
CASES = SHARED / "parsing" / "cases"
BUILDKIT_TESTFILES = SHARED / "parsing" / "buildkit-testfiles"
FIXTURES = ROOT / "fixtures"


def shared_files(*directories: Path) -> list[Path]:
    files: list[Path] = []
    for directory in directories:
        files.extend(sorted(p for p in directory.iterdir() if p.is_file() and p.name != "NOTICE"))
    return files


def all_inputs() -> list[Path]:
    """Every shared Dockerfile: the corpus, the hand cases and buildkit's parser test files."""
    return shared_files(CORPUS, CASES, BUILDKIT_TESTFILES)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"shared test data not found at {SHARED} (set SLIMFILE_SHARED)")
    return SHARED
