"""Real-build fixtures: the engine (tests fail without one, see tests/docker_engine.py)."""

from __future__ import annotations

import pytest

from tests.docker_engine import ensure_engine


@pytest.fixture(scope="session")
def docker_host() -> str:
    return ensure_engine()


@pytest.fixture(scope="session")
def engine(docker_host):
    from slimfile.verify.docker_engine import Engine

    return Engine.connect()


@pytest.fixture
def verify_one_rule(tmp_path, engine):
    """``verify_one_rule(code, dockerfile, files)``: a build context of ``files`` and the
    Dockerfile, verified with only rule ``code`` selected (its own CMD run); the report, once
    the rule's fix is applied and verify had no error."""
    from slimfile.engine import Settings
    from slimfile.verify import VerifyRequest, verify

    def run(code: str, dockerfile: str, files: dict[str, str]):
        for name, text in files.items():
            (tmp_path / name).write_text(text)
        (tmp_path / "Dockerfile").write_text(dockerfile)
        request = VerifyRequest(dockerfile=tmp_path / "Dockerfile", settings=Settings(select=frozenset({code})), run="")
        report = verify(request, engine=engine)
        assert report.error is None, (report.error, report.error_log)
        assert [fix["code"] for fix in report.rewrite.applied] == [code]
        return report

    return run
