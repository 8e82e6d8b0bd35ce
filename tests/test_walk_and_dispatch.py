"""Walking and format dispatch on bad input: every bad file is a finding, never a traceback."""

from __future__ import annotations

import json
import os
import time

import pytest

from empiar_validate.formats import read_header, sniff, split_extension
from empiar_validate.headers import read_all, walk_all
from empiar_validate.walk import walk


def rules_of(records):
    return {r.path: sorted(p.rule for p in r.problems) for r in records}


def test_split_extension():
    assert split_extension("a.MRC.gz") == (".mrc", "gzip")
    assert split_extension("movie.tiff.bz2") == (".tiff", "bzip2")
    assert split_extension("x.mrcs") == (".mrcs", None)


def test_sniff_by_magic_not_extension():
    assert sniff(b"II*\x00" + b"\x00" * 100, ".mrc") == "tiff"
    assert sniff(b"\x89HDF\r\n\x1a\n", ".tif") == "hdf5"
    assert sniff(b"\x00\x00\x00\x04" + b"\x00" * 20, "") == "dm"
    head = bytearray(1024)
    head[208:212] = b"MAP "
    assert sniff(bytes(head), ".dat") == "mrc"
    assert sniff(b"random bytes", ".txt") is None


def test_special_and_broken_files_are_findings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # records name files under the path given: "." keeps them short
    os.mkfifo(tmp_path / "pipe.mrc")
    (tmp_path / "empty.tif").write_bytes(b"")
    os.symlink("does-not-exist.mrc", tmp_path / "broken.mrc")
    os.symlink("loop2.mrc", tmp_path / "loop1.mrc")
    os.symlink("loop1.mrc", tmp_path / "loop2.mrc")
    (tmp_path / "random.dm4").write_bytes(os.urandom(3000))
    (tmp_path / "notes.txt").write_text("hello")
    os.symlink("/dev/zero", tmp_path / "device.mrc")
    os.symlink(".git/annex/objects/XX/YY/SHA256E-s1--abc.mrc/SHA256E-s1--abc.mrc",
               tmp_path / "annexed.mrc")
    start = time.monotonic()
    records = read_all(walk_all(["."]), quiet=True)
    assert time.monotonic() - start < 5  # a FIFO must never be opened (it would block)
    got = rules_of(records)
    assert got == {
        "annexed.mrc": ["F008"],
        "broken.mrc": ["F002"],
        "device.mrc": ["F001"],
        "empty.tif": ["F005"],
        "loop1.mrc": ["F003"],
        "loop2.mrc": ["F003"],
        "notes.txt": [],
        "pipe.mrc": ["F001"],
        "random.dm4": ["F007"],
    }
    for rec in records:
        for p in rec.problems:
            assert p.file == rec.path and p.message and p.fix


def test_mislabelled_file_is_reported(tmp_path):
    (tmp_path / "image.mrc").write_bytes(b"II*\x00" + b"\x00" * 2000)
    rec = read_header(tmp_path / "image.mrc", "image.mrc")
    assert "F006" in [p.rule for p in rec.problems]


def test_weird_filenames_are_printable_and_json_safe(tmp_path):
    raw = os.fsencode(tmp_path) + b"/bad\xffname\nwith newline.txt"
    with open(raw, "wb") as fh:
        fh.write(b"x")
    entries = list(walk(str(tmp_path)))
    assert [e.display for e in entries] == ["bad\\xffname\\nwith newline.txt"]
    rec = read_all(entries, quiet=True)[0]
    json.dumps(rec.to_dict(), ensure_ascii=False).encode("utf-8")  # must not raise


def test_hidden_skipped_and_order_sorted(tmp_path):
    for name in ["b.txt", "a.txt", ".hidden.txt", "C.txt"]:
        (tmp_path / name).write_text("x")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("x")
    assert [e.rel for e in walk(str(tmp_path))] == ["C.txt", "a.txt", "b.txt"]


def test_directory_symlink_loop_is_bounded(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f.txt").write_text("x")
    os.symlink("..", tmp_path / "d" / "up")
    os.symlink("d", tmp_path / "again")
    entries = list(walk(str(tmp_path)))
    rels = {e.rel: [p.rule for p in e.problems] for e in entries}
    assert rels["d/f.txt"] == []
    assert rels["d/up"] == ["F003"]
    # the same directory through a second link is not walked twice
    assert [r for r in rels if r.endswith("f.txt")] == ["d/f.txt"]


def test_missing_path_is_a_finding(tmp_path):
    [entry] = list(walk(str(tmp_path / "nope")))
    assert [p.rule for p in entry.problems] == ["F012"]


def test_data_files_are_never_modified(tmp_path):
    target = tmp_path / "x.mrc"
    target.write_bytes(os.urandom(2048))
    before = (target.read_bytes(), os.stat(target).st_mtime_ns)
    read_all(walk_all([str(tmp_path)]), quiet=True)
    assert (target.read_bytes(), os.stat(target).st_mtime_ns) == before
    assert sorted(os.listdir(tmp_path)) == ["x.mrc"]


@pytest.mark.parametrize("jobs", [1, 4])
def test_results_keep_walk_order(tmp_path, jobs, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for i in range(20):
        (tmp_path / f"f{i:02d}.txt").write_text("x")
    records = read_all(walk_all(["."]), jobs=jobs, quiet=True)
    assert [r.path for r in records] == [f"f{i:02d}.txt" for i in range(20)]


def test_spider_named_dat_is_detected_by_content(tmp_path):
    from test_format_spider import write_spider

    write_spider(tmp_path / "image.dat", 16, 12)
    (tmp_path / "table.dat").write_text("1 2 3\n" * 300)
    spider = read_header(tmp_path / "image.dat", "image.dat")
    other = read_header(tmp_path / "table.dat", "table.dat")
    assert (spider.format, spider.width, spider.height) == ("SPIDER", 16, 12)
    assert (other.format, other.problems) == (None, [])
