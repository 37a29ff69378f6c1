"""The hand-labelled corpus RUNs (tests/shell/data/labelled_runs.json): every fact must match.

The labels were written by reading each RUN's source, not by running slimfile; see the file's
"about" for the label format.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slimfile.shell.analyze import analyze_run
from slimfile.shell.model import ShellScript
from slimfile.shell.packages import PackageFact
from slimfile.syntax import parse
from tests.conftest import CORPUS

LABELS = json.loads((Path(__file__).parent / "data" / "labelled_runs.json").read_text())["runs"]


def test_the_labelled_set_is_large_enough() -> None:
    modelled = [entry for entry in LABELS if "opaque" not in entry]
    assert len(modelled) >= 100
    assert sum(len(entry["packages"]) for entry in modelled) >= 150


def _run_at(file: str, line: int):
    dockerfile = parse((CORPUS / file).read_bytes(), path=file)
    for instruction in dockerfile.walk():
        if instruction.name == "RUN" and instruction.lines and instruction.start_line == line:
            return analyze_run(dockerfile, instruction)
    raise AssertionError(f"no RUN at {file}:{line}")


def _options(fact: PackageFact) -> list[str]:
    """Options as the labels write them: their words unquoted and joined, a bundle once."""
    out: list[str] = []
    seen_words: set[int] = set()
    for option in fact.options:
        if option.words[0].text_start in seen_words:
            continue
        seen_words.add(option.words[0].text_start)
        out.append(" ".join(word.value for word in option.words))
    return out


def _package(fact: PackageFact, label: dict) -> dict:
    got = {
        "manager": fact.manager,
        "action": fact.action,
        "packages": list(fact.package_names),
        "options": _options(fact),
    }
    if "traits" in label:
        got["traits"] = sorted(fact.traits)
    return got


def _expected_package(label: dict) -> dict:
    expected = {
        "manager": label["manager"],
        "action": label["action"],
        "packages": label.get("packages", []),
        "options": label.get("options", []),
    }
    if "traits" in label:
        expected["traits"] = sorted(label["traits"])
    return expected


def _cleanup_tuples(script: ShellScript) -> list[tuple]:
    return [
        (c.manager, c.kind, c.word.value if c.word else None, c.coverage if c.kind == "remove-path" else None)
        for c in script.cleanups
    ]


def _expected_cleanups(labels: list[dict]) -> list[tuple]:
    return [(c["manager"], c["kind"], c.get("path"), c.get("coverage")) for c in labels]


@pytest.mark.shared
@pytest.mark.parametrize("entry", LABELS, ids=[f"{e['file']}:{e['line']}" for e in LABELS])
def test_labelled_run(entry: dict) -> None:
    result = _run_at(entry["file"], entry["line"])
    if "opaque" in entry:
        assert result.opaque is not None and entry["opaque"] in result.opaque
        return
    assert isinstance(result, ShellScript), result.opaque
    assert [c.name for c in result.commands] == entry["commands"]
    expected = [_expected_package(p) for p in entry["packages"]]
    got = [_package(fact, label) for fact, label in zip(result.packages, entry["packages"])]
    assert len(result.packages) == len(entry["packages"]), [f.manager + " " + f.action for f in result.packages]
    assert got == expected
    if "cleanups" in entry:
        assert _cleanup_tuples(result) == _expected_cleanups(entry["cleanups"])
