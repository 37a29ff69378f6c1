"""SF401-SF404 when the install was told where to keep its cache (slimfile/passes/language_caches.py):
the cleanup is told the same, and declares what it cleans for `slimfile verify`."""

from __future__ import annotations

import pytest

from slimfile.engine import Settings, check_source


@pytest.mark.parametrize(
    "run, declares",
    [
        ("npm ci --cache /tmp/npm", {"cleans:/tmp/npm", "cleans:/tmp/npm/**"}),
        ("npm_config_cache=/tmp/n npm ci", {"cleans:/tmp/n", "cleans:/tmp/n/**"}),
        ("yarn install --cache-folder=/tmp/y/", {"cleans:/tmp/y/", "cleans:/tmp/y/**"}),
        ("pnpm install --store-dir /s", {"cleans:/s", "cleans:/s/**"}),
        # relative or not known here: nothing declared (verify reports what it sees)
        ("npm ci --cache .npm", set()),
        ("npm ci --cache $CACHE", set()),
        ("npm ci", set()),
        # the option wins over the variable (npm, yarn and pnpm read the command line first)
        ("npm_config_cache=/a npm ci --cache /b", {"cleans:/b", "cleans:/b/**"}),
        ("YARN_CACHE_FOLDER=/a yarn install --cache-folder /b", {"cleans:/b", "cleans:/b/**"}),
        ("npm_config_cache=/a npm ci --cache $B", set()),
        ("npm ci --cache /a --cache /b", {"cleans:/b", "cleans:/b/**"}),
    ],
)
def test_a_cleanup_declares_the_absolute_folder_the_install_was_told(run: str, declares: set[str]):
    findings = [f for f in check_source(f"FROM node:18-slim\nRUN {run}\n".encode(), "Dockerfile", Settings()) if f.code in ("SF402", "SF403", "SF404")]
    ((finding,),) = [findings]
    assert finding.fix is not None and set(finding.fix.declares) == declares
