"""``slimfile layers`` on images built here (marker ``docker``): the waste the issue names is
found at the right line with the right rule, and the figures agree with ``docker history``
and with the layer tars of ``docker save``.

Each fixture of ``fixtures/layers/`` is built once per session by the command's own build
path (``analyze`` with a Dockerfile and no image), kept for the checks, then removed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile

import pytest

from slimfile.layers import LayersRequest, analyze
from slimfile.layers.fixes import FIRES, PENDING
from slimfile.layers.render import as_html
from slimfile.pipeline import all_rules
from tests.conftest import FIXTURES, ROOT
from tests.layers.html_checks import assert_chart_matches, assert_self_contained, parse

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker-builds")]

APPS = FIXTURES / "layers"
KNOWN = {rule.code for rule in all_rules()}
MB = 1_000_000


@pytest.fixture(scope="session")
def reports(engine):
    cache = {}

    def get(name: str):
        if name not in cache:
            report = analyze(LayersRequest(dockerfile=APPS / name / "Dockerfile", keep=True), engine=engine)
            assert report.error is None, (report.error, report.error_log)
            cache[name] = report
        return cache[name]

    yield get
    assert engine.remove_images(r.built_tag for r in cache.values()) == []


def items(report, line, category, kind="present"):
    return [i for i in report.waste if i.line == line and i.category == category and i.kind == kind]


def test_apt_lists_deleted_later_are_waste_at_the_install_line_with_SF501(reports):
    report = reports("apt-lists-later")
    [lists] = items(report, 3, "apt", "deleted")
    assert 15 * MB < lists.bytes < 30 * MB  # bookworm's lists, ~20 MB
    assert lists.other_line == 5 and not lists.from_base
    assert lists.rule.code == "SF501" and lists.rule.status == FIRES and lists.rule.line == 5
    assert any(p.startswith("/var/lib/apt/lists/") for p, _ in lists.examples)
    assert report.recoverable_bytes >= lists.bytes
    assert report.layers[1].origin.line == 3 and report.layers[0].origin.origin == "base"


def test_pip_cache_is_waste_at_the_install_line_with_SF401(reports):
    report = reports("pip-cache")
    [cache] = items(report, 6, "pip")
    assert cache.bytes > 50_000  # the wheel pip built for idna (92 kB)
    assert all(p.startswith("/root/.cache/pip/") for p, _ in cache.examples)
    assert cache.rule.code == "SF401" and cache.rule.status == FIRES and cache.rule.line == 6 and cache.rule.estimate


def test_single_stage_go_build_ships_the_toolchain_removable_by_SF901(reports):
    report = reports("go-single-stage")
    [toolchain] = items(report, 2, "build-toolchain")
    assert toolchain.from_base and toolchain.bytes > 200 * MB  # Go, gcc, binutils of golang:1.19
    assert any("go-1.19" in p or "gcc" in p for p, _ in toolchain.examples)
    [build_cache] = items(report, 5, "go-build-cache")
    assert build_cache.bytes > 100_000 and not build_cache.from_base  # /root/.cache/go-build
    for item in (toolchain, build_cache):
        assert item.rule.code == "SF901"
        assert item.rule.status == (PENDING if "SF901" not in KNOWN else FIRES)
    assert report.efficiency < 0.7


@pytest.mark.parametrize("name", ["apt-lists-later", "pip-cache", "go-single-stage"])
def test_layer_sizes_agree_with_docker_history_and_inspect(reports, engine, name):
    report = reports(name)
    inspect = engine.inspect(report.built_tag)
    assert [l.diff_id for l in report.layers] == inspect["RootFS"]["Layers"]
    history = _docker_history(engine.cli, report.built_tag)
    with_layer = [size for size, created_by in history if size or created_by.startswith(("RUN", "COPY", "ADD", "WORKDIR")) or not created_by]
    sizes = [size for size, created_by in history]
    assert sum(l.history_size for l in report.layers) == sum(sizes) == int(inspect["Size"])
    assert [l.history_size for l in report.layers if l.history_size] == [s for s in with_layer if s]
    for layer in report.layers:
        # Docker counts regular file bytes; for an imported layer, symlink targets too
        assert layer.history_size in (layer.file_bytes, layer.file_bytes + layer.symlink_bytes), layer.index


@pytest.mark.parametrize("name", ["apt-lists-later", "pip-cache"])
def test_layer_bytes_agree_with_the_layer_tars_of_docker_save(reports, engine, tmp_path, name):
    """An independent reading: ``docker save`` to a file, each layer tar summed with tarfile."""
    report = reports(name)
    archive = tmp_path / "image.tar"
    subprocess.run([engine.cli, "save", "-o", str(archive), report.built_tag], check=True, capture_output=True)
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        sums = []
        for name_in_archive in manifest[0]["Layers"]:
            with tarfile.open(fileobj=outer.extractfile(name_in_archive)) as layer:
                sums.append(sum(m.size for m in layer.getmembers() if m.isreg()))
    assert [l.file_bytes for l in report.layers] == sums
    assert report.total_bytes == sum(sums)


def test_html_of_a_real_image_is_self_contained_and_charts_its_figures(reports):
    report = reports("go-single-stage")
    html = as_html(report)
    root = parse(html)
    assert_self_contained(root, html)
    assert_chart_matches(root, report)


def test_cli_exit_codes(reports, docker_host, tmp_path):
    report = reports("apt-lists-later")
    dockerfile = str(APPS / "apt-lists-later" / "Dockerfile")
    ok = _cli("layers", report.built_tag, "--dockerfile", dockerfile, "-o", "json")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["exit_code"] == 0 and data["image"] == report.built_tag
    assert _cli("layers", report.built_tag, "--dockerfile", dockerfile, "--fail-under", "99.9", "-o", "json").returncode == 1
    missing = _cli("layers", "slimfile-layers-test:does-not-exist", "--dockerfile", dockerfile)
    assert missing.returncode == 2 and "image not found" in missing.stderr
    broken = tmp_path / "Dockerfile"
    broken.write_text("FROM debian:bookworm-slim\nRUN exit 3\n")
    failed = _cli("layers", str(broken), "--context", str(tmp_path))
    assert failed.returncode == 2 and "does not build" in failed.stderr


def _docker_history(cli: str, tag: str) -> list[tuple[int, str]]:
    """``docker history`` in bytes, oldest first: (size, instruction as recorded)."""
    done = subprocess.run(
        [cli, "history", "--no-trunc", "--human=false", "--format", "{{.Size}}\t{{.CreatedBy}}", tag],
        check=True, capture_output=True, text=True,
    )
    rows = []
    for line in reversed(done.stdout.splitlines()):
        size, _, created_by = line.partition("\t")
        rows.append((int(size), created_by.removeprefix("/bin/sh -c #(nop) ").strip()))
    return rows


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "slimfile", *args], capture_output=True, text=True, env=env, timeout=900, check=False)
