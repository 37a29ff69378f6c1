"""Fixes compose: over whole files with every rule and ``--unsafe-fixes``, no fix brings a
command into a RUN that the RUN already runs (or that another fix brings), and no fix leaves
a run of blanks inside a line (see ``output_checks.py`` for the exact definitions).

Run on every shared corpus file (marker ``shared``) and on the repository's own fixture apps
and pass fixtures (always)."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimfile.engine import Settings, fix_source
from slimfile.syntax.errors import DockerfileError
from tests.conftest import FIXTURES
from tests.passes.output_checks import introduced_duplicates, introduced_space_runs

SETTINGS = Settings(unsafe_fixes=True, build_context="no-such-context")


def composition_problems(paths: list[Path]) -> tuple[int, list[str]]:
    """(files fixed, problems found) for every file that parses."""
    problems: list[str] = []
    fixed = 0
    for path in paths:
        source = path.read_bytes()
        try:
            output = fix_source(source, str(path), SETTINGS).output
        except DockerfileError:
            continue
        fixed += output != source
        found = introduced_duplicates(source, output) + introduced_space_runs(source, output)
        problems += [f"{path}: {problem}" for problem in found]
    return fixed, problems


def repository_files() -> list[Path]:
    apps = sorted(p for p in (FIXTURES / "apps").rglob("*") if p.is_file() and "Dockerfile" in p.name)
    return apps + sorted((FIXTURES / "passes").glob("*/*/*.Dockerfile"))


@pytest.mark.shared
def test_corpus_fixes_compose(shared_dir):
    corpus = sorted(p for p in (shared_dir / "corpus" / "files").iterdir() if p.is_file())
    fixed, problems = composition_problems(corpus)
    assert fixed >= 100, "the corpus check must see real fixes"
    assert problems == []


def test_repository_fixtures_compose():
    files = repository_files()
    fixed, problems = composition_problems(files)
    assert len(files) >= 100 and fixed >= 50
    assert problems == []


def test_the_issue_example_removes_the_lists_once_with_the_files_spacing():
    source = (
        b"FROM debian:bookworm-slim\n"
        b"RUN apt-get update && apt-get install -y curl\n"
        b"RUN apt-get clean\n"
        b"RUN rm -rf /var/lib/apt/lists/*\n"
    )
    output = fix_source(source, "Dockerfile", Settings()).output
    assert output == (
        b"FROM debian:bookworm-slim\n"
        b"RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/* && apt-get clean\n"
    )


def test_checks_see_what_they_are_meant_to_see():
    """The definitions flag the output the issue reported, and allow what the author wrote."""
    before = b"FROM debian\nRUN apt-get update && apt-get install -y curl\nRUN apt-get clean\nRUN rm -rf /var/lib/apt/lists/*\n"
    bad = (b"FROM debian\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/* "
           b"&& apt-get clean     && rm -rf /var/lib/apt/lists/*\n")
    assert len(introduced_duplicates(before, bad)) == 1
    assert len(introduced_space_runs(before, bad)) == 1
    # a copy after a command that writes the lists again does work: not a duplicate
    again = (b"FROM debian\nRUN rm -rf /var/lib/apt/lists/* && apt-get update && apt-get install -y curl "
             b"&& rm -rf /var/lib/apt/lists/*\n")
    assert introduced_duplicates(before, again) == []
    # the author's own repetition, merged, is the author's
    twice = b"FROM debian\nRUN echo hi\nRUN echo hi\n"
    assert introduced_duplicates(twice, b"FROM debian\nRUN echo hi && echo hi\n") == []
    # alignment the author wrote stays the author's when an option goes in before it
    aligned = b"FROM debian\nRUN apt-get install    curl\n"
    assert introduced_space_runs(aligned, b"FROM debian\nRUN apt-get install -y    curl\n") == []
    # a copy after one that may have been skipped (`|| ...`, an `if` body) does work too
    skipped = b"FROM fedora\nRUN dnf install -y x && dnf clean all || echo failed && dnf clean all\n"
    assert introduced_duplicates(b"FROM fedora\nRUN dnf install -y x\n", skipped) == []
    in_if = b"FROM fedora\nRUN if [ -f x ]; then dnf clean all; fi && dnf clean all\n"
    assert introduced_duplicates(b"FROM fedora\nRUN echo\n", in_if) == []
    plain = b"FROM fedora\nRUN dnf install -y x && dnf clean all && echo && dnf clean all\n"
    assert len(introduced_duplicates(b"FROM fedora\nRUN dnf install -y x\n", plain)) == 1


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        # fuzz seed 2: SF404 put the prune inside the braces, then SF501 moved the later RUN's
        # prune in as well, the one inside the braces being read as perhaps skipped
        (b"RUN { pnpm install --frozen-lockfile; } && echo done\n",
         b"RUN { pnpm install --frozen-lockfile && pnpm store prune; } && echo done\n"),
        (b"RUN (pnpm install --frozen-lockfile) && echo done\n",
         b"RUN (pnpm install --frozen-lockfile && pnpm store prune) && echo done\n"),
        # the group may fail and the RUN still end well (`&& ci ; SCRIPT`): the prune goes to the
        # end of the RUN, where it always runs (fuzz seed 2, minimized), as it would after a
        # command at the top level; a subshell only when nothing in it changes the shell's state
        (b"RUN { pnpm install --frozen-lockfile; } && ci ; SCRIPT\n",
         b"RUN { pnpm install --frozen-lockfile; } && ci ; SCRIPT && pnpm store prune\n"),
        (b"RUN (pnpm install --frozen-lockfile) && ci ; SCRIPT\n",
         b"RUN (pnpm install --frozen-lockfile) && ci ; SCRIPT && pnpm store prune\n"),
    ],
)
def test_a_cleanup_inside_a_group_that_must_succeed_is_not_brought_again(first: bytes, expected: bytes):
    head = b"FROM node:20\nWORKDIR /app\n"
    source = head + first + b"RUN pnpm store prune\n"
    output = fix_source(source, "Dockerfile", SETTINGS).output
    assert introduced_duplicates(source, output) == []
    assert output.count(b"pnpm store prune") == 1
    assert output.startswith(head + expected)


def test_a_cleanup_stays_in_a_subshell_that_changes_directory():
    """What a subshell changes (here its directory: pnpm reads .npmrc there) does not reach the
    end of the RUN, so the prune stays after the install, inside the subshell."""
    source = b"FROM node:20\nRUN (cd /srv && pnpm install --frozen-lockfile) && ci ; SCRIPT\n"
    output = fix_source(source, "Dockerfile", Settings(select=frozenset({"SF404"}))).output
    assert output == b"FROM node:20\nRUN (cd /srv && pnpm install --frozen-lockfile && pnpm store prune) && ci ; SCRIPT\n"
