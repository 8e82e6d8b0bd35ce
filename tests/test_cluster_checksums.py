"""Checksums on a dask.distributed cluster: a LocalCluster on 127.0.0.1 (2 worker processes)
gives the same sums, cache and checksum files as a local run, survives a killed worker, and
after a killed client a re-run hashes only what is missing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest

from empiar_validate.cli import main
from empiar_validate.package import checksum_cache, checksums, cluster
from empiar_validate.package.checksums import ChecksumCache, checksum_files, format_checksums

pytestmark = pytest.mark.slow  # each cluster starts two Python processes

OLD = 1_600_000_000  # older than the cache's 2 s "racy" window


@contextmanager
def local_cluster():
    """Two single-threaded worker processes on the loopback interface, no dashboard."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=":0") as lc:
        yield lc


@pytest.fixture(scope="module")
def shared_cluster():
    with local_cluster() as lc:
        yield lc


def make_files(root, count: int, size: int, names=()) -> list[tuple[str, str]]:
    """``count`` files of random bytes (sizes around ``size``) plus ``names``, all old."""
    pairs = []
    wanted = [f"data/f{i:03d}.bin" for i in range(count)] + list(names)
    for i, rel in enumerate(wanted):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(b"" if rel.endswith("empty") else os.urandom(size + 37 * i))
        os.utime(path, (OLD, OLD))
        pairs.append((path, rel))
    return pairs


AWKWARD = ("with space.mrc", "new\nline", os.fsdecode(b"bad\xffbyte"), "sub/empty")


def test_cluster_gives_the_local_sums_cache_and_files(tmp_path, shared_cluster, monkeypatch):
    monkeypatch.setattr(cluster, "BATCH_BYTES", 150_000)  # several batches and lone files
    monkeypatch.setattr(cluster, "BATCH_FILES", 3)
    monkeypatch.setattr(cluster, "SPLIT_MIN_BYTES", 120_000)  # the large ones split on workers
    pairs = make_files(str(tmp_path / "ds"), 20, 60_000, AWKWARD)
    pairs.append((str(tmp_path / "ds" / "missing"), "missing"))
    local = checksum_files(pairs, cache=ChecksumCache(str(tmp_path / "local.json")))
    remote = checksum_files(pairs, cache=ChecksumCache(str(tmp_path / "remote.json")),
                            scheduler=shared_cluster.scheduler_address)
    assert remote.sums == local.sums and len(remote.sums) == 24
    assert remote.hashed == local.hashed == 24
    assert [(f.rule, f.file) for f in remote.findings] == [
        (f.rule, f.file) for f in local.findings] == [("P130", "missing")]
    for algorithm in ("sha256", "md5"):
        assert format_checksums(remote.sums, algorithm) == format_checksums(local.sums, algorithm)
    assert (tmp_path / "remote.json").read_bytes() == (tmp_path / "local.json").read_bytes()
    again = checksum_files(pairs, cache=ChecksumCache(str(tmp_path / "remote.json")),
                           scheduler=shared_cluster.scheduler_address)
    assert (again.hashed, again.reused) == (0, 24)


def _package(*argv: str, capsys) -> tuple[int, dict]:
    code = main(["package", *argv, "--format", "json", "-q"])
    return code, json.loads(capsys.readouterr().out)


def test_package_scheduler_flag_and_environment(tmp_path, shared_cluster, capsys, monkeypatch):
    make_files(str(tmp_path / "ds"), 12, 30_000, AWKWARD[:1])
    address = shared_cluster.scheduler_address
    monkeypatch.delenv(cluster.SCHEDULER_ENV, raising=False)
    code_local, doc_local = _package(str(tmp_path / "ds"), "-o", str(tmp_path / "a"),
                                     capsys=capsys)
    code_flag, doc_flag = _package(str(tmp_path / "ds"), "-o", str(tmp_path / "b"),
                                   "--scheduler", address, capsys=capsys)
    monkeypatch.setenv(cluster.SCHEDULER_ENV, address)
    code_env, doc_env = _package(str(tmp_path / "ds"), "-o", str(tmp_path / "c"), capsys=capsys)
    code_forced, doc_forced = _package(str(tmp_path / "ds"), "-o", str(tmp_path / "d"),
                                       "--scheduler", "local", capsys=capsys)
    assert code_local == code_flag == code_env == code_forced
    assert "scheduler" not in doc_local["checksums"]
    assert doc_flag["checksums"] == {"hashed": 13, "reused": 0, "scheduler": address}
    assert doc_env["checksums"]["scheduler"] == address
    assert "scheduler" not in doc_forced["checksums"]
    for name in ("SHA256SUMS", "MD5SUMS", checksum_cache.CACHE_NAME, "entry.xml"):
        reference = (tmp_path / "a" / name).read_bytes()
        for other in "bcd":
            assert (tmp_path / other / name).read_bytes() == reference, (other, name)


def test_workers_must_see_the_same_files(tmp_path, shared_cluster):
    distributed = pytest.importorskip("distributed")
    (path, _), = make_files(str(tmp_path), 1, 10)
    with distributed.Client(shared_cluster.scheduler_address, set_as_default=False) as client:
        stamp = checksum_cache.Stamp.of(os.stat(path))
        cluster.check_same_files(client, path, stamp)  # the same machine: fine
        moved = checksum_cache.Stamp(stamp.size, stamp.mtime_ns, stamp.inode + 1)
        with pytest.raises(cluster.ClusterError, match="does not see"):
            cluster.check_same_files(client, path, moved)
        with pytest.raises(cluster.ClusterError, match="FileNotFoundError"):
            cluster.check_same_files(client, path + ".nowhere", stamp)


def test_unreachable_scheduler_is_a_usage_error(tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 2)
    make_files(str(tmp_path / "ds"), 2, 10)
    code = main(["package", str(tmp_path / "ds"), "-o", str(tmp_path / "out"), "-q",
                 "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2
    assert "cannot connect to the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err


def test_a_killed_worker_loses_nothing(tmp_path, monkeypatch):
    """SIGKILL one worker process while the cluster hashes: its tasks run again elsewhere
    and the result is the local run's."""
    monkeypatch.setattr(cluster, "BATCH_FILES", 2)
    pairs = make_files(str(tmp_path / "ds"), 40, 400_000)
    local = checksum_files(pairs, cache=ChecksumCache(str(tmp_path / "local.json")))
    killed: list[int] = []
    with local_cluster() as lc:
        pids = [w.pid for w in lc.workers.values()]
        real_progress = checksums.progress

        @contextmanager
        def killing_progress(*args, **kwargs):
            with real_progress(*args, **kwargs) as tick:
                def kill_once(n=1):
                    if not killed:  # the first result is in: the others are in flight
                        os.kill(pids[0], signal.SIGKILL)
                        killed.append(pids[0])
                    tick(n)
                yield kill_once

        monkeypatch.setattr(checksums, "progress", killing_progress)
        remote = checksum_files(pairs, cache=ChecksumCache(str(tmp_path / "remote.json")),
                                scheduler=lc.scheduler_address)
    assert killed
    assert remote.sums == local.sums and remote.hashed == 40 and not remote.findings
    assert (tmp_path / "remote.json").read_bytes() == (tmp_path / "local.json").read_bytes()


CLIENT = """
import sys, time
from contextlib import contextmanager
from empiar_validate.package import checksums
real = checksums.progress

@contextmanager
def slow_progress(*args, **kwargs):  # a client that takes its time over each result
    with real(*args, **kwargs) as tick:
        def slow(n=1):
            time.sleep(0.05)
            tick(n)
        yield slow

checksums.progress = slow_progress
from empiar_validate.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_after_a_killed_client_only_missing_files_are_hashed(tmp_path, shared_cluster, capsys):
    """SIGKILL the client (``package --scheduler``) mid-run; the re-run hashes only the files
    whose digests the killed run had not yet received."""
    total = 60
    make_files(str(tmp_path / "ds"), total, 20_000)
    out = tmp_path / "out"
    journal = out / (checksum_cache.CACHE_NAME + checksum_cache.JOURNAL_SUFFIX)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen(
        [sys.executable, "-c", CLIENT, "package", str(tmp_path / "ds"), "-o", str(out), "-q",
         "--scheduler", shared_cluster.scheduler_address],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if journal.exists() and journal.read_bytes().count(b"\n") > 5:
                break
            time.sleep(0.005)
        assert proc.poll() is None, "the client finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert not (out / "SHA256SUMS").exists()  # killed before writing anything
    kept = ChecksumCache(str(out / checksum_cache.CACHE_NAME)).from_journal
    assert 0 < kept < total
    _, doc = _package(str(tmp_path / "ds"), "-o", str(out), "--scheduler",
                      shared_cluster.scheduler_address, capsys=capsys)
    assert doc["checksums"]["hashed"] == total - kept
    assert doc["checksums"]["reused"] == kept
    reference = tmp_path / "reference"
    _package(str(tmp_path / "ds"), "-o", str(reference), capsys=capsys)
    for name in ("SHA256SUMS", "MD5SUMS", checksum_cache.CACHE_NAME):
        assert (out / name).read_bytes() == (reference / name).read_bytes()
    assert not journal.exists()
