"""One file's trouble costs that file only: a bug in a pass, or a file that runs past the
per-file budget, is an error naming the file (and the pass), nothing is written to it, the other
files are processed and the exit code is 2 — in this process (few files) and in the process pool
(many files), for ``check``, ``fix`` and ``fix --diff``."""

from __future__ import annotations

import pytest

from slimfile.isolation import parse_timeout
from slimfile.runner import POOL_THRESHOLD
from tests.cli.conftest import write
from tests.cli.faulty_pass import install_faulty_pass

GOOD = "FROM debian\nRUN apt-get install -y curl\n"  # XT101, with a safe fix
BUG = "FROM debian\n# BUG\nRUN apt-get install -y curl\n"
SLOW = "FROM debian\n# SLOW\nRUN apt-get install -y curl\n"

MODES = {"check": ("check",), "fix": ("fix",), "fix --diff": ("fix", "--diff")}
SIZES = {"in-process": 3, "pool": POOL_THRESHOLD + 4}


@pytest.fixture(autouse=True)
def faulty_pipeline(monkeypatch):
    install_faulty_pass(monkeypatch)


def tree(root, bad: str, count: int) -> list[str]:
    """``count`` Dockerfiles; the second one is ``bad``. Returns their paths, in walk order."""
    names = [f"svc{i:02d}/Dockerfile" for i in range(count)]
    write(root, {name: (bad if i == 1 else GOOD) for i, name in enumerate(names)})
    return names


def assert_others_processed(result, root, names: list[str], mode: str) -> None:
    good = [name for i, name in enumerate(names) if i != 1]
    if mode == "check":
        assert all(f"{name}:2:5: XT101" in result.out for name in good), result.out
    elif mode == "fix --diff":
        assert all(f"+++ b/{name}" in result.out for name in good), result.out
        assert f"b/{names[1]}" not in result.out
    else:
        assert all(b"--no-install-recommends" in (root / name).read_bytes() for name in good)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("mode", MODES)
def test_a_bug_in_a_pass_costs_one_file(cli, tmp_path, mode, size):
    names = tree(tmp_path, BUG, SIZES[size])
    result = cli(*MODES[mode], "--jobs", "2", ".", cwd=tmp_path)
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: {names[1]}: internal error in pass faulty_pass (XT901): "
        "PassBug: \"stage 'builder' is not in the index\"; the file is left as it was "
        "(a bug in slimfile: please report it with this file; --verbose shows the traceback)"
    ]
    assert "Traceback" not in result.stderr
    assert (tmp_path / names[1]).read_text() == BUG
    assert_others_processed(result, tmp_path, names, mode)


@pytest.mark.parametrize("size", SIZES)
def test_verbose_shows_where_the_bug_is(cli, tmp_path, size):
    names = tree(tmp_path, BUG, SIZES[size])
    result = cli("check", "--verbose", "--jobs", "2", ".", cwd=tmp_path)
    assert result.exit_code == 2
    after_error = result.stderr.split(f"error: {names[1]}: internal error", 1)[1]
    assert "  Traceback (most recent call last):" in after_error
    assert "in _index_of_a_missing_stage" in after_error
    assert "PassBug: \"stage 'builder' is not in the index\"" in after_error


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("mode", MODES)
def test_a_file_over_its_budget_costs_one_file(cli, tmp_path, mode, size):
    names = tree(tmp_path, SLOW, SIZES[size])
    result = cli(*MODES[mode], "--timeout", "0.5", "--jobs", "2", ".", cwd=tmp_path)
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: {names[1]}: timed out after 0.5 s in pass faulty_pass (XT901) "
        "(the per-file budget: --timeout / `timeout`); the file is left as it was"
    ]
    assert (tmp_path / names[1]).read_text() == SLOW
    assert_others_processed(result, tmp_path, names, mode)


def test_the_budget_comes_from_the_configuration(cli, tmp_path):
    names = tree(tmp_path, SLOW, 3)
    write(tmp_path, {"slimfile.toml": "timeout = 0.5\n"})
    result = cli("check", ".", cwd=tmp_path)
    assert result.exit_code == 2
    assert f"error: {names[1]}: timed out after 0.5 s" in result.stderr
    assert f"{names[0]}:2:5: XT101" in result.out


def test_a_timed_out_worker_goes_on_with_its_next_files(cli, tmp_path):
    """Several slow files in one chunk of one worker: each times out alone, the rest are checked."""
    count = POOL_THRESHOLD + 4
    slow = {1, 2, 5}
    write(tmp_path, {f"svc{i:02d}/Dockerfile": SLOW if i in slow else GOOD for i in range(count)})
    result = cli("check", "--timeout", "0.3", "--jobs", "2", ".", cwd=tmp_path)
    timed_out = sorted(line.split(":")[1].strip() for line in result.stderr.splitlines() if "timed out" in line)
    assert timed_out == [f"svc{i:02d}/Dockerfile" for i in sorted(slow)]
    assert result.out.count(": XT101") == count - len(slow)


@pytest.mark.parametrize(
    "value, seconds",
    [("60", 60.0), ("0.25", 0.25), (5, 5.0), ("0", None), (0, None), ("none", None), ("None", None), (False, None)]
    + [("1e9", 1e9), ("1e23", None), (10**23, None), ("1e-300", 1e-300)],
)
def test_timeout_values(value, seconds):
    assert parse_timeout(value, "--timeout") == seconds


@pytest.mark.parametrize("value", ["-1", "soon", "inf", "nan", True, [1]])
def test_bad_timeout_values(value):
    with pytest.raises(ValueError, match="--timeout must be a number of seconds, 0 or 'none'"):
        parse_timeout(value, "--timeout")


def test_a_timeout_longer_than_a_timer_can_hold_is_no_budget(cli, tmp_path):
    """setitimer refuses a few billion seconds and more: a `timeout` of 1e23 was an internal
    error (OverflowError) on every file."""
    tree(tmp_path, GOOD, 1)
    (tmp_path / "slimfile.toml").write_text("timeout = 99999999999999999999999\n")
    result = cli("check", ".", cwd=tmp_path)
    assert result.exit_code == 1, result.stderr
    assert "XT101" in result.out
    assert cli("check", "--timeout", "1e23", ".", cwd=tmp_path).exit_code == 1


def test_bad_timeout_option_and_setting_are_errors(cli, tmp_path):
    tree(tmp_path, GOOD, 1)
    result = cli("check", "--timeout", "soon", ".", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == "error: --timeout must be a number of seconds, 0 or 'none' (got 'soon')\n"
    write(tmp_path, {"slimfile.toml": 'timeout = "soon"\n'})
    result = cli("check", ".", cwd=tmp_path)
    assert result.exit_code == 2
    assert "slimfile.toml: 'timeout' must be a number of seconds, 0 or 'none' (got 'soon')" in result.stderr


def test_no_budget_means_no_timer(cli, tmp_path):
    """``--timeout 0`` sets no timer: the settings carry no budget; none given, the budget is
    the default for the file's size."""
    from slimfile.commands import Options, SettingsResolver

    write(tmp_path, {"Dockerfile": GOOD})
    for value, expected in (("0", (None, False)), ("none", (None, False)), (None, (None, True)), ("2", (2.0, False))):
        resolver = SettingsResolver(Options(paths=[str(tmp_path)], timeout=value, isolated=True))
        settings = resolver.settings_for(str(tmp_path / "Dockerfile"))
        assert (settings.timeout, settings.timeout_by_size) == expected


def test_the_default_budget_grows_with_the_file(monkeypatch, tmp_path):
    """No budget set: a minute per MiB, at least a minute (a flat minute came within 3 s of
    stopping a valid 4 MiB file of one-line RUNs on a slow machine); a budget that is set is
    that budget whatever the size, and one from standard input counts its bytes."""
    from slimfile import runner
    from slimfile.engine import Settings
    from slimfile.isolation import default_budget

    assert default_budget(0) == default_budget(1024 * 1024) == 60.0
    assert default_budget(4 * 1024 * 1024) == 240.0 and default_budget(3 * 1024 * 1024 // 2) == 90.0
    armed = []
    real_time_limit = runner.time_limit
    monkeypatch.setattr(runner, "time_limit", lambda seconds: armed.append(seconds) or real_time_limit(seconds))
    big = tmp_path / "Dockerfile"
    big.write_bytes(b"FROM debian:12\n# " + b"x" * (2 * 1024 * 1024 - 18) + b"\n")  # quick to check: one comment
    by_size = Settings(timeout_by_size=True)
    for job in (
        runner.Job(str(big), "check", by_size),
        runner.Job("-", "check", by_size, stdin_data=b"FROM debian:12\n"),
        runner.Job(str(big), "check", Settings(timeout=5.0)),
        runner.Job(str(big), "check", Settings()),
        runner.Job(str(tmp_path / "missing"), "check", by_size),
    ):
        runner.run_job(job)
    assert armed == [default_budget(big.stat().st_size), 60.0, 5.0, None, 60.0]
    assert armed[0] == 120.0  # 2 MiB
