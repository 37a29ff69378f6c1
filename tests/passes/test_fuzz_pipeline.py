"""Fuzzing the passes: Dockerfiles written from the grammar (``pipeline_strategy.py``) go through
the whole pipeline with ``--unsafe-fixes``. No crash, the output parses, a second run changes
nothing, the engine's guard drops no fix, every comment line and the line endings are kept,
no fix repeats a command in a RUN or leaves a new run of blanks (``output_checks.py``).

The suite runs 5,000 examples (``SLIMFILE_HYPOTHESIS_EXAMPLES``, default 5000), the same ones
on every run; ``benchmarks/fuzz.py`` explores 100,000 new ones and prints the count of failures. Every failure found so far is a regression
test below, with the pass that was wrong.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from slimfile.syntax import parse
from tests.passes.output_checks import pipeline_problems
from tests.passes.pipeline_strategy import pipeline_dockerfiles

EXAMPLES = int(os.environ.get("SLIMFILE_HYPOTHESIS_EXAMPLES", "5000"))
# The same examples on every run (CI, a fresh clone): the test suite must not pass or fail by
# chance. New inputs are explored by `benchmarks/fuzz.py`, whose failures become regressions
# below once fixed (docs/benchmarks.md "Fuzzing the pipeline" lists the open ones).
PROFILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@PROFILE
@given(pipeline_dockerfiles())
def test_the_pipeline_on_generated_dockerfiles(source: bytes):
    problems = pipeline_problems(source)
    assert problems is None or problems == [], "\n".join(problems or [])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pipeline_dockerfiles())
def test_the_generator_writes_dockerfiles(source: bytes):
    """Inputs slimfile refuses are not judged, so the generator must not write them."""
    parse(source)


# -- regressions: each was a failure of the generated examples ---------------------------------------

REGRESSIONS = {
    # SF202 named a second group of build tools `.build-deps` too: adding to an existing virtual
    # package replaces what it holds (gcc and musl-dev would stay), and `apk del .build-deps`
    # came twice
    "sf202-second-virtual-group": (
        b"FROM alpine:3.20\n"
        b"RUN apk add --virtual .build-deps gcc musl-dev \\\n"
        b"        || rm -rf /root/.cache/pip \\\n"
        b"        && apk add -U --no-cache git \\\n"
        b"        && apt-get update # done\n"
    ),
    # SF106 put `apt-get update` before an install in a RUN that runs `apt-get update` after it
    "sf106-update-later-in-the-run": (
        b"FROM ruby:3.3 AS runtime\n"
        b"RUN apt-get update\n"
        b"FROM runtime\n"
        b"RUN apt-get install -y curl && apt-get update\n"
    ),
    # SF302 only counted a `clean all` of the same tool: `microdnf clean all` after `yum install`
    # cleans the same caches, and `yum clean all` came on top
    "sf302-another-tool-of-the-family-cleans": b"FROM fedora:40\nRUN yum install -y httpd && microdnf clean all || true\n",
    # SF501 deleted a cleanup RUN that only repeats what the RUN before it does, and its comment
    # line inside the continuation went with it
    "sf501-deleted-run-keeps-its-comment-lines": (
        b"FROM node:20\nRUN npm ci\nRUN npm cache clean --force\nRUN npm cache clean \\\n    # note\n    --force\n"
    ),
    # SF106 prefixed both installs with `apt-get update`, then SF502 merged them: an update twice in
    # a row (the merge is refused when the second RUN starts by doing what the first already did)
    "sf502-update-twice-in-a-row": (
        b"FROM debian AS runtime\nRUN echo hi && apt-get update\nRUN apt-get install -y a\nRUN apt-get install -y b\n"
    ),
    # SF302 added `yum clean all` before `|| gem install`, SF501 then moved a `dnf clean all` in:
    # the second one runs when the first did not (not a duplicate)
    "sf501-after-a-cleanup-that-may-not-run": (
        b"FROM fedora\nRUN yum install -y x && /src || gem install y\nRUN \\\ndnf clean all\n"
    ),
    # SF105 added `rm -rf /var/lib/apt/lists/*` before `; pip3 ...`; SF501 then moved the same
    # removal in at the end: the first always runs (it starts a list), so the second did nothing
    "sf501-removal-that-starts-a-list-counts": (
        b"FROM debian\nRUN apt-get update || true\nRUN apt-get install -y curl && apt-get upgrade -y ; pip3 install x\n"
        b"RUN pip cache purge \\\n\t&& rm -rf /var/lib/apt/lists/*\n"
    ),
    # SF302 appended `microdnf clean all` right after the install, where the `;` list may skip
    # it; SF501 then moved `yum clean` in at the end of the RUN: the same clean twice. Appending
    # fixes now go where the command always runs (the end of the RUN), and SF501 adds nothing
    "sf302-clean-in-a-list-that-may-be-skipped": (
        b"FROM\nRUN microdnf install shadow-utils \\\n\t&& /tmp/log \\\n\t; -m\nRun yum clean\n"
    ),
    # the same with a language cache (SF402): `yarn cache clean` came twice
    "sf402-yarn-clean-in-a-list-that-may-be-skipped": b"FROM node:20\nRUN yarn install && /tmp/log ; ls\nRUN yarn cache clean\n",
    # SF801 (base swap) and SF902 (USER) make the guard compare the final config; SF401's edit
    # of an ONBUILD trigger changed OnBuild, so each round kept one fix: no convergence in 12
    "onbuild-edit-beside-a-config-declaring-fix": (
        b"from ruby:3.3 as test\nCOPY src/ /app/src/\nrun apt-get update \\\n; apt-get install\nFROM test\n"
        b"RUN pip install\nRUN microdnf && apk add ; gem install\nRun apt-get dist-upgrade\n/app\n"
        b"run <<'EOF'\ninstall && apt-get install\nEOF\nFROM node:20\nonbuild RUN pip install\n"
    ),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regressions(name: str):
    assert pipeline_problems(REGRESSIONS[name]) == []
