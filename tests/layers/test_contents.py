"""Reading ``docker save`` archives: layer order from the manifest, whiteouts, digests, npm
dev packages; both the classic and the OCI layout, and compressed layers."""

from __future__ import annotations

import gzip
import hashlib
import io
import json

import pytest

from slimfile.layers.contents import SavedImageError, read_layer, read_saved_image
from tests.layers.saved_images import Layer, history_and_config, saved_archive
from tests.verify.tarfiles import Item

LAYERS = [
    Layer([Item("etc", kind="dir"), Item("etc/os-release", b"debian"), Item("bin/sh", kind="symlink", link="dash")], created_by=""),
    Layer([Item("var/lib/apt/lists/Packages", b"x" * 1000)], created_by="RUN /bin/sh -c apt-get update # buildkit"),
    Layer(whiteouts=["var/lib/apt/lists/Packages"], opaque=["etc"], created_by="RUN /bin/sh -c rm -rf /var/lib/apt/lists/* # buildkit"),
]


@pytest.mark.parametrize("layout", ["classic", "oci"])
def test_layers_come_in_manifest_order_with_their_contents(layout):
    _, config = history_and_config(LAYERS)
    saved = read_saved_image(saved_archive(LAYERS, config, layout))
    assert [sorted(layer.files) for layer in saved.layers] == [["bin/sh", "etc", "etc/os-release"], ["var/lib/apt/lists/Packages"], []]
    first, second, third = saved.layers
    assert first.files["etc/os-release"].digest == hashlib.sha256(b"debian").digest()
    assert first.files["bin/sh"].kind == "symlink" and first.files["bin/sh"].size == len("dash")
    assert first.file_bytes == 6 and first.symlink_bytes == 4
    assert second.file_bytes == 1000
    assert third.whiteouts == ["var/lib/apt/lists/Packages"] and third.opaque == ["etc"] and not third.files
    assert saved.config["rootfs"]["diff_ids"] == config["rootfs"]["diff_ids"]


def test_a_gzip_compressed_layer_is_read_too():
    raw = Layer([Item("app/a.txt", b"hello")]).tar_bytes()
    layer = read_layer("blob", io.BytesIO(gzip.compress(raw)))
    assert layer.files["app/a.txt"].size == 5


def test_an_archive_without_manifest_is_an_error():
    with pytest.raises(SavedImageError, match="manifest.json"):
        read_saved_image(io.BytesIO(Layer([Item("a", b"1")]).tar_bytes()))


def test_npm_hidden_lockfile_marks_dev_packages():
    lock = {
        "packages": {
            "": {"name": "app"},
            "node_modules/jest": {"dev": True},
            "node_modules/@types/node": {"dev": True},
            "node_modules/express": {},
            "node_modules/a/node_modules/b": {"dev": True},
            "node_modules/opt": {"devOptional": True},
        }
    }
    tar = Layer([Item("app/node_modules/.package-lock.json", json.dumps(lock).encode())]).tar_bytes()
    layer = read_layer("l", io.BytesIO(tar))
    assert layer.dev_packages == {
        "app/node_modules/.package-lock.json": frozenset(
            {"app/node_modules/jest", "app/node_modules/@types/node", "app/node_modules/a/node_modules/b"}
        )
    }
