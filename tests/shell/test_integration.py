"""Context.shell, and the RUN facts in ``slimfile parse --json``."""

from __future__ import annotations

import json

import pytest

from slimfile.analysis.context import Context
from slimfile.commands import run_parse
from slimfile.engine import Settings
from slimfile.shell.dump import instruction_entries
from slimfile.shell.model import OpaqueRun, ShellScript
from slimfile.syntax import parse
from slimfile.syntax.dump import to_dict
from tests.conftest import all_inputs

TEXT = (
    "FROM debian AS build\n"
    "RUN apt-get update && apt-get install -y --no-install-recommends curl \\\n"
    "    && rm -rf /var/lib/apt/lists/*\n"
    'RUN ["echo", "exec form"]\n'
    "ONBUILD RUN npm ci --omit=dev\n"
)


def test_context_shell_is_memoized_per_instruction() -> None:
    dockerfile = parse(TEXT.encode())
    context = Context(dockerfile, Settings())
    first, second, onbuild = dockerfile.instructions[1], dockerfile.instructions[2], dockerfile.instructions[3].inner
    script = context.shell(first)
    assert isinstance(script, ShellScript) and script is context.shell(first)
    assert [c.name for c in script.commands] == ["apt-get", "apt-get", "rm"]
    assert isinstance(context.shell(second), OpaqueRun)
    assert context.shell(onbuild).packages[0].manager == "npm"


def test_parse_json_has_run_facts(tmp_path, capsys) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(TEXT)
    assert run_parse(str(path), json_output=True, buildkit="current") == 0
    data = json.loads(capsys.readouterr().out)
    run, exec_form, onbuild = data["instructions"][1:4]
    assert run["opaque"] is None
    assert [(c["name"], c["operator"]) for c in run["commands"]] == [("apt-get", None), ("apt-get", "&&"), ("rm", "&&")]
    install = run["packages"][1]
    assert (install["manager"], install["action"], install["packages"]) == ("apt", "install", ["curl"])
    assert [o["name"] for o in install["options"]] == ["-y", "--no-install-recommends"]
    assert run["cleanups"][0]["path"] == "/var/lib/apt/lists/*"
    start, end = run["commands"][2]["span"]
    assert TEXT.encode()[start:end] == b"rm -rf /var/lib/apt/lists/*"
    assert exec_form["opaque"].startswith("exec form") and exec_form["commands"] == []
    assert onbuild["inner"]["packages"][0]["traits"] == ["omit-dev"]


def test_syntax_dump_stays_syntax_only() -> None:
    data = to_dict(parse(TEXT.encode()))
    assert all("commands" not in entry for entry in data["instructions"])


@pytest.mark.shared
@pytest.mark.parametrize("path", all_inputs(), ids=lambda p: p.name)
def test_every_shared_file_dumps_to_json(path) -> None:
    dockerfile = parse(path.read_bytes())
    data = to_dict(dockerfile, instructions=list(instruction_entries(dockerfile)))
    encoded = json.dumps(data, ensure_ascii=False).encode("utf-8")
    runs = [entry for entry in json.loads(encoded)["instructions"] if entry["keyword"] == "RUN"]
    assert all("opaque" in entry and "packages" in entry for entry in runs)
