"""Which wrapper words run a command as another user (slimfile/shell/names.py,
``identity_words``), and the cleanups the passes append behind the same ones
(slimfile/passes/common.py, ``run_as``)."""

from __future__ import annotations

import pytest

from slimfile.engine import Settings, check_source
from slimfile.shell.names import identity_words


@pytest.mark.parametrize(
    "command, copied",
    [
        ("apt-get install -y jq", ""),
        ("sudo apt-get install -y jq", "sudo"),
        ("sudo -E apt-get install -y jq", "sudo -E"),
        ("sudo -u app npm ci", "sudo -u app"),
        ("sudo --user=app npm ci", "sudo --user=app"),
        ("sudo DEBIAN_FRONTEND=noninteractive apt-get install -y jq", "sudo"),
        ("sudo -E env DEBIAN_FRONTEND=noninteractive apt-get install -y jq", "sudo -E"),
        ("nice -n 5 sudo apt-get install -y jq", "sudo"),
        ("gosu app npm ci", "gosu app"),
        ("su-exec app:app npm ci", "su-exec app:app"),
        ("doas -u app npm ci", "doas -u app"),
        ("env A=b npm ci", ""),
        ("timeout 60 npm ci", ""),
        ("sudo", ""),  # nothing wrapped: sudo is the command
    ],
)
def test_the_wrapper_words_that_change_the_user(command: str, copied: str):
    values = command.split()
    assert " ".join(values[i] for i in identity_words(values)) == copied


def _fixes(run: str, code: str) -> list[str]:
    source = f"FROM debian:bookworm\nUSER app\nRUN {run}\n".encode()
    findings = [f for f in check_source(source, "Dockerfile", Settings()) if f.code == code]
    assert len(findings) == 1
    fix = findings[0].fix
    return [edit.content.decode() for edit in fix.edits] if fix is not None else []


def test_the_apt_cleanup_runs_through_the_installs_sudo():
    assert _fixes("sudo apt-get update && sudo apt-get install -y --no-install-recommends jq", "SF105") == [
        " && sudo rm -rf /var/lib/apt/lists/*"
    ]


def test_a_cleanup_after_an_install_without_sudo_stays_as_it_was():
    assert _fixes("apt-get update && apt-get install -y --no-install-recommends jq", "SF105") == [" && rm -rf /var/lib/apt/lists/*"]


def test_a_user_the_script_only_knows_as_a_variable_gets_no_fix():
    assert _fixes('sudo -u "$WHO" apt-get update && sudo -u "$WHO" apt-get install -y --no-install-recommends jq', "SF105") == []


def test_each_command_of_a_two_command_cleanup_runs_through_sudo():
    source = b"FROM centos:7\nUSER builder\nRUN sudo yum install -y jq\n"
    (finding,) = [f for f in check_source(source, "Dockerfile", Settings()) if f.code == "SF302"]
    assert [e.content.decode() for e in finding.fix.edits] == [" && sudo yum clean all && sudo rm -rf /var/cache/yum"]
