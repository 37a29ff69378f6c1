"""Where a cleanup lands and which cleanup RUNs go, with real builds (marker: docker).

A failed install inside a brace group lets `&& echo installed ; true` end the RUN well, so
SF105's removal of apt's lists goes to the end of the RUN, where it always runs; a redundant
`RUN rm -rf /var/lib/apt/lists/*` 70 RUNs after the install that cleaned its lists (past the
64 RUNs SF501 used to look back) is deleted. The rewrite must build, run the same and drop
the lists from the group's layer (109.2 -> 89.3 MB on the zoo's debian:bookworm-slim)."""

from __future__ import annotations

import pytest

from slimfile.engine import Settings, fix_source
from slimfile.verify import VerifyRequest, verify

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker-builds")]


def test_a_cleanup_after_a_group_and_a_far_redundant_one_build_and_run_the_same(tmp_path, engine):
    lines = [
        "FROM debian:bookworm-slim",
        "RUN { apt-get update && apt-get install -y --no-install-recommends curl; } && echo installed ; true",
        "RUN apt-get update && apt-get install -y --no-install-recommends jq && rm -rf /var/lib/apt/lists/*",
        *(f"RUN echo step{i} > /tmp/s{i}" for i in range(70)),
        "RUN rm -rf /var/lib/apt/lists/*",
        'CMD ["sh", "-c", "curl --version | head -1; jq --version"]',
    ]
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("\n".join(lines) + "\n")
    output = fix_source(dockerfile.read_bytes(), str(dockerfile), Settings()).output.decode()
    assert "echo installed ; true && rm -rf /var/lib/apt/lists/*\n" in output, output
    assert output.count("rm -rf /var/lib/apt/lists/*") == 2, output
    report = verify(VerifyRequest(dockerfile=dockerfile, settings=Settings(), run=""), engine=engine)
    assert report.error is None, (report.error, report.error_log)
    assert {"SF105", "SF501"} <= {fix["code"] for fix in report.rewrite.applied}
    assert report.problems == [] and report.verdict == "verified", [p.message for p in report.problems]
    assert report.run.differences() == [] and "jq-" in report.run.after.stdout
    assert report.size_ratio < 0.9, report.size_ratio
