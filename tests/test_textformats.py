"""JSON and TOML that slimfile reads but does not write, nested deeper than Python's parsers
recurse (slimfile/textformats.py): an unreadable document, never a stopped file or a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slimfile.config import ConfigError, load_config
from slimfile.engine import Settings, check_source
from slimfile.textformats import TOO_DEEP, json_loads, toml_loads

DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a": ' * 100_000 + "1" + "}" * 100_000


def test_documents_nested_too_deeply_are_invalid_not_a_recursion_error():
    with pytest.raises(ValueError, match=TOO_DEEP):
        json_loads(DEEP_ARRAY)
    with pytest.raises(ValueError, match=TOO_DEEP):
        json_loads(DEEP_OBJECT.encode())
    with pytest.raises(ValueError, match=TOO_DEEP):  # tomllib.TOMLDecodeError is a ValueError
        toml_loads("x = " + DEEP_ARRAY + "\n")
    assert json_loads('{"a": [1, {"b": 2}]}') == {"a": [1, {"b": 2}]}
    assert toml_loads("[tool.x]\ny = [1, [2]]\n") == {"tool": {"x": {"y": [1, [2]]}}}


@pytest.mark.parametrize(
    ("files", "dockerfile", "reason", "other"),
    [
        (
            {"package.json": DEEP_OBJECT},
            "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"index.js\"]\n",
            "package.json is not valid JSON (nested too deeply to read)",
            "SF402",
        ),
        (
            {"package.json": json.dumps({"name": "a", "scripts": {"build": "tsc"}, "devDependencies": {"typescript": "5.4.5"}}), "tsconfig.json": DEEP_OBJECT},
            "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\nCMD [\"node\", \"dist/index.js\"]\n",
            "tsconfig.json is not valid JSON (nested too deeply to read)",
            "SF402",
        ),
        (
            {"composer.json": DEEP_OBJECT},
            "FROM php:8.2\nWORKDIR /app\nCOPY . .\nRUN composer install\nCMD [\"php\", \"a.php\"]\n",
            "composer.json is not valid JSON (nested too deeply to read)",
            "SF407",
        ),
    ],
)
def test_a_context_file_nested_too_deeply_is_a_missing_fact_and_the_file_is_checked(tmp_path: Path, files, dockerfile, reason, other):
    """A package.json of 100,000 nested objects (1 MB) stopped the Dockerfile with "input too
    deeply nested to analyse" (exit 2, no findings). Now what needs the file refuses with the
    reason, and the other checks run."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    settings = Settings(build_context=str(tmp_path), unsafe_fixes=True)
    findings = check_source(dockerfile.encode(), str(tmp_path / "Dockerfile"), settings)
    assert any(reason in f.message for f in findings), [f.message for f in findings]
    assert any(f.rule.code == other for f in findings)  # the rest of the analysis ran


def test_a_configuration_nested_too_deeply_is_a_configuration_error(tmp_path: Path):
    path = tmp_path / "slimfile.toml"
    path.write_text("select = " + DEEP_ARRAY + "\n")
    with pytest.raises(ConfigError, match="invalid TOML: nested too deeply to read"):
        load_config(path)


def test_shell_text_over_the_size_slimfile_reads_is_refused_unread(monkeypatch):
    """Scripts are modelled up to a Dockerfile's own size limit (a 15 MiB build.sh took 20 s
    and 1.6 GB before it was refused): a build-context script and a package.json script."""
    from slimfile.analysis.recipes import node_commands
    from slimfile.shell import analyze
    from slimfile.textformats import TOO_LARGE

    monkeypatch.setattr(analyze, "MAX_SCRIPT_BYTES", 100)
    monkeypatch.setattr(node_commands, "MAX_SCRIPT_BYTES", 100)
    long_script = "echo " + "x" * 100
    assert analyze.script_of_text(long_script) == TOO_LARGE
    assert node_commands.script_text_commands(long_script) == TOO_LARGE
    assert [c.name for c in analyze.script_of_text("echo hi").commands] == ["echo"]  # type: ignore[union-attr]
    assert [c.name for c in node_commands.script_text_commands("echo hi").commands] == ["echo"]  # type: ignore[union-attr]


@given(st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=40))
def test_visible_escapes_every_control_character_and_nothing_else(text: str):
    """The fast path (no control character found, the text as it is) gives what the full
    translation gives."""
    from slimfile.textformats import _CONTROLS, visible

    shown = visible(text)
    assert shown == text.translate(_CONTROLS)
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in shown)
