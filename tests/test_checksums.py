"""Checksums: one pass for both digests, GNU-compatible files, parallel, cached and safe."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading

import pytest

from empiar_validate.package import checksum_cache, checksums, digest
from empiar_validate.package.checksums import (
    P_CACHE_IGNORED,
    P_CHANGED,
    P_UNREADABLE,
    ChecksumCache,
    checksum_files,
    checksum_line,
    digest_file,
    format_checksums,
)

OLD = 1_600_000_000  # seconds: mtimes far enough in the past to be cacheable


def _expected(data: bytes) -> tuple[str, str]:
    return hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest()


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 3 * 4096 + 17])
@pytest.mark.parametrize("split", [False, True])
def test_digest_matches_hashlib(tmp_path, size, split):
    data = os.urandom(size)
    path = tmp_path / "f"
    path.write_bytes(data)
    assert digest_file(str(path), split=split, chunk=4096) == _expected(data)


def test_digest_refuses_a_fifo_without_blocking(tmp_path):
    fifo = tmp_path / "p"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        digest_file(str(fifo))


def test_checksum_line_escapes_like_coreutils():
    assert checksum_line("ab", "dir/a b.mrc") == b"ab  dir/a b.mrc\n"
    assert checksum_line("ab", "a\\b") == b"\\ab  a\\\\b\n"
    assert checksum_line("ab", "a\nb\rc") == b"\\ab  a\\nb\\rc\n"
    bad = os.fsdecode(b"g\xffh")
    assert checksum_line("ab", bad) == b"ab  g\xffh\n"


def _dataset(root) -> list[tuple[str, str]]:
    """Files with awkward names, mtimes in the past; returns (path, rel) pairs."""
    names = ["plain.mrc", "sub/deeper/x.tif", "with space.mrc", "back\\slash",
             "new\nline", "carriage\rreturn", os.fsdecode(b"bad\xffbyte"), "sub/b",
             "sub/a", "empty"]
    pairs = []
    for i, name in enumerate(names):
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(b"" if name == "empty" else os.urandom(1000 + i))
        os.utime(path, (OLD, OLD))
        pairs.append((path, name))
    return pairs


@pytest.mark.skipif(not (shutil.which("sha256sum") and shutil.which("md5sum")),
                    reason="GNU coreutils not installed")
def test_gnu_coreutils_verify_our_files(tmp_path):
    root, out = tmp_path / "data", tmp_path / "out"
    root.mkdir()
    out.mkdir()
    run = checksum_files(_dataset(str(root)), jobs=2)
    assert run.hashed == 10 and not run.findings
    (out / "SHA256SUMS").write_bytes(format_checksums(run.sums, "sha256"))
    (out / "MD5SUMS").write_bytes(format_checksums(run.sums, "md5"))
    for tool, name in (("sha256sum", "SHA256SUMS"), ("md5sum", "MD5SUMS")):
        proc = subprocess.run([tool, "--strict", "-c", str(out / name)], cwd=root,
                              capture_output=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert proc.stdout.count(b": OK") == 10
    # and the files say what the tools themselves would write, line for line
    lines = (out / "SHA256SUMS").read_bytes().splitlines(keepends=True)
    plain = next(line for line in lines if line.endswith(b"  plain.mrc\n"))
    tool = subprocess.run(["sha256sum", "plain.mrc"], cwd=root, capture_output=True,
                          check=True).stdout
    assert plain == tool
    newline = next(line for line in lines if b"new\\nline" in line)
    tool = subprocess.run(["sha256sum", "new\nline"], cwd=root, capture_output=True,
                          check=True).stdout
    assert newline == tool


def test_sums_are_sorted_by_name_bytes(tmp_path):
    run = checksum_files(_dataset(str(tmp_path)), jobs=2)
    names = [os.fsencode(s.rel) for s in run.sums]
    assert names == sorted(names)
    text = format_checksums(run.sums, "md5")
    assert text.index(b"  sub/a\n") < text.index(b"  sub/b\n") < text.index(b"  sub/deeper/")


def test_parallel_and_serial_agree(tmp_path):
    pairs = _dataset(str(tmp_path))
    serial = checksum_files(pairs, jobs=1)
    parallel = checksum_files(pairs, jobs=4)
    assert serial.sums == parallel.sums
    for s in serial.sums:
        with open(os.path.join(tmp_path, s.rel), "rb") as fh:
            assert (s.sha256, s.md5) == _expected(fh.read())


def test_cache_reuses_unchanged_files_and_rehashes_changed_ones(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    pairs = _dataset(str(root))
    cache_path = str(tmp_path / "cache.json")
    first = checksum_files(pairs, cache=ChecksumCache(cache_path))
    assert (first.hashed, first.reused) == (10, 0)
    second = checksum_files(pairs, cache=ChecksumCache(cache_path))
    assert (second.hashed, second.reused) == (0, 10)
    assert second.sums == first.sums
    # same size, new content, new mtime: only that file is read again
    target = root / "sub" / "a"
    target.write_bytes(os.urandom(target.stat().st_size))
    os.utime(target, (OLD + 10, OLD + 10))
    third = checksum_files(pairs, cache=ChecksumCache(cache_path))
    assert (third.hashed, third.reused) == (1, 9)
    changed = next(s for s in third.sums if s.rel == "sub/a")
    assert (changed.sha256, changed.md5) == _expected(target.read_bytes())
    # a file that disappeared is dropped from the cache
    os.unlink(root / "plain.mrc")
    checksum_files([p for p in pairs if p[1] != "plain.mrc"], cache=ChecksumCache(cache_path))
    with open(cache_path, "rb") as fh:
        doc = json.load(fh)
    assert "plain.mrc" not in doc["files"] and os.fsdecode(b"bad\xffbyte") in doc["files"]


def test_cache_key_includes_the_inode(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"one")
    os.utime(path, (OLD, OLD))
    cache_path = str(tmp_path / "cache.json")
    checksum_files([(str(path), "f")], cache=ChecksumCache(cache_path))
    replacement = tmp_path / "g"
    replacement.write_bytes(b"two")  # same size and mtime, different inode
    os.utime(replacement, (OLD, OLD))
    os.replace(replacement, path)
    run = checksum_files([(str(path), "f")], cache=ChecksumCache(cache_path))
    assert run.hashed == 1 and run.sums[0].sha256 == hashlib.sha256(b"two").hexdigest()


def test_recently_modified_files_are_not_cached(tmp_path):
    path = tmp_path / "fresh"
    path.write_bytes(b"data")  # mtime is now: could change again within the same tick
    cache_path = str(tmp_path / "cache.json")
    checksum_files([(str(path), "fresh")], cache=ChecksumCache(cache_path))
    again = checksum_files([(str(path), "fresh")], cache=ChecksumCache(cache_path))
    assert (again.hashed, again.reused) == (1, 0)


@pytest.mark.parametrize("content", [b"{not json", b'{"format": "something else"}', b"\xff"])
def test_unreadable_cache_is_rebuilt_with_an_info_finding(tmp_path, content):
    path = tmp_path / "f"
    path.write_bytes(b"x")
    os.utime(path, (OLD, OLD))
    cache_path = tmp_path / "cache.json"
    cache_path.write_bytes(content)
    run = checksum_files([(str(path), "f")], cache=ChecksumCache(str(cache_path)))
    assert run.hashed == 1 and [f.rule for f in run.findings] == [P_CACHE_IGNORED.id]
    assert checksum_files([(str(path), "f")],
                          cache=ChecksumCache(str(cache_path))).reused == 1


def test_tampered_cache_entries_are_ignored(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x")
    os.utime(path, (OLD, OLD))
    st = path.stat()
    cache_path = tmp_path / "cache.json"
    entry = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino,
             "sha256": "zz", "md5": "0" * 32}
    cache_path.write_text(json.dumps({"format": checksum_cache.CACHE_FORMAT,
                                      "files": {"f": entry}}))
    run = checksum_files([(str(path), "f")], cache=ChecksumCache(str(cache_path)))
    assert run.hashed == 1 and run.sums[0].sha256 == hashlib.sha256(b"x").hexdigest()


def test_unreadable_and_special_files(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    done: list[object] = []
    t = threading.Thread(target=lambda: done.append(checksum_files(
        [(str(tmp_path / "gone"), "gone"), (str(fifo), "fifo")], jobs=2)), daemon=True)
    t.start()
    t.join(10)
    assert done, "hashing a FIFO must not block"
    run = done[0]
    assert [(f.rule, f.file) for f in run.findings] == [(P_UNREADABLE.id, "gone")]
    assert run.sums == [] and run.hashed == 0


def test_file_changing_while_hashed_is_left_out(tmp_path, monkeypatch):
    path = tmp_path / "growing"
    path.write_bytes(b"a" * 100)
    os.utime(path, (OLD, OLD))
    real = digest.digest_file

    def appending(p, **kw):
        result = real(p, **kw)
        with open(p, "ab") as fh:
            fh.write(b"more")
        return result

    monkeypatch.setattr(digest, "digest_file", appending)
    run = checksum_files([(str(path), "growing")], jobs=1)
    assert [f.rule for f in run.findings] == [P_CHANGED.id]
    assert run.sums == []


def test_large_file_is_split_across_two_threads(tmp_path, monkeypatch):
    big, small = tmp_path / "big", tmp_path / "small"
    monkeypatch.setattr(checksums, "SPLIT_MIN_BYTES", 4096)
    big.write_bytes(os.urandom(3 * checksums.CHUNK_BYTES + 5))
    small.write_bytes(b"s")
    calls: list[bool] = []
    real = digest.digest_file

    def spy(p, *, split=False, **kw):
        calls.append(split)
        return real(p, split=split, **kw)

    monkeypatch.setattr(digest, "digest_file", spy)
    run = checksum_files([(str(big), "big"), (str(small), "small")], jobs=2)
    assert sorted(calls) == [False, True]
    assert run.sums[0].sha256 == hashlib.sha256(big.read_bytes()).hexdigest()


@pytest.mark.parametrize("jobs", [1, 2])
def test_long_runs_save_the_cache_as_they_go(tmp_path, monkeypatch, jobs):
    pairs = _dataset(str(tmp_path / "data"))
    monkeypatch.setattr(checksums, "SAVE_EVERY_S", -1.0)  # "a minute has passed" every time
    cache = ChecksumCache(str(tmp_path / "cache.json"))
    saved: list[int] = []
    real_save = cache.save

    def counting_save(keep=None):
        saved.append(len(cache.entries))
        real_save(keep)

    monkeypatch.setattr(cache, "save", counting_save)
    checksum_files(pairs, cache=cache, jobs=jobs)
    assert len(saved) > 2 and saved[0] < saved[-1] == 10  # partial saves, then the final one


# --- the journal: an interrupted run keeps every digest it computed ------------------------------

def _interrupt_after(monkeypatch, count):
    """hash_one raises KeyboardInterrupt (Ctrl-C) once ``count`` files have been hashed."""
    real = checksums.hash_one
    seen = []

    def flaky(*args, **kwargs):
        if len(seen) >= count:
            raise KeyboardInterrupt
        seen.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(checksums, "hash_one", flaky)
    return seen


@pytest.mark.parametrize("jobs", [1, 2])
def test_interrupted_run_keeps_what_it_hashed(tmp_path, monkeypatch, jobs):
    pairs = _dataset(str(tmp_path / "data"))
    cache_path = str(tmp_path / "cache.json")
    _interrupt_after(monkeypatch, 4)
    with pytest.raises(KeyboardInterrupt):
        checksum_files(pairs, cache=ChecksumCache(cache_path), jobs=jobs)
    assert not os.path.exists(cache_path)  # never saved: everything is in the journal
    monkeypatch.undo()
    cache = ChecksumCache(cache_path)
    assert cache.from_journal == 4
    again = checksum_files(pairs, cache=cache, jobs=jobs)
    assert (again.hashed, again.reused) == (len(pairs) - 4, 4)
    assert not again.findings
    assert not os.path.exists(cache_path + checksum_cache.JOURNAL_SUFFIX)  # folded in
    fresh = checksum_files(pairs, cache=ChecksumCache(str(tmp_path / "fresh.json")))
    assert again.sums == fresh.sums
    assert (tmp_path / "cache.json").read_bytes() == (tmp_path / "fresh.json").read_bytes()


def test_torn_journal_line_is_ignored_and_appending_goes_on(tmp_path):
    pairs = _dataset(str(tmp_path / "data"))
    cache_path = str(tmp_path / "cache.json")
    first = ChecksumCache(cache_path)
    for path, rel in pairs[:3]:
        first.put(rel, checksum_cache.Stamp.of(os.stat(path)), "a" * 64, "b" * 32)
    journal = cache_path + checksum_cache.JOURNAL_SUFFIX
    with open(journal, "ab") as fh:
        fh.write(b'{"rel": "half a line of a kil')  # SIGKILL in the middle of a write
    second = ChecksumCache(cache_path)
    assert second.from_journal == 3 and not second.problem
    path, rel = pairs[3]
    second.put(rel, checksum_cache.Stamp.of(os.stat(path)), "c" * 64, "d" * 32)
    third = ChecksumCache(cache_path)
    assert third.from_journal == 4
    assert third.entries[rel]["sha256"] == "c" * 64


def test_journal_of_another_program_is_not_read(tmp_path):
    cache_path = str(tmp_path / "cache.json")
    with open(cache_path + checksum_cache.JOURNAL_SUFFIX, "w") as fh:
        fh.write('{"rel": "f", "size": 1, "mtime_ns": 1, "inode": 1, '
                 '"sha256": "' + "a" * 64 + '", "md5": "' + "b" * 32 + '"}\n')
    cache = ChecksumCache(cache_path)
    assert cache.from_journal == 0 and cache.entries == {}


def test_no_cache_means_no_journal(tmp_path):
    pairs = _dataset(str(tmp_path / "data"))
    before = set(os.listdir(tmp_path))
    checksum_files(pairs, cache=ChecksumCache(None))
    assert set(os.listdir(tmp_path)) == before


def test_everything_cached_needs_no_cluster(tmp_path):
    pairs = _dataset(str(tmp_path / "data"))
    cache_path = str(tmp_path / "cache.json")
    first = checksum_files(pairs, cache=ChecksumCache(cache_path))
    # nothing to hash: the scheduler (unreachable here) is never contacted
    again = checksum_files(pairs, cache=ChecksumCache(cache_path), scheduler="tcp://127.0.0.1:9")
    assert (again.hashed, again.reused) == (0, len(pairs)) and again.sums == first.sums


@pytest.mark.parametrize(("jobs", "split_min"), [(1, 1 << 40), (2, 1 << 40), (2, 4096)])
def test_progress_moves_within_a_large_file(tmp_path, monkeypatch, jobs, split_min):
    """A 100 GB tomogram must not leave the bar still for minutes: bytes are reported as they
    are read (also when SHA-256 and MD5 are split across threads), and add up to the total."""
    from contextlib import contextmanager

    big = tmp_path / "big"
    big.write_bytes(os.urandom(5 * digest.CHUNK_BYTES + 3))
    small = tmp_path / "small"
    small.write_bytes(b"abc")
    monkeypatch.setattr(digest, "REPORT_BYTES", digest.CHUNK_BYTES)
    monkeypatch.setattr(checksums, "SPLIT_MIN_BYTES", split_min)
    ticks: list[tuple[int, str]] = []
    totals: list[int] = []

    @contextmanager
    def recording(description, total, **kwargs):
        totals.append(total)
        yield lambda n=1: ticks.append((n, threading.current_thread().name))

    monkeypatch.setattr(checksums, "progress", recording)
    run = checksum_files([(str(big), "big"), (str(small), "small")], jobs=jobs)
    assert run.hashed == 2
    assert sum(n for n, _ in ticks) == totals[0] == 5 * digest.CHUNK_BYTES + 6
    assert [n for n, _ in ticks].count(digest.CHUNK_BYTES) == 5  # during the read
