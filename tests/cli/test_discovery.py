"""Which files a directory walk finds: names, .gitignore, excludes (command line and
hierarchical configuration), symlinks, and files that are not Dockerfiles at all."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from slimfile.files import MAX_BYTES, Discovered, InputError, discover, is_dockerfile_name
from tests.cli.conftest import run_slimfile, write

FROM = "FROM scratch\n"


def found(*paths: str, root: Path, **kwargs) -> list[str]:
    items = list(discover([str(root / p) for p in paths] or [str(root)], **kwargs))
    return [os.path.relpath(i.path, root) for i in items if isinstance(i, Discovered)]


@pytest.mark.parametrize(
    "name",
    ["Dockerfile", "Containerfile", "api.Dockerfile", "api.dockerfile", "Dockerfile.dev", "Containerfile.alpine"],
)
def test_dockerfile_names(name):
    assert is_dockerfile_name(name)


@pytest.mark.parametrize(
    "name", ["README.md", "Dockerfile.md", "docker-compose.yml", ".dockerignore", "Dockerfile~", "notes.txt"]
)
def test_other_names(name):
    assert not is_dockerfile_name(name)


@pytest.mark.parametrize(
    "name", ["Dockerfile.j2", "Dockerfile.template", "api.Dockerfile.tmpl", "Containerfile.in", "Dockerfile.jinja2", "Dockerfile.gotmpl"]
)
def test_templates_are_not_dockerfiles(name, tmp_path):
    """A template a tool renders into a Dockerfile cannot be built: walked, its `{{ ... }}`
    lines were SF001 errors and its RUNs were merged across its conditionals. Named on the
    command line, it is read as asked."""
    assert not is_dockerfile_name(name)
    (tmp_path / name).write_text("FROM {{ base }}\n")
    assert found(root=tmp_path) == []
    assert found(name, root=tmp_path) == [name]


def test_the_pre_commit_hooks_skip_the_same_templates():
    """identify tags `Dockerfile.j2` `dockerfile` too, so the hooks exclude what the walk skips."""
    import re

    from slimfile.files import TEMPLATES
    from tests.conftest import ROOT

    excludes = re.findall(r"^  exclude: '(.*)'$", (ROOT / ".pre-commit-hooks.yaml").read_text(), re.MULTILINE)
    assert len(excludes) == 2 and excludes[0] == excludes[1]
    pattern = re.compile(excludes[0])
    assert all(pattern.search(f"svc/Dockerfile.{suffix}") for suffix in TEMPLATES)
    assert not any(pattern.search(name) for name in ("Dockerfile", "Dockerfile.dev", "api.Dockerfile", "Dockerfile.inline"))
    assert sorted(re.search(r"\((.*)\)", excludes[0]).group(1).split("|")) == sorted(TEMPLATES)


def test_walk_finds_every_pattern_in_a_stable_order(tmp_path):
    names = [
        "b/Dockerfile",
        "a/x.Dockerfile",
        "a/y.dockerfile",
        "a/Dockerfile.prod",
        "Containerfile",
        "c/Containerfile.dev",
    ]
    write(tmp_path, {n: FROM for n in names} | {"a/README.md": "x", "Dockerfile.dockerignore": "x"})
    assert found(root=tmp_path) == [
        "Containerfile",
        "a/Dockerfile.prod",
        "a/x.Dockerfile",
        "a/y.dockerfile",
        "b/Dockerfile",
        "c/Containerfile.dev",
    ]


def test_gitignore_is_honoured_with_negation_and_nesting(tmp_path):
    (tmp_path / ".git").mkdir()
    write(
        tmp_path,
        {
            ".gitignore": "build/\n*.gen.Dockerfile\n",
            "build/Dockerfile": FROM,
            "app/a.gen.Dockerfile": FROM,
            "app/Dockerfile": FROM,
            "app/.gitignore": "!keep.gen.Dockerfile\nDockerfile.local\n",
            "app/keep.gen.Dockerfile": FROM,
            "app/Dockerfile.local": FROM,
        },
    )
    assert found(root=tmp_path) == ["app/Dockerfile", "app/keep.gen.Dockerfile"]
    everything = found(root=tmp_path, respect_gitignore=False)
    assert "build/Dockerfile" in everything and "app/Dockerfile.local" in everything


def test_gitignore_of_the_enclosing_repository_applies_to_a_subdirectory_walk(tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path, {".gitignore": "/svc/generated/\n", "svc/generated/Dockerfile": FROM, "svc/Dockerfile": FROM})
    items = list(discover([str(tmp_path / "svc")]))
    assert [os.path.relpath(i.path, tmp_path) for i in items] == ["svc/Dockerfile"]


def test_default_excludes(tmp_path):
    write(tmp_path, {"node_modules/x/Dockerfile": FROM, ".venv/Dockerfile": FROM, "Dockerfile": FROM})
    from slimfile.ignore import DEFAULT_EXCLUDE

    assert found(root=tmp_path, exclude=DEFAULT_EXCLUDE) == ["Dockerfile"]


@pytest.mark.usefixtures("sample_rules")
class TestExcludeOptions:
    @pytest.fixture
    def tree(self, tmp_path):
        write(
            tmp_path,
            {
                "Dockerfile": FROM,
                "node_modules/pkg/Dockerfile": FROM,
                "vendor/Dockerfile": FROM,
                "examples/demo/Dockerfile": FROM,
            },
        )
        return tmp_path

    def test_defaults_skip_node_modules(self, cli, tree):
        assert _checked(cli, tree) == ["Dockerfile", "examples/demo/Dockerfile", "vendor/Dockerfile"]

    def test_exclude_replaces_the_defaults(self, cli, tree):
        assert _checked(cli, tree, "--exclude", "vendor") == [
            "Dockerfile",
            "examples/demo/Dockerfile",
            "node_modules/pkg/Dockerfile",
        ]

    def test_extend_exclude_adds_to_the_defaults(self, cli, tree):
        assert _checked(cli, tree, "--extend-exclude", "examples/", "--extend-exclude", "vendor") == ["Dockerfile"]

    def test_explicit_files_are_processed_unless_force_exclude(self, cli, tree):
        assert _checked(cli, tree, "--extend-exclude", "vendor", "vendor/Dockerfile") == ["vendor/Dockerfile"]
        assert _checked(cli, tree, "--extend-exclude", "vendor", "--force-exclude", "vendor/Dockerfile") == []

    def test_config_exclude_is_relative_to_its_directory(self, cli, tree):
        write(tree, {"examples/slimfile.toml": 'extend-exclude = ["demo/"]\n', "examples/other/Dockerfile": FROM})
        assert _checked(cli, tree) == ["Dockerfile", "examples/other/Dockerfile", "vendor/Dockerfile"]

    def test_root_config_exclude_replaces_defaults(self, cli, tree):
        write(tree, {"slimfile.toml": 'exclude = ["vendor"]\n'})
        assert _checked(cli, tree) == ["Dockerfile", "examples/demo/Dockerfile", "node_modules/pkg/Dockerfile"]

    def test_config_respect_gitignore_false(self, cli, tree):
        (tree / ".git").mkdir()
        write(tree, {".gitignore": "vendor/\n"})
        assert "vendor/Dockerfile" not in _checked(cli, tree)
        write(tree, {"slimfile.toml": "respect-gitignore = false\n"})
        assert "vendor/Dockerfile" in _checked(cli, tree)
        (tree / "slimfile.toml").unlink()
        assert "vendor/Dockerfile" in _checked(cli, tree, "--no-respect-gitignore")


def _checked(cli, root: Path, *args: str) -> list[str]:
    """The files `slimfile check` processed: every Dockerfile gets a finding (XT103, `sudo`),
    so the files named in the JSON report are exactly the files checked."""
    for path in root.rglob("*"):
        if path.is_file() and is_dockerfile_name(path.name) and path.read_text() == FROM:
            path.write_text(FROM + "RUN sudo true\n")
    result = cli("check", "--output-format", "json", "--exit-zero", *args, cwd=root)
    assert result.exit_code == 0, result.stderr
    return sorted({item["filename"] for item in json.loads(result.out)})


def test_symlink_loop_does_not_hang(tmp_path):
    write(tmp_path, {"a/Dockerfile": FROM})
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "a" / "up").symlink_to(tmp_path, target_is_directory=True)
    assert found(root=tmp_path) == ["a/Dockerfile"]


def test_symlinks_out_of_the_root_are_not_followed(tmp_path):
    outside = tmp_path / "outside"
    write(outside, {"Dockerfile": FROM})
    root = tmp_path / "root"
    write(root, {"Dockerfile": FROM})
    (root / "ext").symlink_to(outside, target_is_directory=True)
    (root / "ext.Dockerfile").symlink_to(outside / "Dockerfile")
    assert found(root=root) == ["Dockerfile"]


def test_symlinks_inside_the_root_are_followed_once(tmp_path):
    write(tmp_path, {"real/Dockerfile": FROM})
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)
    assert found(root=tmp_path) == ["alias/Dockerfile"]  # same file, reported once


def test_missing_path_is_reported_not_raised(tmp_path):
    items = list(discover([str(tmp_path / "nope"), str(tmp_path)]))
    assert isinstance(items[0], InputError) and "no such file" in str(items[0])


class TestFilesThatAreNotDockerfiles:
    def test_binary_file_found_by_walking_is_skipped_with_a_warning(self, cli, tmp_path):
        write(tmp_path, {"Dockerfile": FROM, "blob/Dockerfile.bin": b"\x7fELF\x00\x01"})
        result = cli("check", ".", cwd=tmp_path)
        assert result.exit_code == 0
        assert "warning: skipped blob/Dockerfile.bin:1: binary file (contains a NUL byte)" in result.stderr

    def test_binary_file_named_explicitly_is_an_error(self, cli, tmp_path):
        write(tmp_path, {"Dockerfile": b"FROM x\x00\n"})
        result = cli("check", "Dockerfile", cwd=tmp_path)
        assert result.exit_code == 2
        assert "error: Dockerfile:1: binary file" in result.stderr

    def test_too_large_file_is_skipped(self, cli, tmp_path):
        write(tmp_path, {"Dockerfile": FROM, "big/Dockerfile": b"# x\n" * (MAX_BYTES // 4 + 1)})
        result = cli("check", ".", cwd=tmp_path)
        assert result.exit_code == 0
        assert "warning: skipped big/Dockerfile: file is larger than 4 MiB" in result.stderr

    def test_input_without_a_size_is_read_only_up_to_the_limit(self, cli, tmp_path):
        """Standard input and ``/dev/zero`` have no size to look at first: standard input over
        4 MiB was checked ("All checks passed!"), and ``/dev/zero`` was read for ever."""
        big = b"RUN echo hi\n" * (MAX_BYTES // 12 + 1)
        for args in (("check", "-"), ("fix", "--diff", "-"), ("parse", "-")):
            result = cli(*args, cwd=tmp_path, stdin=big)
            assert result.exit_code == 2, args
            assert "error: -: file is larger than 4 MiB" in result.stderr, args
        endless = run_slimfile("check", "/dev/zero", cwd=tmp_path)  # a subprocess: a regression times out
        assert endless.returncode == 2 and b"error: /dev/zero: file is larger than 4 MiB" in endless.stderr

    def test_a_gitignore_that_never_ends_is_not_read(self, cli, tmp_path):
        """A repository under review may hold a .gitignore that links to /dev/zero (read for
        ever, then out of memory) or is a FIFO (opening it waited for a writer for ever)."""
        write(tmp_path, {"zero/app/Dockerfile": "FROM debian:12\n", "fifo/app/Dockerfile": "FROM debian:12\n", "zero/.git/HEAD": "x", "fifo/.git/HEAD": "x"})
        os.symlink("/dev/zero", tmp_path / "zero" / ".gitignore")
        os.mkfifo(tmp_path / "fifo" / ".gitignore")
        result = run_slimfile("check", "--select", "SF801", ".", cwd=tmp_path)  # a subprocess: a regression times out
        assert result.returncode == 1 and b"fifo/app/Dockerfile:1:6: SF801" in result.stdout and b"zero/app/Dockerfile:1:6: SF801" in result.stdout

    @pytest.mark.usefixtures("sample_rules")
    def test_invalid_utf8_is_processed_and_its_bytes_preserved(self, cli, tmp_path):
        source = b"FROM debian\n# caf\xe9 (latin-1)\nRUN echo \xff\xfe && apt-get install -y curl\n"
        write(tmp_path, {"Dockerfile": source})
        assert cli("fix", ".", cwd=tmp_path).exit_code == 0
        assert (tmp_path / "Dockerfile").read_bytes() == source.replace(
            b"install -y", b"install --no-install-recommends -y"
        )


class TestExcludeRules:
    """Plain names take a fast path; the answers must be gitignore's all the same."""

    def rules(self, base, *patterns):
        from slimfile.ignore import ExcludeRules

        return ExcludeRules([(base, patterns)])

    def test_plain_names_match_at_any_depth(self, tmp_path):
        rules = self.rules(tmp_path, "vendor", "build/")
        assert rules.matches(tmp_path / "a" / "vendor", is_dir=True)
        assert rules.matches(tmp_path / "a" / "vendor", is_dir=False)
        assert rules.matches(tmp_path / "build", is_dir=True)
        assert not rules.matches(tmp_path / "build", is_dir=False)  # dir-only pattern
        assert not rules.matches(tmp_path / "vendored", is_dir=True)

    def test_nothing_outside_the_base_matches(self, tmp_path):
        rules = self.rules(tmp_path / "sub", "vendor", "*.gen.Dockerfile")
        assert not rules.matches(tmp_path / "vendor", is_dir=True)
        assert not rules.matches(tmp_path / "x.gen.Dockerfile", is_dir=False)
        assert rules.matches(tmp_path / "sub" / "x.gen.Dockerfile", is_dir=False)

    def test_anchored_and_glob_patterns(self, tmp_path):
        rules = self.rules(tmp_path, "/top", "docs/**/Dockerfile.*")
        assert rules.matches(tmp_path / "top", is_dir=True)
        assert not rules.matches(tmp_path / "a" / "top", is_dir=True)
        assert rules.matches(tmp_path / "docs" / "x" / "y" / "Dockerfile.dev", is_dir=False)

    def test_negation_keeps_gitignore_order(self, tmp_path):
        rules = self.rules(tmp_path, "*.Dockerfile", "!keep.Dockerfile")
        assert rules.matches(tmp_path / "a.Dockerfile", is_dir=False)
        assert not rules.matches(tmp_path / "keep.Dockerfile", is_dir=False)
