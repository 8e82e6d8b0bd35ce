"""Remote objects that cannot be read: one finding each, bounded retries, never a traceback.

Objects that vanish or shrink between listing and reading are made on the S3 server (listed,
then deleted or replaced). Throttling, timeouts and refusals are injected into fsspec's
in-memory filesystem, the error types being those s3fs/gcsfs raise after their own retries.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

fsspec = pytest.importorskip("fsspec", reason="fsspec not installed (pip install -e .[remote])")

from fsspec.implementations.memory import MemoryFileSystem  # noqa: E402

from empiar_validate.cli import main  # noqa: E402
from empiar_validate.remote import objects  # noqa: E402
from empiar_validate.remote.objects import (  # noqa: E402
    RemoteObject,
    list_objects,
    read_objects,
    redact,
)
from empiar_validate.remote.ranged import RangedFile, Transfer  # noqa: E402


def mrc_bytes(tmp: Path) -> bytes:
    import mrcfile
    import numpy as np

    with mrcfile.new(tmp / "t.mrc", overwrite=True) as mrc:
        mrc.set_data(np.zeros((16, 16), dtype=np.float32))
        mrc.voxel_size = 1.0
    return (tmp / "t.mrc").read_bytes()


class Flaky(MemoryFileSystem):
    """The memory filesystem, failing reads of chosen paths: ``plan[path]`` is a list of
    exceptions raised by successive reads (then reads succeed)."""

    protocol = "flaky"
    plan: dict[str, list[BaseException]] = {}  # noqa: RUF012 - shared on purpose (fsspec)
    calls: dict[str, int] = {}  # noqa: RUF012

    def cat_file(self, path, start=None, end=None, **kwargs):  # type: ignore[no-untyped-def]
        path = self._strip_protocol(path)
        self.calls[path] = self.calls.get(path, 0) + 1
        todo = self.plan.get(path)
        if todo:
            raise todo.pop(0)
        return super().cat_file(path, start=start, end=end, **kwargs)


@pytest.fixture
def flaky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flaky]:
    monkeypatch.setattr(objects, "BACKOFF_S", 0.001)
    fs = Flaky()
    fs.store.clear()
    fs.pseudo_dirs.clear()
    Flaky.plan, Flaky.calls = {}, {}
    data = mrc_bytes(tmp_path)
    for name in ("a.mrc", "b.mrc", "c.mrc", "d.mrc", "e.mrc"):
        fs.pipe(f"/ds/{name}", data)
    yield fs
    fs.store.clear()


def _read(fs: Flaky) -> dict[str, list[str]]:
    recs = read_objects(fs, list_objects(fs, "/ds"), jobs=4)
    return {r.path: [f"{p.rule} {p.message}" for p in r.problems] for r in recs}


def test_transient_failures_are_retried_then_reported_once(flaky):
    flaky.plan["/ds/a.mrc"] = [TimeoutError("read timeout")] * 2  # passes on the third try
    flaky.plan["/ds/b.mrc"] = [OSError("SlowDown: please reduce your request rate")] * 10
    flaky.plan["/ds/c.mrc"] = [TimeoutError("read timeout")] * 10
    flaky.plan["/ds/d.mrc"] = [PermissionError("AccessDenied")]
    got = _read(flaky)
    assert got["a.mrc"] == [] and flaky.calls["/ds/a.mrc"] == 3
    [b] = got["b.mrc"]
    assert b.startswith("F033 throttled after 4 attempts")
    assert flaky.calls["/ds/b.mrc"] == objects.ATTEMPTS  # bounded
    [c] = got["c.mrc"]
    assert c.startswith("F033 timed out after 4 attempts")
    [d] = got["d.mrc"]
    assert d.startswith("F034") and flaky.calls["/ds/d.mrc"] == 1  # a refusal is final
    assert got["e.mrc"] == []


def test_vanished_and_truncated_objects(flaky):
    listed = list_objects(flaky, "/ds")
    flaky.rm("/ds/a.mrc")
    flaky.pipe("/ds/b.mrc", b"\0" * 100)  # replaced by a shorter object after the listing
    recs = {r.path: r.problems for r in read_objects(flaky, listed, jobs=1)}
    [a] = recs["a.mrc"]
    assert a.rule == "F031" and a.file == "a.mrc"
    [b] = recs["b.mrc"]
    assert b.rule == "F032" and "only 100" in b.message


def test_ranged_file_fetches_only_what_readers_ask():
    data = bytes(range(256)) * 64  # 16 KiB
    asked: list[tuple[int, int]] = []

    def fetch(start: int, end: int) -> bytes:
        asked.append((start, end))
        return data[start:end]

    f = RangedFile(fetch, len(data), data[:4096])
    assert f.read(100) == data[:100] and asked == []  # inside the head: free
    f.seek(10_000)
    assert f.read(8) == data[10_000:10_008]
    assert asked == [(10_000, 11_024)]  # one small range at the jump
    f.seek(10_500)
    f.read(16)
    assert len(asked) == 1  # already fetched
    f.seek(len(data) - 4)
    assert f.read(100) == data[-4:]  # never past the end
    assert asked[-1] == (len(data) - 4, len(data))


def test_transfer_counts_requests():
    t = Transfer()
    t.add(10)
    t.add(5)
    assert (t.requests, t.bytes) == (2, 15)


def test_unreachable_listing_is_exit_2(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["inspect", "memory://no-such-place/at-all"])
    assert code == 2 and "no such" in err.getvalue()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["scan", "nosuchscheme://x/y", "-o", str(tmp_path / "x.xml")])
    assert code == 2 and "Traceback" not in err.getvalue()


def test_messages_never_carry_credentials():
    text = redact("GET https://alice:hunter2@example.org/x?X-Amz-Signature=abc&X-Amz-Credential="
                  "AKIA/123 failed")
    assert "hunter2" not in text and "abc" not in text and "AKIA" not in text


def test_remote_object_record_is_relative():
    fs = MemoryFileSystem()
    fs.pipe("/one/x.txt", b"hello")
    [obj] = list_objects(fs, "/one/x.txt")
    assert obj == RemoteObject("/one/x.txt", "", 5)
    fs.rm("/one/x.txt")
