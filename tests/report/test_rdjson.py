"""rdjson output: valid against reviewdog's DiagnosticResult schema, byte columns, and one
line-based suggestion per offered fix (what github-pr-review posts as a suggestion)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from slimfile.report import rdjson
from slimfile.syntax.errors import DockerfileError
from tests.report.conftest import SAMPLE, make_report

pytestmark = pytest.mark.usefixtures("sample_rules")


@pytest.fixture(scope="module")
def validator(schemas_dir):
    schema = json.loads((schemas_dir / "rdjson" / "DiagnosticResult.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def diagnostics(root, files, **kwargs) -> list[dict]:
    return json.loads(rdjson.render(make_report(root, files, **kwargs)))["diagnostics"]


def test_validates_against_reviewdogs_schema(tmp_path, validator):
    errors = [DockerfileError("bad directive", 1, path=str(tmp_path / "broken.Dockerfile"))]
    document = json.loads(rdjson.render(make_report(tmp_path, {"Dockerfile": SAMPLE}, errors=errors)))
    validator.validate(document)
    assert document["source"] == {"name": "slimfile"}
    assert [d.get("code", {}).get("value") for d in document["diagnostics"]] == [
        "XT101",
        "XT103",
        "XT102",
        "XT104",
        None,
    ]
    assert document["diagnostics"][-1]["severity"] == "ERROR"
    assert document["diagnostics"][-1]["location"] == {"path": "broken.Dockerfile", "range": {"start": {"line": 1}}}


def test_every_diagnostic_validates_on_its_own(tmp_path, schemas_dir):
    schema = json.loads((schemas_dir / "rdjson" / "Diagnostic.json").read_text())
    for diagnostic in diagnostics(tmp_path, {"Dockerfile": SAMPLE}, unsafe_fixes=True):
        jsonschema.Draft4Validator(schema).validate(diagnostic)


def test_columns_count_utf8_bytes_and_ends_are_exclusive(tmp_path):
    (diagnostic,) = diagnostics(tmp_path, {"Dockerfile": "FROM x\nRUN echo 'ü' && sudo ls\n".encode()})
    # "RUN echo 'ü' && " is 16 characters but 17 bytes: sudo starts at byte column 18
    assert diagnostic["location"] == {
        "path": "Dockerfile",
        "range": {"start": {"line": 2, "column": 18}, "end": {"line": 2, "column": 22}},
    }


def test_suggestions_replace_whole_lines(tmp_path):
    by_code = {d["code"]["value"]: d for d in diagnostics(tmp_path, {"Dockerfile": SAMPLE})}
    (apt,) = by_code["XT101"]["suggestions"]
    assert apt == {
        "range": {"start": {"line": 4}, "end": {"line": 4}},
        "text": "    apt-get install --no-install-recommends -y curl && sudo ls",
    }
    (add,) = by_code["XT102"]["suggestions"]
    assert add == {"range": {"start": {"line": 5}, "end": {"line": 5}}, "text": "COPY app.tar /srv/"}
    assert "suggestions" not in by_code["XT103"]
    assert "suggestions" not in by_code["XT104"]  # unsafe fix, not offered by default


def test_suggestion_lines_applied_give_the_fixed_file(tmp_path):
    """Replacing the suggestion's lines with its text is exactly what slimfile fix would do."""
    from slimfile.engine import Settings, fix_source
    from tests.report import sample_pass

    source = b"FROM x\r\nRUN apt-get update \\\r\n && apt-get install -y a\r\n"
    (diagnostic,) = diagnostics(tmp_path, {"Dockerfile": source})
    (suggestion,) = diagnostic["suggestions"]
    lines = source.decode().split("\r\n")
    start, end = suggestion["range"]["start"]["line"], suggestion["range"]["end"]["line"]
    lines[start - 1 : end] = suggestion["text"].split("\n")
    expected = fix_source(source, "Dockerfile", Settings(), passes=(sample_pass.check,)).output
    assert "\r\n".join(lines).encode() == expected


def test_original_output_is_the_text_line(tmp_path):
    diagnostic = diagnostics(tmp_path, {"Dockerfile": b"FROM x\nADD a /b\n"})[0]
    assert diagnostic["original_output"].endswith("Dockerfile:2:1: XT102 [*] `ADD` of a local path; `COPY` is clearer")


def test_messages_are_markdown_that_mentions_and_links_nobody(tmp_path, validator):
    """github-pr-review posts a message as it is inside its markdown comment: a scoped npm
    package (`@types/node`, which SF901 names) would notify a GitHub user or team, and a name
    from the pull request could make a link. Both read as written, as in `--output-format
    markdown`; code spans stay code."""
    from dataclasses import replace

    report = make_report(tmp_path, {"Dockerfile": SAMPLE})
    file = report.files[0]
    said = "`npm i @a/b` leaves the devDependencies (@types/node, eslint) in [x](http://e)"
    file.findings[0] = replace(file.findings[0], message=said)
    report.errors.append(DockerfileError("unknown instruction <b>@org/team</b>", 3, path=str(tmp_path / "Dockerfile")))
    document = json.loads(rdjson.render(report))
    validator.validate(document)
    messages = [d["message"] for d in document["diagnostics"]]
    assert messages[0] == "`npm i @a/b` leaves the devDependencies (`@types/node`, eslint) in \\[x\\](http://e)"
    assert messages[-1] == "slimfile could not process this file: unknown instruction \\<b\\>`@org/team`\\</b\\>"
    assert document["diagnostics"][0]["original_output"].endswith(said)  # the text line, as written
