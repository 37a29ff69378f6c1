"""Configuration: discovery (closest file wins, as in ruff), every key, and clear errors.

Rule codes come from the sample pass (XT101-XT104), installed as the whole pipeline by the
``sample_rules`` fixture, so these tests hold whatever the real pipeline contains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slimfile.config import ConfigError, find_config, load_config
from tests.cli.conftest import write

pytestmark = pytest.mark.usefixtures("sample_rules")

ALL_RULES = "FROM debian\nRUN apt-get install -y curl && sudo ls && pip install x\nADD a /a\n"


def codes(cli, root: Path, *args: str) -> dict[str, list[str]]:
    """Rule codes reported per file."""
    result = cli("check", "-o", "json", "--exit-zero", *args, cwd=root)
    assert result.exit_code == 0, result.stderr
    out: dict[str, list[str]] = {}
    for item in json.loads(result.out):
        out.setdefault(item["filename"], []).append(item["code"])
    return {k: sorted(v) for k, v in out.items()}


class TestDiscovery:
    def test_closest_config_wins_without_merging(self, cli, tmp_path):
        write(
            tmp_path,
            {
                "slimfile.toml": 'ignore = ["XT101"]\n',
                "Dockerfile": ALL_RULES,
                "team/slimfile.toml": 'select = ["XT10"]\nignore = ["XT104"]\n',
                "team/Dockerfile": ALL_RULES,
                "team/sub/Dockerfile": ALL_RULES,
            },
        )
        assert codes(cli, tmp_path) == {
            "Dockerfile": ["XT102", "XT103", "XT104"],
            "team/Dockerfile": ["XT101", "XT102", "XT103"],  # the root's ignore is not inherited
            "team/sub/Dockerfile": ["XT101", "XT102", "XT103"],
        }

    def test_precedence_inside_one_directory(self, tmp_path):
        write(tmp_path, {"pyproject.toml": "[tool.slimfile]\n", "slimfile.toml": "", ".slimfile.toml": ""})
        assert find_config(tmp_path).name == ".slimfile.toml"
        (tmp_path / ".slimfile.toml").unlink()
        assert find_config(tmp_path).name == "slimfile.toml"
        (tmp_path / "slimfile.toml").unlink()
        assert find_config(tmp_path).name == "pyproject.toml"

    def test_pyproject_without_a_slimfile_table_is_passed_over(self, cli, tmp_path):
        write(
            tmp_path,
            {
                "pyproject.toml": '[tool.slimfile]\nignore = ["XT103"]\n',
                "app/pyproject.toml": '[project]\nname = "app"\n',
                "app/Dockerfile": ALL_RULES,
            },
        )
        assert codes(cli, tmp_path) == {"app/Dockerfile": ["XT101", "XT102", "XT104"]}

    def test_explicit_config_and_isolated(self, cli, tmp_path):
        write(
            tmp_path,
            {"slimfile.toml": 'ignore = ["XT101"]\n', "ci.toml": 'select = ["XT103"]\n', "Dockerfile": ALL_RULES},
        )
        assert codes(cli, tmp_path, "--config", "ci.toml") == {"Dockerfile": ["XT103"]}
        assert codes(cli, tmp_path, "--isolated") == {"Dockerfile": ["XT101", "XT102", "XT103", "XT104"]}


class TestKeys:
    def test_select_and_extend_select(self, cli, tmp_path):
        write(tmp_path, {"slimfile.toml": 'select = ["XT101"]\nextend-select = ["XT103"]\n', "Dockerfile": ALL_RULES})
        assert codes(cli, tmp_path) == {"Dockerfile": ["XT101", "XT103"]}

    def test_command_line_overrides_select_and_adds_ignores(self, cli, tmp_path):
        write(tmp_path, {"slimfile.toml": 'select = ["XT101"]\n', "Dockerfile": ALL_RULES})
        assert codes(cli, tmp_path, "--select", "XT10", "--ignore", "XT102") == {
            "Dockerfile": ["XT101", "XT103", "XT104"]
        }
        assert codes(cli, tmp_path, "--extend-select", "XT104") == {"Dockerfile": ["XT101", "XT104"]}

    def test_all_and_case_insensitive_codes(self, cli, tmp_path):
        write(tmp_path, {"slimfile.toml": 'select = ["all"]\nignore = ["xt10"]\n', "Dockerfile": ALL_RULES})
        assert codes(cli, tmp_path) == {}

    def test_per_file_ignores_are_relative_to_the_config(self, cli, tmp_path):
        write(
            tmp_path,
            {
                "slimfile.toml": '[per-file-ignores]\n"legacy/**" = ["XT1"]\n"*.dev.Dockerfile" = ["XT103"]\n',
                "legacy/old/Dockerfile": ALL_RULES,
                "app/api.dev.Dockerfile": ALL_RULES,
                "app/Dockerfile": ALL_RULES,
            },
        )
        assert codes(cli, tmp_path) == {
            "app/Dockerfile": ["XT101", "XT102", "XT103", "XT104"],
            "app/api.dev.Dockerfile": ["XT101", "XT102", "XT104"],
        }

    def test_unsafe_fixes_from_config(self, cli, tmp_path):
        write(tmp_path, {"Dockerfile": "FROM x\nRUN pip install flask\n"})
        cli("fix", ".", cwd=tmp_path)
        assert "--no-cache-dir" not in (tmp_path / "Dockerfile").read_text()
        write(tmp_path, {"slimfile.toml": "unsafe-fixes = true\n"})
        cli("fix", ".", cwd=tmp_path)
        assert "pip install --no-cache-dir flask" in (tmp_path / "Dockerfile").read_text()

    def test_no_unsafe_fixes_on_the_command_line_wins(self, cli, tmp_path):
        write(tmp_path, {"slimfile.toml": "unsafe-fixes = true\n", "Dockerfile": "FROM x\nRUN pip install flask\n"})
        cli("fix", "--no-unsafe-fixes", ".", cwd=tmp_path)
        assert "--no-cache-dir" not in (tmp_path / "Dockerfile").read_text()

    def test_preferences_reach_the_passes(self, tmp_path, monkeypatch):
        from slimfile.commands import Options, SettingsResolver

        write(tmp_path, {"slimfile.toml": '[preferences]\nmerge-runs = "all"\n', "Dockerfile": ALL_RULES})
        monkeypatch.chdir(tmp_path)
        settings = SettingsResolver(Options(paths=["."])).settings_for("Dockerfile")
        assert settings.options == {"merge-runs": "all"}


class TestErrors:
    @pytest.mark.parametrize(
        "text, message",
        [
            ("select = [\n", "invalid TOML"),
            ("colour = true\n", "unknown configuration key(s): colour"),
            ('select = ["XT999"]\n', "unknown rule code 'XT999' in select"),
            ('ignore = ["NOPE"]\n', "unknown rule code 'NOPE' in ignore"),
            ('[per-file-ignores]\n"x/*" = ["BAD1"]\n', "unknown rule code 'BAD1' in per-file-ignores.x/*"),
            ('select = "XT101"\n', "'select' must be a list of rule codes"),
            ('unsafe-fixes = "yes"\n', "'unsafe-fixes' must be true or false"),
            ('exclude = "build"\n', "'exclude' must be a list of strings"),
            ('[preferences]\nmerge-runs = "some"\n', "preference 'merge-runs' must be one of 'small', 'all'"),
            ("[preferences]\nindent = 4\n", "unknown preference 'indent'"),
        ],
    )
    def test_bad_config_is_a_clear_error(self, cli, tmp_path, text, message):
        write(tmp_path, {"slimfile.toml": text, "Dockerfile": ALL_RULES})
        result = cli("check", ".", cwd=tmp_path)
        assert result.exit_code == 2
        assert f"slimfile.toml: {message}" in result.stderr
        assert result.out == ""  # nothing is checked with a broken configuration

    @pytest.mark.parametrize(
        "text",
        [
            '[tool.slimfile]\nignore = ["XT103"\n',
            '[project]\nname = "app"\n\n[tool.slimfile.preferences]\nmerge-runs = all\n',
            'tool.slimfile.select = ["XT1"\n',
        ],
    )
    def test_a_pyproject_that_names_the_table_but_is_not_toml_is_an_error(self, cli, tmp_path, text):
        """ruff and black stop at a pyproject.toml they cannot read; it was passed over, and the
        files were checked without the configuration (or with a parent's)."""
        files = {"slimfile.toml": 'ignore = ["XT101"]\n', "app/pyproject.toml": text, "app/Dockerfile": ALL_RULES}
        write(tmp_path, files)
        result = cli("check", ".", cwd=tmp_path)
        assert result.exit_code == 2
        assert "app/pyproject.toml: invalid TOML: " in result.stderr and result.out == ""

    def test_a_pyproject_that_is_not_toml_and_not_ours_is_passed_over(self, cli, tmp_path):
        files = {
            "pyproject.toml": '[tool.slimfile]\nignore = ["XT103"]\n',
            "app/pyproject.toml": "[project\n# tool.slimfile.x\n",  # a comment does not name the table
            "app/Dockerfile": ALL_RULES,
        }
        write(tmp_path, files)
        assert codes(cli, tmp_path) == {"app/Dockerfile": ["XT101", "XT102", "XT104"]}

    @pytest.mark.parametrize("name", ["slimfile.toml", "pyproject.toml"])
    def test_a_configuration_over_the_size_limit_is_an_error_not_read_whole(self, tmp_path, monkeypatch, name):
        """A configuration is read before any file's time budget: one past the limit is not
        parsed (limit patched down; the real one is 16 MiB)."""
        from slimfile import config

        monkeypatch.setattr(config, "MAX_CONFIG_BYTES", 64)
        table = "[tool.slimfile]\n" if name == "pyproject.toml" else ""
        write(tmp_path, {name: table + "# " + "x" * 100 + "\n", "Dockerfile": ALL_RULES})
        with pytest.raises(ConfigError, match="configuration file is larger than 0 MiB"):
            load_config(tmp_path / name, ["XT101"])
        assert config.find_config(tmp_path) == tmp_path / name
        write(tmp_path, {name: table + 'ignore = ["XT101"]\n'})
        assert load_config(tmp_path / name, ["XT101"]).ignore == ("XT101",)

    def test_bad_pyproject_table(self, tmp_path):
        write(tmp_path, {"pyproject.toml": '[tool]\nslimfile = "on"\n'})
        with pytest.raises(ConfigError, match=r"\[tool.slimfile\] must be a table"):
            load_config(tmp_path / "pyproject.toml", ["XT101"])

    def test_an_exclude_pattern_that_cannot_be_read_is_an_error(self, cli, tmp_path):
        """``[z-a]`` or a trailing ``\\`` stopped the walk with a traceback; dropped silently, a
        typo would exclude nothing: an error naming the pattern, as for an unknown rule code."""
        write(tmp_path, {"Dockerfile": ALL_RULES})
        result = cli("check", "--exclude", "[z-a]", ".", cwd=tmp_path)
        assert result.exit_code == 2 and "error: --exclude: invalid pattern `[z-a]` (bad character range z-a)" in result.stderr
        result = cli("check", "--extend-exclude", "vendor", "--extend-exclude", "a\\", ".", cwd=tmp_path)
        assert result.exit_code == 2 and "error: --extend-exclude: invalid pattern `a\\`" in result.stderr
        write(tmp_path, {"slimfile.toml": 'extend-exclude = ["vendor", "x[b-a]"]\n'})
        with pytest.raises(ConfigError, match=r"'extend-exclude': invalid pattern `x\[b-a\]` \(bad character range b-a\)"):
            load_config(tmp_path / "slimfile.toml", ["XT101"])
        assert cli("check", ".", cwd=tmp_path).exit_code == 2
        write(tmp_path, {"slimfile.toml": 'extend-exclude = ["vendor", "x[a-b]"]\n'})
        assert load_config(tmp_path / "slimfile.toml", ["XT101"]).extend_exclude == ("vendor", "x[a-b]")

    def test_missing_explicit_config(self, cli, tmp_path):
        result = cli("check", "--config", "nope.toml", ".", cwd=tmp_path)
        assert result.exit_code == 2
        assert "cannot read configuration" in result.stderr

    def test_a_bad_nested_config_is_an_error_even_far_down(self, cli, tmp_path):
        write(
            tmp_path, {"Dockerfile": ALL_RULES, "deep/er/slimfile.toml": "nope = 1\n", "deep/er/Dockerfile": ALL_RULES}
        )
        result = cli("check", ".", cwd=tmp_path)
        assert result.exit_code == 2
        assert "deep/er/slimfile.toml: unknown configuration key(s): nope" in result.stderr
