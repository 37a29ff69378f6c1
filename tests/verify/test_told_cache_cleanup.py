"""A cleanup told where the install kept its cache, verified on a real build (marker: docker).

`npm install --cache /tmp/npm` keeps npm's cache in /tmp/npm: SF402's `npm cache clean --force`
cleaned ~/.npm and left it (the layer kept 116 KB on the zoo's node:18-slim). The rewrite now
tells the cleanup the same folder and declares what it cleans there, and `slimfile verify`
builds both, finds the rewrite smaller and nothing undeclared. Given both the variable and the
option, npm keeps its cache where the option says: the declaration names that folder (it named
the variable's, and verify reported the clean of /tmp/npm as undeclared).
"""

from __future__ import annotations

import pytest

from slimfile.engine import Settings
from slimfile.verify import VerifyRequest, verify

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker-builds")]


@pytest.mark.parametrize("install", ["npm install --cache /tmp/npm", "npm_config_cache=/tmp/unused npm install --cache /tmp/npm"])
def test_the_told_cache_is_cleaned_and_verified(tmp_path, engine, install: str):
    (tmp_path / "package.json").write_text('{"name": "told-cache", "version": "1.0.0", "private": true}\n')
    (tmp_path / "index.js").write_text('console.log(require("ms")(60000));\n')
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        'FROM node:18-slim\nWORKDIR /app\nCOPY package.json index.js ./\nRUN ' + install + ' ms@2.1.3\nCMD ["node", "index.js"]\n'
    )
    report = verify(VerifyRequest(dockerfile=dockerfile, settings=Settings(select=frozenset({"SF402"})), run=""), engine=engine)
    assert report.error is None, (report.error, report.error_log)
    assert [fix["code"] for fix in report.rewrite.applied] == ["SF402"]
    assert "cleans:/tmp/npm/**" in report.rewrite.declares and not any("unused" in d for d in report.rewrite.declares)
    assert report.verdict == "verified" and report.problems == [], [p.message for p in report.problems]
    assert report.after.size < report.before.size
    assert report.run.differences() == [] and "1m" in report.run.after.stdout.splitlines()
