"""Filesystem comparison on synthetic tar exports (no Docker needed)."""

from slimfile.verify.fs_diff import diff_manifests, read_manifest, remove_noise
from slimfile.verify.ignore_rules import default_rules
from tests.verify.tarfiles import Item, tar_stream

BASE = (
    Item("app/", kind="dir", mode=0o755),
    Item("app/main.py", b"print('hi')\n"),
    Item("app/run.sh", b"#!/bin/sh\n", mode=0o755),
    Item("usr/bin/tool", b"\x7fELF tool"),
    Item("usr/bin/tool-alias", kind="symlink", link="tool"),
    Item("var/lib/apt/lists/big_Packages", b"x" * 5000),
    Item("var/log/dpkg.log", b"2024-01-01 install\n"),
    Item("usr/lib/python3/__pycache__/m.cpython-311.pyc", b"\x00\x01 mtime-1"),
)


def manifest(*items):
    return read_manifest(tar_stream(*items))


def is_app(path):
    return path == "app" or path.startswith("app/")


def test_manifest_records_type_mode_owner_and_content_hash():
    entries = manifest(*BASE, Item("etc/secret", b"k", mode=0o4750, uid=1000, gid=50))
    assert entries["app"].kind == "dir"
    assert entries["usr/bin/tool-alias"].kind == "symlink" and entries["usr/bin/tool-alias"].link == "tool"
    secret = entries["etc/secret"]
    assert (secret.mode, secret.uid, secret.gid, secret.size) == (0o4750, 1000, 50, 1)
    assert secret.digest == "8254c329a92850f6d539dd376f4816ee2764517da5e0235514af433164480d7a"  # sha256("k")


def test_a_hard_link_is_the_file_it_links_to():
    entries = manifest(Item("bin/a", b"same"), Item("bin/b", kind="hardlink", link="bin/a"))
    assert entries["bin/b"].kind == "file" and entries["bin/b"].digest == entries["bin/a"].digest


def test_identical_images_have_no_differences_even_with_other_mtimes():
    later = tuple(Item(i.path, i.content, i.kind, i.mode, i.uid, i.gid, i.link, mtime=i.mtime + 99) for i in BASE)
    diff = diff_manifests(manifest(*BASE), manifest(*later), default_rules(), is_app)
    assert diff.changes == []
    assert diff.compared == 6  # apt lists and the log are not compared


def test_changes_are_classified_and_described():
    after = manifest(
        Item("app/", kind="dir", mode=0o755),
        Item("app/main.py", b"print('bye')\n"),  # content
        Item("app/run.sh", b"#!/bin/sh\n", mode=0o644),  # mode
        Item("usr/bin/tool-alias", kind="symlink", link="other"),  # link target
        Item("usr/bin/new", b"n"),  # added
        Item("usr/lib/python3/__pycache__/m.cpython-311.pyc", b"\x00\x01 mtime-2"),  # content-blind
    )
    diff = diff_manifests(manifest(*BASE), after, default_rules(), is_app)
    described = {c.path: (c.change, c.category, c.fields) for c in diff.changes}
    assert described == {
        "app/main.py": ("changed", "app", ("content",)),
        "app/run.sh": ("changed", "app", ("mode",)),
        "usr/bin/tool": ("removed", "system", ()),
        "usr/bin/tool-alias": ("changed", "system", ("link",)),
        "usr/bin/new": ("added", "system", ()),
    }
    assert [c.describe() for c in diff.by_category("app")] == ["/app/main.py changed (content)", "/app/run.sh changed (mode)"]


def test_owner_and_type_changes_are_differences():
    before = manifest(Item("data", b"x", uid=0), Item("cfg", b"y"))
    after = manifest(Item("data", b"x", uid=1000), Item("cfg", kind="dir", mode=0o755))
    fields = {c.path: c.fields for c in diff_manifests(before, after, default_rules()).changes}
    assert fields == {"data": ("owner",), "cfg": ("kind", "mode")}


def test_ignored_groups_are_tallied_so_the_saving_stays_visible():
    after = manifest(*[i for i in BASE if not i.path.startswith("var/lib/apt")])
    diff = diff_manifests(manifest(*BASE), after, default_rules(), is_app)
    apt = diff.ignored["apt lists and archives"]
    assert (apt.files_before, apt.bytes_before, apt.files_after, apt.bytes_after) == (1, 5000, 0, 0)
    assert diff.changes == []


def test_differences_a_control_build_also_shows_are_noise():
    original = manifest(Item("opt/data.gz", b"gz-time-1"), Item("opt/conf", b"a"), Item("tmp/tmp.AAA", b""))
    control = manifest(Item("opt/data.gz", b"gz-time-2"), Item("opt/conf", b"a"), Item("tmp/tmp.BBB", b""))
    rewritten = manifest(Item("opt/data.gz", b"gz-time-3", mode=0o600), Item("opt/conf", b"b"), Item("tmp/tmp.CCC", b""))
    rules = default_rules()
    diff = remove_noise(diff_manifests(original, rewritten, rules), diff_manifests(original, control, rules))
    kept = {c.path: (c.change, c.fields) for c in diff.changes}
    # data.gz's content is noise but its mode is not; conf is a real change; tmp.AAA vanishing is noise
    assert kept == {"opt/data.gz": ("changed", ("mode",)), "opt/conf": ("changed", ("content",)), "tmp/tmp.CCC": ("added", ())}
    assert [c.path for c in diff.nondeterministic] == ["tmp/tmp.AAA"]


def test_report_form_is_plain_data():
    diff = diff_manifests(manifest(*BASE), manifest(*BASE[:2]), default_rules(), is_app)
    data = diff.to_dict()
    assert data["app_changes"] == 1 and data["system_changes"] == 3
    assert data["app"][0] == {
        "path": "/app/run.sh",
        "change": "removed",
        "category": "app",
        "before": {"kind": "file", "mode": "0755", "owner": "0:0", "size": 10, "sha256": data["app"][0]["before"]["sha256"]},
        "after": None,
    }
