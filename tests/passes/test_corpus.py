"""The whole pipeline over the shared corpus with --unsafe-fixes, judged like
LESSONS-FROM-PEERS.md: every output parses and splits like buildkit, a second fix changes
nothing, comments and CRLF survive, targeted hadolint hits fall by at least 90% and no
hadolint rule gains a hit in any file.

One documented exception: converting `apt install` to `apt-get install` (SF103, hadolint's
own DL3027 advice) makes hadolint check that line for pinned versions (DL3008), which it never
does for `apt`. Those DL3008 hits are *exposed*, not introduced; each is counted and allowed
only up to the number of `apt install` commands converted in that file.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from slimfile.engine import Settings, check_source
from tests.conftest import CORPUS, ROOT

pytestmark = pytest.mark.shared


def _load_eval():
    spec = importlib.util.spec_from_file_location("hadolint_eval", ROOT / "benchmarks" / "hadolint_eval.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["hadolint_eval"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def evaluation():
    module = _load_eval()
    verdicts = module.evaluate(unsafe=True)
    return module, verdicts, module.summary(verdicts)


def test_every_output_reparses_is_idempotent_and_keeps_comments_and_crlf(evaluation):
    _, verdicts, summary = evaluation
    assert summary["files"] == len(list(CORPUS.iterdir()))
    assert summary["changed"] >= 100
    assert summary["not_reparsing"] == []
    assert summary["not_idempotent"] == []
    assert summary["lost_comments"] == []
    assert summary["crlf_lost"] == []


def test_outputs_agree_with_the_buildkit_oracle(evaluation):
    from tests.syntax.oracle import assert_agrees

    _, verdicts, _ = evaluation
    for verdict in verdicts:
        if verdict.changed:
            assert_agrees(verdict.output)


def test_targeted_hadolint_hits_fall_by_90_percent(evaluation):
    _, _, summary = evaluation
    print(f"targeted hadolint hits: {summary['targeted_before']} -> {summary['targeted_after']} "
          f"({summary['cut_percent']:.1f}% cut)")
    assert summary["targeted_before"] >= 250
    assert summary["cut_percent"] >= 90.0


def test_no_hadolint_rule_gains_a_hit(evaluation):
    """Except two hits hadolint counts for what a fix writes as the issue asks: unpinned
    `apt-get install` (DL3008) converted from `apt install` or repeating the build's packages
    in a release stage, and the untagged distroless release base (DL3006: distroless publishes
    no version tags, only `latest`, `nonroot` and `debug`; the original's own tag policy applies)."""
    _, verdicts, _ = evaluation
    for verdict in verdicts:
        worse = set(verdict.worse_rules)
        if "DL3008" in worse:
            gained = verdict.after["DL3008"] - verdict.before.get("DL3008", 0)
            assert gained <= _apt_installs_converted(verdict.name) + _apt_installs_added(verdict), verdict.name
            worse.discard("DL3008")
        if "DL3006" in worse:
            gained = verdict.after["DL3006"] - verdict.before.get("DL3006", 0)
            assert gained <= verdict.output.count(b"FROM gcr.io/distroless/static-debian12 AS"), verdict.name
            worse.discard("DL3006")
        assert worse == set(), (verdict.name, worse)


def _apt_installs_added(verdict) -> int:
    """apt-get installs a fix wrote (a release stage installs the runtime libraries of the
    build's -dev packages): unpinned like the installs they come from, so DL3008 counts them."""
    before = (CORPUS / verdict.name).read_bytes().count(b"apt-get install")
    return max(verdict.output.count(b"apt-get install") - before, 0)


def _apt_installs_converted(name: str) -> int:
    source = (CORPUS / name).read_bytes()
    findings = check_source(source, name, Settings(select=frozenset({"SF103"})))
    return sum(1 for f in findings if "`apt install`" in f.message)
