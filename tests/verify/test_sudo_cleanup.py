"""A cleanup appended after an install that runs through sudo, verified on a real build
(marker: docker).

A dev container's usual pattern: the image switches to its user, and later RUNs install with
`sudo apt-get`. SF105 appended a bare `rm -rf /var/lib/apt/lists/*`, which runs as that user,
cannot remove root's lists ("Permission denied") and failed the rewrite's build. The cleanup
now runs through the install's own sudo: the rewrite builds, runs the same and is smaller.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker-builds")]

DOCKERFILE = """\
FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends sudo && rm -rf /var/lib/apt/lists/* \\
    && useradd -m app && echo 'app ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/app
USER app
WORKDIR /home/app
COPY tool.sh ./
RUN sudo apt-get update && sudo apt-get install -y --no-install-recommends jq
CMD ["sh", "tool.sh"]
"""


def test_the_cleanup_runs_through_sudo_and_is_verified(verify_one_rule):
    report = verify_one_rule("SF105", DOCKERFILE, {"tool.sh": 'echo \'{"tools": ["jq"]}\' | jq -c .tools\n'})
    assert report.after.build.ok, report.error_log
    assert report.verdict == "verified" and report.problems == [], [p.message for p in report.problems]
    assert report.after.size < report.before.size
    assert report.run.differences() == [] and '["jq"]' in report.run.after.stdout.splitlines()
