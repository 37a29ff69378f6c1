"""The warm-rebuild probe: one comment line, and the user's file always restored (no Docker)."""

import os
import signal

import pytest

from slimfile.verify.cache import Interrupted, comment_for, one_line_change, probe_line


@pytest.mark.parametrize(
    ("name", "start"),
    [("app.py", b"# "), ("main.go", b"// "), ("index.js", b"// "), ("q.sql", b"-- "), ("page.html", b"<!-- "), ("site.css", b"/* ")],
)
def test_the_probe_is_a_comment_in_the_files_language(name, start):
    line = probe_line(name, b"code\n", "t0k3n")
    assert line.lstrip(b"\n").startswith(start) and b"t0k3n" in line and line.endswith(b"\n")


def test_unknown_file_types_have_no_comment_style():
    assert comment_for("data.bin") is None and comment_for("package.json") is None


def test_the_probe_is_set_off_by_one_blank_line_and_keeps_crlf():
    assert probe_line("a.py", b"x = 1", "t").startswith(b"\n\n# ")
    assert probe_line("a.go", b"}\n", "t").startswith(b"\n// ")
    assert probe_line("a.go", b"}\n\n", "t").startswith(b"// ")
    line = probe_line("a.py", b"x = 1\r\n", "t")
    assert line.startswith(b"\r\n# ") and line.endswith(b"\r\n")


def test_probes_differ_so_no_rebuild_reuses_another_ones_cache(tmp_path):
    path = tmp_path / "app.py"
    path.write_bytes(b"print(1)\n")
    seen = []
    for _ in range(2):
        with one_line_change(path):
            seen.append(path.read_bytes())
    assert seen[0] != seen[1]


def test_the_file_is_restored_with_its_bytes_mode_and_times(tmp_path):
    path = tmp_path / "app.py"
    path.write_bytes(b"print(1)\r\nprint(2)")
    os.chmod(path, 0o751)
    os.utime(path, ns=(1_600_000_000_000_000_000, 1_650_000_000_000_000_000))
    before = path.stat()
    with one_line_change(path):
        assert path.read_bytes().startswith(b"print(1)\r\nprint(2)\r\n\r\n# slimfile verify")
    after = path.stat()
    assert path.read_bytes() == b"print(1)\r\nprint(2)"
    assert (after.st_mode, after.st_ino, after.st_mtime_ns, after.st_atime_ns) == (before.st_mode, before.st_ino, before.st_mtime_ns, before.st_atime_ns)


def test_the_file_is_restored_when_the_build_fails(tmp_path):
    path = tmp_path / "main.go"
    path.write_bytes(b"package main\n")
    with pytest.raises(RuntimeError), one_line_change(path):
        raise RuntimeError("build failed")
    assert path.read_bytes() == b"package main\n"


def test_the_file_is_restored_on_ctrl_c(tmp_path):
    path = tmp_path / "main.go"
    path.write_bytes(b"package main\n")
    with pytest.raises(KeyboardInterrupt), one_line_change(path):
        os.kill(os.getpid(), signal.SIGINT)
    assert path.read_bytes() == b"package main\n"


def test_the_file_is_restored_on_sigterm_and_the_handler_put_back(tmp_path):
    path = tmp_path / "index.js"
    path.write_bytes(b"console.log(1)\n")
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted), one_line_change(path):
        os.kill(os.getpid(), signal.SIGTERM)
    assert path.read_bytes() == b"console.log(1)\n"
    assert signal.getsignal(signal.SIGTERM) == previous
