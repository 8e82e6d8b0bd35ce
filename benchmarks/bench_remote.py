"""Headers of objects in an S3 store versus fetching 4 KiB of each with plain fsspec calls.

    python benchmarks/bench_remote.py [N] [--repeat 3] [--latency MS]

Starts moto's S3 server on 127.0.0.1 (as the tests do), writes N image files (default 2,000:
MRC micrographs from mrcfile, TIFF movies written page by page, MRCS stacks, DM4 squares; see
``tests/remote_data.py``) and uploads them under ``s3://bench/ds``. Then, alternating, with a
fresh filesystem instance each time:

- **headers**: ``read_remote("s3://bench/ds")``: the listing, one ranged GET per object (more for
  TIFF IFD chains and DM tag trees), the headers parsed into records, requests in parallel;
- **baseline**: the same listing (``fs.find``), then ``fs.cat_file(path, 0, 4096)`` per object
  in a plain loop: what a script using fsspec naively does, with no parsing at all.

``--latency MS`` adds that much delay to every request the server answers (a real object store
is 10-50 ms away, the loopback a fraction of a millisecond). Prints each time and the ratio
baseline/headers (above 1: the tool is faster than the naive loop, parsing included).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int, nargs="?", default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--latency", type=float, default=0.0, help="ms added to every request")
    args = ap.parse_args()

    import s3fs
    from remote_data import build_many, upload
    from s3server import s3_server

    from empiar_validate.remote.dataset import read_remote

    with tempfile.TemporaryDirectory(dir="/tmp") as tmp, s3_server(
            latency=args.latency / 1000) as srv:
        files = build_many(Path(tmp) / "data", args.n)
        client = srv.client()
        client.create_bucket(Bucket="bench")
        nbytes = upload(client, "bench", "ds", Path(tmp) / "data")
        print(f"{len(files)} objects, {nbytes / 1e6:.1f} MB, latency {args.latency:g} ms/request")

        def headers() -> None:
            s3fs.S3FileSystem.clear_instance_cache()
            records = read_remote("s3://bench/ds", quiet=True)
            assert len(records) == len(files) and all(r.format for r in records)

        def baseline() -> None:
            s3fs.S3FileSystem.clear_instance_cache()
            fs = s3fs.S3FileSystem()
            paths = sorted(fs.find("bench/ds"))
            assert len(paths) == len(files)
            for p in paths:
                fs.cat_file(p, start=0, end=4096)

        times: dict[str, list[float]] = {"headers": [], "baseline": []}
        for _ in range(args.repeat):
            for name, fn in (("headers", headers), ("baseline", baseline)):
                srv.served.reset()
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
                print(f"  {name:9s} {times[name][-1]:7.2f} s  {srv.served.gets} GETs, "
                      f"{srv.served.bytes / 1e6:.2f} MB served")
        h, b = statistics.median(times["headers"]), statistics.median(times["baseline"])
        print(f"median: headers {h:.2f} s, baseline {b:.2f} s, ratio baseline/headers "
              f"{b / h:.1f}x")


if __name__ == "__main__":
    main()
