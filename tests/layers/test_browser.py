"""The HTML report in a real headless browser (marker ``browser``): Chromium loads the page
with the network off, lays out the chart, and takes a screenshot.

Without Chromium the test is skipped with the reason, except under ``SLIMFILE_REQUIRE_ALL=1``
(CI), where a missing browser is a failure. Install it with ``apt-get install -y chromium``.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile

import pytest

from slimfile.layers.render import as_html
from tests.layers.sample import sample_report

pytestmark = pytest.mark.browser

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-extensions", "--disable-default-apps",
]


def chromium() -> str:
    """The browser (the marker's hook in tests/conftest.py has skipped the test, or failed it
    under SLIMFILE_REQUIRE_ALL=1, when there is none)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found is not None
    return found


def run_chromium(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="slimfile-chromium-") as profile:
        return subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120, check=False
        )


def test_chromium_renders_the_chart_and_the_tables(tmp_path):
    page = tmp_path / "layers.html"
    page.write_text(as_html(sample_report(tmp_path)), encoding="utf-8")
    done = run_chromium("--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert 'id="layer-chart"' in dom and dom.count('class="layer"') == 5
    assert "SF501" in dom and "deleted by line 4" in dom


def test_chromium_takes_a_screenshot_of_the_page(tmp_path):
    page = tmp_path / "layers.html"
    page.write_text(as_html(sample_report(tmp_path)), encoding="utf-8")
    shot = tmp_path / "layers.png"
    done = run_chromium(f"--screenshot={shot}", "--window-size=1200,900", page.as_uri())
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1200, 900)
    assert len(data) > 20_000  # a page with text and bars, not a blank image
