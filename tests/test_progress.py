"""Progress in human units (GiB, GiB/s, files/s, ETA), drawn on a terminal only, never in CI."""

from __future__ import annotations

import io
import sys

import pytest

from empiar_validate import progress as progress_mod
from empiar_validate.progress import (
    describe,
    format_eta,
    human_bytes,
    human_rate,
    progress,
    progress_enabled,
)


class FakeTTY(io.StringIO):
    """Standard error as a terminal would be, but readable afterwards."""

    def isatty(self) -> bool:
        return True


def test_bytes_in_binary_units():
    assert human_bytes(0) == "0 B"
    assert human_bytes(1023) == "1023 B"
    assert human_bytes(1024) == "1.0 KiB"
    assert human_bytes(int(2.5 * (1 << 30))) == "2.5 GiB"
    assert human_bytes(50 * (1 << 40)) == "50.0 TiB"


def test_rates():
    assert human_rate(770 * (1 << 20), "bytes") == "770 MiB/s"
    assert human_rate(1.25 * (1 << 30), "bytes") == "1.2 GiB/s"
    assert human_rate(12345.6, "files") == "12,346 files/s"
    assert human_rate(None, "bytes") == "-- B/s"
    assert human_rate(None, "files") == "-- files/s"


def test_eta():
    assert format_eta(0) == "0:00"
    assert format_eta(59.4) == "0:59"
    assert format_eta(61) == "1:01"
    assert format_eta(19 * 3600 + 5) == "19:00:05"  # a 50 TB deposition on one machine
    assert format_eta(None) == format_eta(float("nan")) == format_eta(-1) == "--:--"


def test_describe_checksums_and_headers():
    assert describe(3 << 30, 10 << 30, 512 << 20, "bytes") == "3.0/10.0 GiB  512 MiB/s  ETA 0:14"
    assert describe(100, 1000, None, "bytes") == "100/1000 B  -- B/s  ETA --:--"
    assert describe(1234, 20000, 5432.1, "files") == "1,234/20,000 files  5,432 files/s  ETA 0:03"
    # the amount done is given in the total's unit, so the two read against each other
    assert describe(5 << 20, 2 << 30, 1 << 30, "bytes").startswith("0.0/2.0 GiB")


@pytest.mark.parametrize(("env", "tty", "drawn"), [
    ({}, True, True),
    ({"CI": "true"}, True, False),  # GitHub Actions, GitLab CI
    ({"CI": "1"}, True, False),
    ({"CI": "false"}, True, True),
    ({"TERM": "dumb"}, True, False),
    ({}, False, False),  # a pipe or a log file
])
def test_progress_only_on_a_terminal_outside_ci(env, tty, drawn):
    stream = FakeTTY() if tty else io.StringIO()
    assert progress_enabled(stream, env) is drawn


def _draw(monkeypatch, *, ci: str | None, quiet: bool = False, unit="bytes") -> str:
    fake = FakeTTY()
    monkeypatch.setattr(sys, "stderr", fake)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    monkeypatch.delenv("TERM", raising=False)
    total = 4 << 30 if unit == "bytes" else 20000
    with progress("computing checksums", total, quiet=quiet, unit=unit) as tick:
        for _ in range(4):
            tick(total // 8)
    return fake.getvalue()


def test_checksum_bar_reads_in_gib_on_a_terminal(monkeypatch):
    out = _draw(monkeypatch, ci=None)
    assert "computing checksums" in out
    assert "/4.0 GiB" in out and "ETA" in out
    assert "/s" in out


def test_header_bar_counts_files(monkeypatch):
    out = _draw(monkeypatch, ci=None, unit="files")
    assert "/20,000 files" in out and "files/s" in out


def test_no_bar_in_ci_or_quiet_even_on_a_terminal(monkeypatch):
    assert _draw(monkeypatch, ci="true") == ""
    assert _draw(monkeypatch, ci=None, quiet=True) == ""


def test_rich_is_not_imported_without_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    for name in [m for m in sys.modules if m == "rich" or m.startswith("rich.")]:
        monkeypatch.delitem(sys.modules, name)
    with progress("reading headers", 10) as tick:
        tick(10)
    assert "rich" not in sys.modules
    assert progress_mod.progress_enabled() is False
