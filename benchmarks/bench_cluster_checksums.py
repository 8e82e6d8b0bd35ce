"""Checksum throughput on this machine: the local thread pool against a Dask LocalCluster.

    python benchmarks/bench_cluster_checksums.py [--files 8] [--size-mib 256] [--repeat 3]

Writes ``--files`` files of random data under /tmp, reads them once (warm page cache: CPU
against CPU), starts a ``distributed.LocalCluster`` on 127.0.0.1 with one single-threaded
worker process per core, and times, best of ``--repeat`` alternating rounds,
``checksum_files`` (SHA-256 + MD5, no cache) with the local pool and with
``scheduler=<the cluster>``. Cluster start-up is timed apart (a real cluster is started once
for many runs). Prints MiB/s, the ratio, the throughput per worker, and a projection for N
workers, which is a projection: N times the per-worker rate measured here, capped by what the
shared filesystem delivers, which this benchmark cannot measure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_checksums import _warm, _write_random  # noqa: E402


def main() -> int:
    """Write, time, print, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from distributed import LocalCluster

    from empiar_validate.package.checksums import checksum_files

    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="bench-cluster-", dir="/tmp"))
    try:
        paths = _write_random(work, args.files, args.size_mib << 20)
        _warm(paths)
        pairs = [(str(p), p.name) for p in paths]
        t0 = time.perf_counter()
        with LocalCluster(n_workers=cores, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=":0") as cluster:
            startup = time.perf_counter() - t0
            address = cluster.scheduler_address
            checksum_files(pairs[:1], quiet=True, scheduler=address)  # warm the workers
            # the cluster hashes each file of 64 MiB or more in two threads of its worker:
            # "local x2" runs as many threads here, which on a machine shared with other jobs
            # takes a larger share of it
            best = {"local": float("inf"), "local x2": float("inf"), "cluster": float("inf")}
            jobs = {"local": cores, "local x2": 2 * cores, "cluster": None}
            for _ in range(args.repeat):
                for name in best:
                    t = time.perf_counter()
                    run = checksum_files(pairs, quiet=True, jobs=jobs[name],
                                         scheduler=address if name == "cluster" else None)
                    best[name] = min(best[name], time.perf_counter() - t)
                    if run.hashed != len(pairs):
                        raise SystemExit("benchmark hashed the wrong number of files")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    mib = args.files * args.size_mib
    local, remote = mib / best["local"], mib / best["cluster"]
    per_worker = remote / cores
    print(f"{args.files} files x {args.size_mib} MiB, page cache warm, {cores} cores, "
          f"best of {args.repeat}; LocalCluster of {cores} worker processes x 1 thread "
          f"(start-up {startup:.1f} s, not counted)")
    print("| run | seconds | MiB/s | vs local |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| local pool, {cores} threads | {best['local']:.2f} | {local:.0f} | 1.00x |")
    x2 = mib / best["local x2"]
    print(f"| local pool, {2 * cores} threads | {best['local x2']:.2f} | {x2:.0f} | "
          f"{x2 / local:.2f}x |")
    print(f"| LocalCluster, {cores} workers | {best['cluster']:.2f} | {remote:.0f} | "
          f"{remote / local:.2f}x |")
    print(f"per worker: {per_worker:.0f} MiB/s; load average {os.getloadavg()[0]:.1f}")
    print("projection (not a measurement): N workers of this speed on a filesystem that "
          "delivers B MiB/s to them hash at min(N x per-worker, B):")
    for n in (8, 32, 128):
        rate = n * per_worker
        print(f"  {n:4d} workers: {rate:6.0f} MiB/s if the filesystem keeps up -> "
              f"50 TB in {50e12 / (rate * 2**20) / 3600:.1f} h")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
