"""SF701's manifest copies of odd folder names, built for real (marker: docker): an npm
workspace whose members live in folders named ``sp ace``, ``q"uote``, ``it's``, ``d$x`` and
``$HOME``. BuildKit reads every COPY argument as a shell word, in the JSON form too; written
as they were, the rewrite did not build ("failed to process "packages/it's/package.json":
unexpected end of statement"). ``slimfile verify`` builds the original and the rewrite and
runs both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slimfile.engine import Settings
from slimfile.verify import VerifyRequest, verify

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker-builds")]

FOLDERS = ["sp ace", 'q"uote', "it's", "d$x", "$HOME", "plain"]


def _app(root: Path) -> Path:
    (root / "Dockerfile").write_text('FROM node:18-slim\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["node", "index.js"]\n')
    (root / "package.json").write_text(json.dumps({"name": "root", "version": "1.0.0", "private": True, "workspaces": ["packages/*"]}))
    for number, folder in enumerate(FOLDERS):
        member = root / "packages" / folder
        member.mkdir(parents=True)
        (member / "package.json").write_text(json.dumps({"name": f"p{number}", "version": "1.0.0", "main": "index.js"}))
        (member / "index.js").write_text(f"module.exports = 'p{number}';\n")
    names = [f"p{number}" for number in range(len(FOLDERS))]
    (root / "index.js").write_text(f"console.log({json.dumps(names)}.map((name) => require(name)).join(' '));\n")
    return root / "Dockerfile"


def test_the_manifest_copies_of_odd_folder_names_build_and_verify(engine, tmp_path):
    dockerfile = _app(tmp_path)
    report = verify(VerifyRequest(dockerfile=dockerfile, settings=Settings(select=("SF701",)), run=""), engine=engine)
    assert report.error is None, (report.error, report.error_log)
    assert report.verdict == "verified" and report.exit_code == 0, [p.message for p in report.problems]
    assert [fix["code"] for fix in report.rewrite.applied] == ["SF701"]
    assert [tag for tag in report.built_images if engine.has_image(tag)] == []
