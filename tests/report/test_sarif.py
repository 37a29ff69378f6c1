"""SARIF output: valid against the official 2.1.0 schema, with rule metadata, consistent regions,
fixes that really fix, and fingerprints that survive unrelated edits."""

from __future__ import annotations

import json

import jsonschema
import pytest

from slimfile.report import sarif
from slimfile.report.model import Report
from slimfile.syntax.edits import Edit, apply_edits
from slimfile.syntax.errors import DockerfileError
from tests.report.conftest import SAMPLE, make_report

pytestmark = pytest.mark.usefixtures("sample_rules")


@pytest.fixture(scope="module")
def validator(schemas_dir):
    schema = json.loads((schemas_dir / "sarif-schema-2.1.0.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def render(report: Report) -> dict:
    return json.loads(sarif.render(report))


def test_validates_against_the_official_schema(tmp_path, validator):
    files = {"app/Dockerfile": SAMPLE, "svc/web.Dockerfile": "FROM x\nRUN sudo apt-get install é\n".encode()}
    errors = [DockerfileError("unterminated heredoc", 2, path=str(tmp_path / "bad/Dockerfile"))]
    report = make_report(tmp_path, files, unsafe_fixes=True, errors=errors)
    document = render(report)
    validator.validate(document)
    assert len(document["runs"][0]["results"]) == 6


def test_empty_report_validates(tmp_path, validator):
    document = render(make_report(tmp_path, {"Dockerfile": b"FROM scratch\n"}))
    validator.validate(document)
    assert document["runs"][0]["results"] == []
    assert document["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_rule_metadata_comes_from_the_rule(tmp_path):
    run = render(make_report(tmp_path, {"Dockerfile": SAMPLE}))["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert sorted(rules) == ["XT101", "XT102", "XT103", "XT104"]
    apt = rules["XT101"]
    assert apt["name"] == "apt-install-recommends"
    assert apt["shortDescription"]["text"] == "`apt-get install` also installs recommended packages"
    assert apt["fullDescription"]["text"] == "Finds `apt-get install` without `--no-install-recommends`."
    assert apt["help"]["markdown"].startswith("## What it does")
    assert apt["properties"]["related"] == ["DL3015"]
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_regions_give_the_same_bytes_in_both_forms(tmp_path):
    source = "FROM x\nRUN echo 'héllo' && sudo ls\n".encode()
    report = make_report(tmp_path, {"Dockerfile": source})
    (result,) = render(report)["runs"][0]["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert source[region["byteOffset"] : region["byteOffset"] + region["byteLength"]] == b"sudo"
    line = source.split(b"\n")[region["startLine"] - 1].decode()
    # columns count code points ("é" is one), the end column is exclusive
    assert line[region["startColumn"] - 1 : region["endColumn"] - 1] == "sudo"


def test_uris_are_relative_to_the_source_root(tmp_path):
    run = render(make_report(tmp_path, {"sub dir/Dockerfile": SAMPLE}))["runs"][0]
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "sub%20dir/Dockerfile", "uriBaseId": "%SRCROOT%"}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"


def _apply_sarif_fix(source: bytes, fix: dict) -> bytes:
    edits = []
    for change in fix["artifactChanges"]:
        for replacement in change["replacements"]:
            region = replacement["deletedRegion"]
            start = region["byteOffset"]
            edits.append(Edit(start, start + region["byteLength"], replacement["insertedContent"]["text"].encode()))
    return apply_edits(source, edits)


def test_fixes_are_offered_as_replacements_that_work(tmp_path):
    report = make_report(tmp_path, {"Dockerfile": SAMPLE})
    results = {r["ruleId"]: r for r in render(report)["runs"][0]["results"]}
    fixed = _apply_sarif_fix(SAMPLE, results["XT101"]["fixes"][0])
    assert b"apt-get install --no-install-recommends -y curl" in fixed
    assert _apply_sarif_fix(SAMPLE, results["XT102"]["fixes"][0]).count(b"COPY app.tar /srv/") == 1
    assert "fixes" not in results["XT103"]  # no fix for this rule
    assert "fixes" not in results["XT104"]  # unsafe: not offered without --unsafe-fixes
    assert results["XT104"]["properties"]["fixSafety"] == "unsafe"
    assert results["XT101"]["properties"]["estimatedSaving"]["label"] == "~20 MB"


def test_unsafe_fixes_are_offered_under_unsafe_fixes(tmp_path):
    report = make_report(tmp_path, {"Dockerfile": SAMPLE}, unsafe_fixes=True)
    results = {r["ruleId"]: r for r in render(report)["runs"][0]["results"]}
    assert b"pip install --no-cache-dir flask" in _apply_sarif_fix(SAMPLE, results["XT104"]["fixes"][0])


def test_line_column_regions_of_fixes_match_their_byte_regions(tmp_path):
    source = "FROM x\r\nRUN echo ü && apt-get install -y a\r\n".encode()
    report = make_report(tmp_path, {"Dockerfile": source})
    (result,) = [r for r in render(report)["runs"][0]["results"] if r["ruleId"] == "XT101"]
    region = result["fixes"][0]["artifactChanges"][0]["replacements"][0]["deletedRegion"]
    line_start = source.rfind(b"\n", 0, region["byteOffset"]) + 1
    assert source.count(b"\n", 0, line_start) + 1 == region["startLine"]
    assert region["startColumn"] == len(source[line_start : region["byteOffset"]].decode()) + 1
    assert (region["startLine"], region["startColumn"]) == (region["endLine"], region["endColumn"])  # an insertion


def fingerprints_of(root, source: bytes) -> dict[str, list[str]]:
    results = render(make_report(root, {"Dockerfile": source}))["runs"][0]["results"]
    out: dict[str, list[str]] = {}
    for result in results:
        out.setdefault(result["ruleId"], []).append(result["partialFingerprints"]["slimfile/v1"])
    return out


def test_fingerprints_survive_lines_added_above(tmp_path):
    before = fingerprints_of(tmp_path, SAMPLE)
    moved = SAMPLE.replace(b"FROM debian:12\n", b"# syntax=docker/dockerfile:1\nFROM debian:12\nLABEL a=b\n\n")
    after = fingerprints_of(tmp_path, moved)
    assert before == after
    assert len({fp for fps in before.values() for fp in fps}) == 4


def test_identical_findings_get_distinct_fingerprints(tmp_path):
    prints = fingerprints_of(tmp_path, b"FROM x\nRUN sudo ls\nRUN sudo ls\n")
    assert len(prints["XT103"]) == 2 and len(set(prints["XT103"])) == 2


def test_fingerprint_changes_when_the_finding_line_changes(tmp_path):
    one = fingerprints_of(tmp_path, b"FROM x\nRUN sudo ls\n")
    two = fingerprints_of(tmp_path, b"FROM x\nRUN sudo ls -la\n")
    assert one["XT103"] != two["XT103"]


def test_non_utf8_inserted_content_is_sent_as_binary(tmp_path, validator):
    from slimfile.diagnostics import Finding
    from slimfile.report.model import FileFindings
    from slimfile.syntax.edits import Fix
    from tests.report.sample_pass import ADD

    source = b"FROM x\nADD a /b\n"
    finding = Finding(ADD, "m", 7, 10, fix=Fix((Edit(7, 10, b"\xff\xfe"),)))
    report = Report([FileFindings(str(tmp_path / "Dockerfile"), source, [finding])], root=tmp_path)
    document = render(report)
    validator.validate(document)
    replacement = document["runs"][0]["results"][0]["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement["insertedContent"] == {"binary": "//4="}


def test_failed_files_become_notifications(tmp_path):
    errors = [DockerfileError("unterminated heredoc", 3, path=str(tmp_path / "x" / "Dockerfile"))]
    run = render(make_report(tmp_path, {"Dockerfile": b"FROM x\n"}, errors=errors))["runs"][0]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["message"]["text"] == "unterminated heredoc"
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "x/Dockerfile"
    assert note["locations"][0]["physicalLocation"]["region"] == {"startLine": 3}


def test_first_paragraph_skips_headings_and_code():
    doc = "## What it does\n\n```\ncode\n```\nFirst line\nsecond line.\n\nNext paragraph.\n"
    assert sarif.first_paragraph(doc) == "First line second line."
    assert sarif.first_paragraph("") == ""
