"""Checksum throughput of ``package`` versus GNU ``sha256sum`` on the same files, in one run.

    python benchmarks/bench_checksums.py [--files 8] [--size-mib 256] [--repeat 3]

Writes ``--files`` files of ``--size-mib`` MiB of random data into a temporary directory under
/tmp, reads them once so every contender starts with a warm page cache (the comparison is then
CPU against CPU, not disk against disk), and times, best of ``--repeat`` rounds (each round
runs every contender once, in turn, so other load on the machine hits them alike):

- ``sha256sum`` over all files (one process) and as two parallel processes (half the files
  each): the fair baseline for "both cores";
- ``md5sum`` and ``sha256sum`` + ``md5sum`` one after the other (what a depositor would run
  to get both lists without this tool);
- ``empiar_validate.package.checksums.checksum_files`` (SHA-256 and MD5 in one pass) with one
  thread, with one thread per core, and the same digest function in a process pool;
- one file alone, hashed by one thread and split across two (SHA-256 and MD5 in parallel);

then prints MiB/s and the ratios, and deletes the files.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from empiar_validate.package.checksums import checksum_files, digest_file  # noqa: E402


def _write_random(directory: Path, count: int, size: int) -> list[Path]:
    paths = []
    block = 16 << 20
    for i in range(count):
        path = directory / f"random_{i:02d}.bin"
        with open(path, "wb") as fh:
            left = size
            while left:
                n = min(block, left)
                fh.write(os.urandom(n))
                left -= n
        paths.append(path)
    return paths


def _warm(paths: list[Path]) -> None:
    buf = bytearray(1 << 20)
    for p in paths:
        with open(p, "rb", buffering=0) as fh:
            while fh.readinto(buf):
                pass


def _interleaved(
    contenders: list[tuple[str, Callable[[], object]]], repeat: int
) -> list[tuple[str, float]]:
    """Best time of each contender over ``repeat`` rounds, every round running each contender
    once in turn, so load from other processes on the machine hits all of them alike."""
    best = [float("inf")] * len(contenders)
    for _ in range(repeat):
        for i, (_, fn) in enumerate(contenders):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return [(name, t) for (name, _), t in zip(contenders, best, strict=True)]


def _run(*commands: list[str]) -> None:
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL) for c in commands]
    for p in procs:
        if p.wait() != 0:
            raise SystemExit(f"{p.args[0]} failed")


def _process_pool(paths: list[Path], jobs: int) -> None:
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(digest_file, [str(p) for p in paths]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for tool in ("sha256sum", "md5sum"):
        if shutil.which(tool) is None:
            print(f"{tool} not found (GNU coreutils needed)", file=sys.stderr)
            return 2
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="bench-checksums-", dir="/tmp"))
    try:
        paths = _write_random(work, args.files, args.size_mib << 20)
        _warm(paths)
        names = [str(p) for p in paths]
        half = (len(names) + 1) // 2
        pairs = [(str(p), p.name) for p in paths]
        total_mib = args.files * args.size_mib
        contenders: list[tuple[str, Callable[[], object]]] = [
            ("sha256sum, 1 process", lambda: _run(["sha256sum", *names])),
            ("sha256sum, 2 processes",
             lambda: _run(["sha256sum", *names[:half]], ["sha256sum", *names[half:]])),
            ("md5sum, 1 process", lambda: _run(["md5sum", *names])),
            ("sha256sum then md5sum",
             lambda: (_run(["sha256sum", *names]), _run(["md5sum", *names]))),
            ("empiar-validate sha256+md5, 1 thread",
             lambda: checksum_files(pairs, jobs=1, quiet=True)),
            (f"empiar-validate sha256+md5, {cores} threads",
             lambda: checksum_files(pairs, jobs=cores, quiet=True)),
            (f"same digest, {cores} processes", lambda: _process_pool(paths, cores)),
        ]
        one = str(paths[0])
        single_contenders: list[tuple[str, Callable[[], object]]] = [
            ("one file, 1 thread", lambda: digest_file(one)),
            ("one file, split (SHA-256 and MD5 threads)", lambda: digest_file(one, split=True)),
            ("one file, sha256sum", lambda: _run(["sha256sum", one])),
        ]
        results = _interleaved(contenders, args.repeat)
        single = _interleaved(single_contenders, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base1 = results[0][1]
    base2 = results[1][1]
    print(f"{args.files} files x {args.size_mib} MiB of random data, page cache warm, "
          f"{cores} cores, best of {args.repeat}")
    print(f"{'contender':45} {'seconds':>8} {'MiB/s':>8} {'vs sha256sum':>13} "
          f"{'vs 2x sha256sum':>16}")
    for name, seconds in results:
        print(f"{name:45} {seconds:8.2f} {total_mib / seconds:8.0f} {base1 / seconds:12.2f}x "
              f"{base2 / seconds:15.2f}x")
    print(f"\none file of {args.size_mib} MiB (a large tomogram hashed alone)")
    for name, seconds in single:
        print(f"{name:45} {seconds:8.2f} {args.size_mib / seconds:8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
