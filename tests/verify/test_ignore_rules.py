"""The ignore list is data (slimfile/data/verify_ignore.toml); these tests pin what it covers."""

import pytest

from slimfile.verify.ignore_rules import DATA_FILE, default_rules, parse_rules


@pytest.mark.parametrize(
    ("path", "group"),
    [
        ("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", "apt lists and archives"),
        ("var/cache/apt/archives/curl_7.88.deb", "apt lists and archives"),
        ("root/.cache/pip/wheels/ab/docopt-0.6.2-py2.py3-none-any.whl", "user caches"),
        ("root/.cache", "user caches"),  # "dir/**" covers the directory itself
        ("home/app/.cache/go-build/00/abc", "user caches"),
        ("root/.npm/_cacache/index-v5/aa/bb", "language package caches"),
        ("var/log/dpkg.log", "logs"),
        ("var/cache/debconf/templates.dat-old", "debconf backups"),
        ("var/cache/ldconfig/aux-cache", "ldconfig auxiliary cache"),
        (".dockerenv", "container runtime files"),
        ("etc/hosts", "container runtime files"),
    ],
)
def test_caches_lists_and_logs_are_ignored(path, group):
    found = default_rules().ignored_group(path)
    assert found is not None and found.name == group


@pytest.mark.parametrize(
    "path",
    ["app/main.py", "usr/bin/curl", "var/lib/dpkg/status", "etc/ssl/certs/ca-certificates.crt", "var/logs", "root/.bashrc", "root/.cachex", "usr/local/lib/python3.11/site-packages/bottle.py"],
)
def test_everything_else_is_compared(path):
    assert default_rules().ignored_group(path) is None


def test_bytecode_is_compared_without_its_content():
    rules = default_rules()
    assert not rules.compares_content("usr/local/lib/python3.11/site-packages/__pycache__/six.cpython-311.pyc")
    assert rules.compares_content("usr/local/lib/python3.11/site-packages/six.py")


def test_v8_code_caches_are_compared_without_their_content():
    """pnpm writes V8's compiled code of itself there during `pnpm install`; the bytes differ
    between two builds of the same Dockerfile (seen on fixtures/apps/pnpm-app)."""
    rules = default_rules()
    cache = "tmp/v8-compile-cache-0/10.2.154.26-node.37/zSusrzSlocalzSlibzSnode_moduleszSpnpmzSbinzSpnpm.cjs.MAP"
    assert not rules.compares_content(cache)
    assert rules.ignored_group(cache) is None  # still compared by type, mode and owner
    assert rules.compares_content("tmp/app.js")


def test_cargos_rustc_probe_cache_is_compared_without_its_content():
    """cargo serialises its rustc probe answers from a hash map: the key order differs between
    two builds of the same Dockerfile (seen on fixtures/apps/rust-cli in CI)."""
    rules = default_rules()
    assert not rules.compares_content("usr/src/wordcount/target/.rustc_info.json")
    assert rules.ignored_group("usr/src/wordcount/target/.rustc_info.json") is None
    assert rules.compares_content("usr/src/wordcount/target/release/wordcount")


def test_every_group_states_its_reason():
    rules = parse_rules(DATA_FILE.read_text(encoding="utf-8"))
    for group in (*rules.ignored, *rules.content_blind):
        assert len(group.reason) > 20 and group.patterns


def test_a_group_without_a_reason_is_refused():
    with pytest.raises(ValueError, match="name, reason and patterns"):
        parse_rules('[[ignore]]\nname = "x"\npatterns = ["tmp/**"]\n')
