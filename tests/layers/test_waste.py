"""The layer walk: what later layers delete or overwrite, what stays as waste in the final
filesystem, duplicates, npm dev packages, and the categories of data/waste.toml."""

from __future__ import annotations

import json

import pytest

from slimfile.layers.catalog import default_catalog
from slimfile.layers.contents import read_saved_image
from slimfile.layers.waste import largest_files, largest_folders, measure_waste
from tests.layers.saved_images import Layer, history_and_config, saved_archive
from tests.verify.tarfiles import Item


def measure(layers, env=None):
    _, config = history_and_config(layers, env=env)
    saved = read_saved_image(saved_archive(layers, config))
    catalog = default_catalog()
    env_map = dict(e.split("=", 1) for e in (env or []))
    return saved, measure_waste(saved.layers, catalog, catalog.classifier(env_map))


def buckets(result):
    return {(b.layer, b.kind, b.category.name, b.other_layer): (b.bytes, b.files) for b in result.buckets}


def test_lists_deleted_by_a_later_layer_stay_in_the_layer_that_wrote_them():
    layers = [
        Layer([Item("var/lib/apt/lists", kind="dir"), Item("var/lib/apt/lists/a_Packages", b"p" * 700), Item("var/lib/apt/lists/b_InRelease", b"r" * 300), Item("usr/bin/jq", b"j" * 50)]),
        Layer(whiteouts=["var/lib/apt/lists/a_Packages", "var/lib/apt/lists/b_InRelease"]),
    ]
    _, result = measure(layers)
    assert buckets(result) == {(0, "deleted", "apt", 1): (1000, 2)}
    assert result.hidden_bytes == 1000 and result.final_bytes == 50 and result.final_files == 1


def test_a_whiteout_of_a_directory_hides_its_whole_subtree():
    layers = [
        Layer([Item("root/.cache/pip/http/a", b"a" * 10), Item("root/.cache/pip/http/b/c", b"c" * 20), Item("root/keep", b"k")]),
        Layer(whiteouts=["root/.cache"]),
    ]
    _, result = measure(layers)
    assert buckets(result) == {(0, "deleted", "pip", 1): (30, 2)}


def test_an_opaque_directory_hides_what_lower_layers_had_in_it_but_not_its_own_files():
    layers = [
        Layer([Item("opt/app/old.bin", b"o" * 40), Item("opt/app/sub/deep.bin", b"d" * 60)]),
        Layer([Item("opt/app", kind="dir"), Item("opt/app/new.bin", b"n" * 5)], opaque=["opt/app"]),
    ]
    _, result = measure(layers)
    assert buckets(result) == {(0, "deleted", "deleted", 1): (100, 2)}
    assert result.final_bytes == 5


def test_overwritten_files_and_a_directory_replaced_by_a_file():
    layers = [
        Layer([Item("app/config.json", b"1" * 30), Item("app/data/x", b"x" * 8), Item("app/data/y", b"y" * 2)]),
        Layer([Item("app/config.json", b"2" * 31), Item("app/data", b"now a file")]),
    ]
    _, result = measure(layers)
    assert buckets(result) == {(0, "overwritten", "overwritten", 1): (30, 1), (0, "deleted", "deleted", 1): (10, 2)}


def test_duplicates_across_layers_count_the_later_copies():
    same = b"same bytes" * 10
    layers = [
        Layer([Item("app/a.bin", same), Item("app/a2.bin", same)]),  # within one layer: not "across layers"
        Layer([Item("srv/copy.bin", same), Item("srv/other.bin", b"other")]),
        Layer([Item("srv/third.bin", same)]),
    ]
    _, result = measure(layers)
    assert buckets(result) == {(1, "duplicate", "duplicate", 0): (100, 1), (2, "duplicate", "duplicate", 0): (100, 1)}


def test_empty_files_and_symlinks_are_not_waste():
    layers = [Layer([Item("a/empty", b"")]), Layer([Item("b/empty", b""), Item("b/link", kind="symlink", link="../a/empty")])]
    _, result = measure(layers)
    assert result.buckets == []


@pytest.mark.parametrize(
    ("path", "category"),
    [
        ("var/lib/apt/lists/deb.debian.org_Packages.lz4", "apt"),
        ("var/cache/apt/pkgcache.bin", "apt"),
        ("root/.cache/pip/wheels/ab/x.whl", "pip"),
        ("home/app/.cache/pip/http/1", "pip"),
        ("root/.npm/_cacache/content-v2/x", "npm"),
        ("usr/local/share/.cache/yarn/v6/x", "yarn"),
        ("root/.cache/go-build/00/abc-d", "go-build-cache"),
        ("go/pkg/mod/cache/download/x", "go-build-cache"),  # $GOPATH/pkg/mod with GOPATH=/go
        ("usr/lib/go-1.19/pkg/tool/linux_amd64/compile", "build-toolchain"),
        ("usr/libexec/gcc/x86_64-linux-gnu/12/cc1", "build-toolchain"),
        ("usr/bin/x86_64-linux-gnu-gcc-12", "build-toolchain"),
        ("usr/include/stdio.h", "headers-static-libs"),
        ("usr/lib/x86_64-linux-gnu/libc.a", "headers-static-libs"),
        ("usr/share/doc/jq/copyright", "docs"),
        ("usr/share/man/man1/jq.1.gz", "docs"),
        ("app/.git/objects/pack/p.pack", "vcs"),
        ("app/tests/test_x.py", "tests"),
        ("usr/local/bundle/doc/rake/ri/x", "gem-docs"),
        ("var/log/dpkg.log", "tmp-logs"),
        ("tmp/build.tar", "tmp-logs"),
    ],
)
def test_categories(path, category):
    classifier = default_catalog().classifier({"GOPATH": "/go"})
    found = classifier.classify(path)
    assert found is not None and found.name == category


@pytest.mark.parametrize("path", ["usr/bin/test", "usr/bin/ldd", "usr/bin/python3.11", "app/main.py", "var/lib/apt/extended_states", "usr/lib/x86_64-linux-gnu/libc.so.6"])
def test_not_waste(path):
    assert default_catalog().classifier({}).classify(path) is None


def test_cache_paths_named_by_a_variable_follow_the_image_environment():
    assert default_catalog().classifier({"GOCACHE": "/build/go-cache"}).classify("build/go-cache/00/x").name == "go-build-cache"
    assert default_catalog().classifier({}).classify("build/go-cache/00/x") is None


def test_npm_dev_packages_in_the_final_image():
    lock = {"packages": {"node_modules/jest": {"dev": True}, "node_modules/express": {}}}
    layers = [
        Layer([
            Item("app/node_modules/.package-lock.json", json.dumps(lock).encode()),
            Item("app/node_modules/jest/index.js", b"j" * 70),
            Item("app/node_modules/jest/tests/t.js", b"t" * 5),
            Item("app/node_modules/express/index.js", b"e" * 40),
        ])
    ]
    _, result = measure(layers)
    assert buckets(result) == {(0, "present", "node-dev-dependencies", None): (75, 2)}


def test_largest_files_and_folders_of_a_layer():
    layer = Layer([Item("usr/lib/go-1.19/bin/go", b"g" * 500), Item("usr/lib/go-1.19/src/a.go", b"a" * 100), Item("etc/x", b"x" * 10)])
    _, config = history_and_config([layer])
    saved = read_saved_image(saved_archive([layer], config))
    assert largest_files(saved.layers[0], 2) == [("/usr/lib/go-1.19/bin/go", 500), ("/usr/lib/go-1.19/src/a.go", 100)]
    assert largest_folders(saved.layers[0], 5, 3) == [("/usr/lib/go-1.19", 600, 2), ("/etc", 10, 1)]
