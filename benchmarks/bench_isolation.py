"""Per-file cost of reading HDF5 headers in worker processes (formats/isolation.py) against
reading them in-process, on the same files in the same run.

    python benchmarks/bench_isolation.py [--files 200] [--repeat 5]

Writes ``--files`` small HDF5 files with h5py (one 3-D dataset each, as a plain HDF5 image) and
``--files`` BigDataViewer pairs (h5py + XML), then reads all of them with
``formats.read_header``: in-process (``EMPIAR_VALIDATE_ISOLATION=off``) and isolated, rounds
alternating, pool already started (its start-up is reported separately). Prints the median
wall and main-process CPU microseconds per file of each, and the ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BDV_XML = """<?xml version="1.0" encoding="utf-8"?>
<SpimData version="0.2"><BasePath type="relative">.</BasePath><SequenceDescription>
<ImageLoader format="bdv.hdf5"><hdf5 type="relative">{name}</hdf5></ImageLoader>
<ViewSetups><ViewSetup><id>0</id><name>0</name><size>8 6 4</size>
<voxelSize><unit>nm</unit><size>1.5 1.5 3</size></voxelSize></ViewSetup></ViewSetups>
<Timepoints type="range"><first>0</first><last>0</last></Timepoints></SequenceDescription>
</SpimData>"""


def write_files(folder: Path, count: int) -> tuple[list[str], list[str]]:
    import h5py
    import numpy as np

    plain, bdv = [], []
    for i in range(count):
        path = folder / f"plain_{i:04d}.h5"
        with h5py.File(path, "w") as f:
            f.create_dataset("image", data=np.zeros((4, 6, 8), np.uint16))
        plain.append(str(path))
        path = folder / f"bdv_{i:04d}.h5"
        with h5py.File(path, "w") as f:
            f.create_dataset("s00/resolutions", data=np.ones((1, 3)))
            f.create_dataset("s00/subdivisions", data=np.full((1, 3), 4))
            f.create_dataset("t00000/s00/0/cells", data=np.zeros((4, 6, 8), np.uint16))
        (folder / f"bdv_{i:04d}.xml").write_text(BDV_XML.format(name=path.name))
        bdv.append(str(path))
    return plain, bdv


def per_file(paths: list[str], isolated: bool) -> tuple[float, float]:
    """(wall, main-process CPU) microseconds per file."""
    from empiar_validate.formats import read_header

    os.environ["EMPIAR_VALIDATE_ISOLATION"] = "on" if isolated else "off"
    start, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        read_header(path)
    n = len(paths)
    return ((time.perf_counter() - start) / n * 1e6, (time.process_time() - cpu) / n * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from empiar_validate.formats import isolation, read_header

    with tempfile.TemporaryDirectory() as tmp:
        plain, bdv = write_files(Path(tmp), args.files)
        os.environ["EMPIAR_VALIDATE_ISOLATION"] = "on"
        start = time.perf_counter()
        assert read_header(plain[0]).depth == 4
        startup = time.perf_counter() - start
        print(f"pool start-up and first file (worker start, h5py import): {startup:.3f} s")
        for label, paths in (("plain HDF5", plain), ("BigDataViewer .h5 + .xml", bdv)):
            direct, isolated = [], []
            for _ in range(args.repeat):
                direct.append(per_file(paths, isolated=False))
                isolated.append(per_file(paths, isolated=True))
            d = statistics.median(w for w, _ in direct)
            i = statistics.median(w for w, _ in isolated)
            dc = statistics.median(c for _, c in direct)
            ic = statistics.median(c for _, c in isolated)
            print(f"{label} (median of {args.repeat} rounds of {len(paths)} files):\n"
                  f"  wall per file: in-process {d:6.0f} µs, isolated {i:6.0f} µs, "
                  f"ratio {i / d:.2f}\n"
                  f"  main-process CPU per file: in-process {dc:6.0f} µs, isolated {ic:6.0f} µs, "
                  f"ratio {ic / dc:.2f}")
        isolation.shutdown()


if __name__ == "__main__":
    main()
