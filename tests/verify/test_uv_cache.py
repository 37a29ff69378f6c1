"""SF408 on a real build (marker: docker): `uv pip install` keeps ~/.cache/uv in its layer;
with `--no-cache` the layer holds only the environment. Measured on the zoo's python:3.11-slim
with requests, flask and pandas: 116 MB -> 106 MB for the install's layer.

The Dockerfile sets UV_NATIVE_TLS=1 so that uv trusts the host's CA store, as pip does on
the zoo (README of ../shared/docker-zoo); uv reaches PyPI like pip.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker-builds")]

DOCKERFILE = """\
FROM python:3.11-slim
ENV UV_NATIVE_TLS=1
RUN pip install --no-cache-dir uv==0.5.11
WORKDIR /app
COPY requirements.txt app.py ./
RUN uv venv /opt/venv && VIRTUAL_ENV=/opt/venv uv pip install -r requirements.txt
CMD ["/opt/venv/bin/python", "app.py"]
"""


def test_uv_without_its_cache_is_smaller_and_runs_the_same(verify_one_rule):
    app = "import flask, requests\nprint('flask', flask.__version__.split('.')[0], 'requests', requests.__version__)\n"
    report = verify_one_rule("SF408", DOCKERFILE, {"requirements.txt": "requests==2.32.3\nflask==3.0.3\n", "app.py": app})
    assert report.verdict == "verified" and report.problems == [], [p.message for p in report.problems]
    assert report.before.size - report.after.size > 1_000_000, (report.before.size, report.after.size)
    assert report.run.differences() == [] and "flask 3 requests 2.32.3" in report.run.after.stdout.splitlines()
