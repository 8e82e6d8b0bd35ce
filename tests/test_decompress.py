"""Compressed TIFF movies: the IFD chain walked through the stream, within a per-file budget."""

from __future__ import annotations

import bz2
import gzip
from pathlib import Path

import numpy as np
import pytest
import tifffile

from empiar_validate.formats import decompress, read_header

FRAMES = 45


def epu_movie(path: Path, frames: int = FRAMES, shape: tuple[int, int] = (96, 128),
              lam: float = 0.0) -> Path:
    """A K3-like movie written page by page as camera software does (an IFD per frame), then
    compressed by bzip2 or gzip as depositors do (``bzip2 *.tiff``)."""
    raw = path.with_suffix("")
    rng = np.random.default_rng(1)
    with tifffile.TiffWriter(raw) as tw:
        for _ in range(frames):
            frame = (rng.poisson(lam, shape) if lam else np.zeros(shape)).astype(np.uint8)
            tw.write(frame, contiguous=False, photometric="minisblack")
    data = raw.read_bytes()
    raw.unlink()
    path.write_bytes(bz2.compress(data) if path.suffix == ".bz2" else gzip.compress(data))
    return path


@pytest.fixture
def budget():
    """Restore the module's budget and workers after a test changes them."""
    saved = decompress.budget(), decompress._workers
    yield decompress
    decompress.set_budget(saved[0])
    decompress.set_workers(saved[1])


@pytest.mark.parametrize("name", ["FoilHole_1_fractions.tiff.bz2", "m_fractions.tif.gz"])
def test_deep_chain_counted_within_default_budget(tmp_path, name):
    # 45 frames of 384 KiB: the last IFD lies ~17 MiB deep, past the old 16 MiB read-ahead
    path = epu_movie(tmp_path / name, shape=(512, 768))
    rec = read_header(path)
    assert (rec.format, rec.width, rec.height, rec.depth) == ("TIFF", 768, 512, FRAMES)
    assert rec.extra["decompressed_bytes"] > 16 << 20
    assert rec.problems == []


def test_walk_stops_at_the_last_ifd(tmp_path):
    path = tmp_path / "m.tiff.bz2"
    raw = tmp_path / "m.tiff"
    with tifffile.TiffWriter(raw) as tw:
        for _ in range(3):
            tw.write(np.zeros((64, 64), np.uint8), contiguous=False)
    trailing = 8 << 20  # a tail after the last IFD is never decompressed
    path.write_bytes(bz2.compress(raw.read_bytes() + b"\0" * trailing))
    walked = decompress.walk_file(str(path), "bzip2", 64 << 20)
    assert walked.chain.complete and walked.chain.pages == 3
    assert walked.decompressed < raw.stat().st_size + (2 << 20)


def test_budget_too_small_gives_unknown_never_one(tmp_path, budget):
    path = epu_movie(tmp_path / "m.tiff.bz2", shape=(256, 256))
    budget.set_budget(1 << 20)
    rec = read_header(path)
    assert rec.depth is None  # unknown, not 1
    assert [p.rule for p in rec.problems] == ["F208"]
    assert "1 MiB" in rec.problems[0].message and "--decompress-budget" in rec.problems[0].message
    assert 1 <= rec.extra["frames_at_least"] < FRAMES
    budget.set_budget(64 << 20)
    assert read_header(path).depth == FRAMES


def test_worker_processes_and_parallel_libraries_agree(tmp_path, budget, monkeypatch):
    pytest.importorskip("indexed_bzip2")
    pytest.importorskip("rapidgzip")
    paths = [epu_movie(tmp_path / f"m{i}.tiff.bz2", frames=5 + i, lam=0.05) for i in range(3)]
    paths.append(epu_movie(tmp_path / "g.tif.gz", frames=7, lam=0.05))
    expected = [5, 6, 7, 7]
    monkeypatch.setattr(decompress, "POOL_MIN_BYTES", 0)  # every file to the pool
    monkeypatch.setattr(decompress, "PARALLEL_MIN_BYTES", 0)  # and to a parallel decoder
    budget.set_workers(2)
    try:
        assert [read_header(p).depth for p in paths] == expected
    finally:
        decompress.shutdown()
    for p, n in zip(paths, expected, strict=True):  # the parallel decompressors, in-process
        comp = "gzip" if p.suffix == ".gz" else "bzip2"
        with decompress.open_stream(str(p), comp, threads=2) as fh:
            assert type(fh).__module__.split(".")[0] in ("rapidgzip", "indexed_bzip2")
        assert decompress.walk_file(str(p), comp, 64 << 20, threads=2).chain.pages == n


def test_stream_window_bounds_memory(tmp_path, monkeypatch):
    path = epu_movie(tmp_path / "m.tiff.bz2", frames=48, shape=(256, 256))
    monkeypatch.setattr(decompress, "KEEP_BYTES", 64 << 10)
    monkeypatch.setattr(decompress, "_BEHIND", 128 << 10)
    with decompress.open_stream(str(path), "bzip2") as fh:
        data = decompress.StreamBytes(fh, 64 << 20)
        from empiar_validate.formats.tiff_ifd import walk as _walk

        chain = _walk(data)  # type: ignore[arg-type]
    assert chain.complete and chain.pages == 48
    assert len(data.buf) <= 64 << 10 and len(data.win) <= (1 << 20) + 3 * (128 << 10)
    assert data.win_start > len(data.buf)  # bytes behind the window were dropped
    with pytest.raises(ValueError, match="jumps back"):
        data.read_at(data.win_start - 16, 16)  # behind the window: refused, not made up


def test_corrupt_stream_is_a_finding(tmp_path):
    path = epu_movie(tmp_path / "m.tiff.bz2", frames=3, lam=0.5)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    rec = read_header(path)
    assert rec.depth is None
    assert {p.rule for p in rec.problems} & {"F203", "F208", "F010"}


@pytest.mark.parametrize("text, value", [
    ("64M", 64 << 20), ("2G", 2 << 30), ("512k", 512 << 10), ("1000", 1000), ("1.5GiB", 3 << 29),
])
def test_parse_size(text, value):
    assert decompress.parse_size(text) == value


@pytest.mark.parametrize("text", ["", "x", "-1M", "0"])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError):
        decompress.parse_size(text)


def test_cli_budget_option_reaches_the_reader_and_resets(tmp_path, run_cli):
    import json

    path = epu_movie(tmp_path / "m.tiff.bz2", shape=(256, 256))
    code, out, _ = run_cli("inspect", path, "--format", "json", "--decompress-budget", "1M")
    rec = json.loads(out)["files"][0]
    assert code == 0 and rec["depth"] is None
    assert [p["rule"] for p in rec["problems"]] == ["F208"]
    code, out, _ = run_cli("inspect", path, "--format", "json")  # back to the default
    assert json.loads(out)["files"][0]["depth"] == FRAMES
    code, _, err = run_cli("inspect", path, "--decompress-budget", "lots")
    assert code == 2 and "not a size" in err
