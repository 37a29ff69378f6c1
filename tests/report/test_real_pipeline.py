"""Every report format over real corpus files (the sample kept in tests/data) with the real pass pipeline (no sample pass):
SARIF and rdjson validate, and each offered fix, as SARIF replacements or as a whole-line
suggestion, gives the same text as applying that fix alone."""

from __future__ import annotations

import json

import jsonschema
import pytest

from slimfile.engine import Settings
from slimfile.report import github, markdown, rdjson, sarif
from slimfile.report.model import Report
from slimfile.runner import Job, run_jobs
from slimfile.syntax.edits import Edit, apply_edits, apply_fixes
from tests.conftest import CORPUS_SAMPLE, corpus_sample

SAMPLE = corpus_sample()


@pytest.fixture(scope="module")
def report() -> Report:
    outcomes = run_jobs([Job(str(p), "check", Settings(unsafe_fixes=True)) for p in SAMPLE], workers=2)
    errors = [o.error for o in outcomes if o.error is not None]
    good = [o for o in outcomes if o.error is None]
    report = Report.from_outcomes(good, errors=errors, unsafe_fixes=True, root=CORPUS_SAMPLE)
    assert report.finding_count > 50, "the real pipeline should find plenty in the corpus"
    return report


def validator(path):
    schema = json.loads(path.read_text())
    return jsonschema.validators.validator_for(schema)(schema)


def test_sarif_validates(report, schemas_dir):
    document = json.loads(sarif.render(report))
    validator(schemas_dir / "sarif-schema-2.1.0.json").validate(document)
    assert len(document["runs"][0]["results"]) == report.finding_count


def test_rdjson_validates(report, schemas_dir):
    document = json.loads(rdjson.render(report))
    validator(schemas_dir / "rdjson" / "DiagnosticResult.json").validate(document)


def test_sarif_fixes_equal_the_fixes(report):
    results = json.loads(sarif.render(report))["runs"][0]["results"]
    pairs = list(report.items())
    assert len(results) == len(pairs)
    checked = created = 0
    for (file, finding), result in zip(pairs, results):
        if "fixes" not in result:
            continue
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        changes = result["fixes"][0]["artifactChanges"]
        edits = []
        for change in changes:
            if change["artifactLocation"] != location:
                continue
            for replacement in change["replacements"]:
                region = replacement["deletedRegion"]
                start = region["byteOffset"]
                edits.append(Edit(start, start + region["byteLength"], replacement["insertedContent"]["text"].encode()))
        assert apply_edits(file.source, edits) == apply_fixes(file.source, [finding.fix])
        # each file the fix creates is an artifact of its own: one insertion into an empty file
        new_files = [c for c in changes if c["artifactLocation"] != location]
        assert [c["replacements"][0]["insertedContent"]["text"].encode() for c in new_files] == [n.content for n in finding.fix.creates]
        assert all(c["replacements"][0]["deletedRegion"]["byteLength"] == 0 for c in new_files)
        checked += 1
        created += len(new_files)
    assert checked > 20


def test_rdjson_suggestions_equal_the_fixes(report):
    # a finding's diagnostics: not errors (no code), not the new files a fix creates (related_locations)
    diagnostics = [d for d in json.loads(rdjson.render(report))["diagnostics"] if "code" in d and "related_locations" not in d]
    checked = 0
    for (file, finding), diagnostic in zip(report.items(), diagnostics):
        if "suggestions" not in diagnostic:
            continue
        (suggestion,) = diagnostic["suggestions"]
        source = file.source.decode("utf-8", "surrogateescape")
        newline = "\r\n" if "\r\n" in source else "\n"
        lines = source.split(newline)
        start, end = suggestion["range"]["start"]["line"], suggestion["range"]["end"]["line"]
        lines[start - 1 : end] = suggestion["text"].split("\n") if suggestion["text"] else []
        expected = apply_fixes(file.source, [finding.fix]).decode("utf-8", "surrogateescape")
        assert newline.join(lines) == expected
        checked += 1
    assert checked > 20


def test_github_and_markdown_cover_every_finding(report):
    annotations = github.render(report).splitlines()
    assert sum(line.startswith("::warning ") for line in annotations) == report.finding_count
    comment = markdown.render(report)
    assert comment.count("**`SF") == report.finding_count


def test_what_stops_the_build_is_an_error_in_every_format(tmp_path, schemas_dir):
    """SF001 (the builder rejects the line) is reported at the error level, every other rule
    at the warning level: SARIF results and rule defaults, rdjson diagnostics, GitHub
    annotations. The documents still validate."""
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM debian:12\nCOPPY . /app\nRUN apt-get update && apt-get install -y curl\n")
    [outcome] = run_jobs([Job(str(path), "check", Settings())], workers=1)
    report = Report.from_outcomes([outcome], errors=[], unsafe_fixes=False, root=tmp_path)
    codes = [finding.rule.code for _file, finding in report.items()]
    assert "SF001" in codes and len(set(codes)) > 1
    expected = ["error" if code == "SF001" else "warning" for code in codes]

    document = json.loads(sarif.render(report))
    validator(schemas_dir / "sarif-schema-2.1.0.json").validate(document)
    run = document["runs"][0]
    assert [result["level"] for result in run["results"]] == expected
    assert {rule["id"]: rule["defaultConfiguration"]["level"] for rule in run["tool"]["driver"]["rules"]}["SF001"] == "error"

    document = json.loads(rdjson.render(report))
    validator(schemas_dir / "rdjson" / "DiagnosticResult.json").validate(document)
    assert [d["severity"] for d in document["diagnostics"]] == [level.upper() for level in expected]

    annotations = github.render(report).splitlines()
    assert [line.split(" ", 1)[0] for line in annotations] == [f"::{level}" for level in expected]
