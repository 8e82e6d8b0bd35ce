"""The HTML report: self-contained, every format's selection applies, rendered in Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "fixtures" / "dataset"
META = ROOT / "fixtures" / "metadata.json"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def browser() -> str | None:
    """A headless-capable Chromium, from $CHROMIUM or the PATH."""
    named = os.environ.get("CHROMIUM")
    if named:
        return shutil.which(named) or (named if os.path.isfile(named) else None)
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory) -> str:
    from empiar_validate.cli import main

    out = tmp_path_factory.mktemp("html")
    page = out / "report.html"
    code = main(["scan", str(SAMPLE), "--metadata", str(META), "-o", str(out / "entry.xml"),
                 "--html", str(page), "--thumbnails", "-q"])
    assert code == 0
    return page.read_text(encoding="utf-8")


def test_the_report_is_self_contained(sample_report):
    for tag, attrs in _tags(sample_report):
        for key in ("src", "href"):
            value = attrs.get(key)
            assert value is None or value.startswith("data:"), (tag, key, value)
        assert tag not in ("link", "script", "iframe")
    assert "@import" not in sample_report and "url(" not in sample_report


def test_the_report_lists_every_image_set_with_a_thumbnail(sample_report):
    rows = re.findall(r"<tr class=image-set>(.*?)</tr>", sample_report)
    assert len(rows) == 7
    assert all('<img class=thumb' in row for row in rows)
    assert "<td>4000</td>" in sample_report and "<td>BIG DATA VIEWER HDF5" not in sample_report


def test_two_runs_are_byte_identical(tmp_path, run_cli):
    pages = []
    for _ in range(2):
        code, html, _err = run_cli("scan", SAMPLE, "--metadata", META, "-o", tmp_path / "e.xml",
                                "--format", "html", "--thumbnails")
        assert code == 0
        pages.append(html)
    assert pages[0] == pages[1]


def test_ignore_applies_to_the_html_report(tmp_path, run_cli):
    entry = tmp_path / "entry.xml"
    entry.write_bytes((ROOT / "fixtures/xml/invalid/S101-orcid-checksum.xml").read_bytes())
    code, html, _ = run_cli("validate", entry, "--format", "html")
    assert code == 1 and "S101" in html and "FAILED" in html
    code, html, _ = run_cli("validate", entry, "--format", "html", "--ignore", "orcid-checksum")
    assert code == 0 and "S101" not in html and "id=verdict>OK<" in html


def test_inspect_and_check_render_too(tmp_path, run_cli):
    code, html, _ = run_cli("inspect", SAMPLE / "volume", "--format", "html")
    assert code == 0 and "<table id=files>" in html and "emd_99999_map.mrc" in html
    entry = tmp_path / "entry.xml"
    run_cli("scan", SAMPLE, "--metadata", META, "-o", entry, "-q")
    code, html, _ = run_cli("check", SAMPLE, "--xml", entry, "--format", "html", "--thumbnails")
    assert code == 0 and html.count("<tr class=image-set>") == 7 and html.count("<img") == 7


def test_package_and_validate_render_too(tmp_path, run_cli):
    """package's report data has "files" as a count, not a list of records: the page still
    renders (it raised TypeError), one row per image set."""
    code, html, err = run_cli("package", SAMPLE, "--metadata", META, "-o", tmp_path / "pkg",
                              "--format", "html")
    assert code == 0, err
    assert html.count("<tr class=image-set>") == 7 and "<table id=files>" not in html
    code, html, err = run_cli("validate", tmp_path / "pkg" / "entry.xml", "--format", "html")
    assert code == 0 and "id=verdict>OK<" in html, err


_PROBE = """<script>
addEventListener("load", () => {
  const shown = [...document.images].filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.setAttribute("data-rows", document.querySelectorAll("tr.image-set").length);
  document.body.setAttribute("data-images", shown);
});
</script>"""


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    exe = browser()
    assert exe is not None
    return subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--hide-scrollbars", *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(browser() is None, reason="no Chromium found (install Debian's `chromium` "
                    "or set CHROMIUM=/path/to/chrome) to render the HTML report")
def test_chromium_renders_every_image_set_and_thumbnail(sample_report, tmp_path):
    """The page as Chromium builds it: 7 image-set rows and 7 decoded thumbnails."""
    page = tmp_path / "probe.html"
    page.write_text(sample_report.replace("</body>", _PROBE + "\n</body>"), encoding="utf-8")
    done = _chromium("--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    body = re.search(r"<body[^>]*>", done.stdout)
    assert body is not None, done.stdout[:2000]
    assert 'data-rows="7"' in body.group(0) and 'data-images="7"' in body.group(0), body.group(0)
    shot = tmp_path / "shot.png"
    done = _chromium("--window-size=1400,1100", f"--screenshot={shot}", page.as_uri())
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
