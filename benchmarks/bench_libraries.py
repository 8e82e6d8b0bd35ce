"""`inspect` against the field's own readers, per file, in one run: mrcfile, tifffile, ncempy, h5py.

    python benchmarks/bench_libraries.py [--files 40] [--process-files 400] [--bdv-files 600]
                                         [--repeat 5]

Each case writes its files the way the field writes them: MRC movies with mrcfile, TIFF movies
with tifffile one frame per ``write()`` call (and, for comparison, as one array), EER-like
movies of 1,000 and 2,000 frames as camera software writes them through libtiff (strip, IFD,
strip, IFD...; frames left as holes, so no disk is used), DM4 with the suite's DigitalMicrograph
writer, BigDataViewer HDF5 + XML with pybdv. The baseline is what a user would write with the
field's readers to get the same header facts:

- MRC: ``mrcfile.open(path, header_only=True)`` and its voxel size;
- TIFF/EER: ``len(tifffile.TiffFile(path).pages)`` and the first page's shape;
- DM4: ``ncempy.io.dm.fileDM(path)`` (parses the tag tree) and its sizes;
- BigDataViewer: ``h5py.File(path, "r")`` listing the root, plus ``ElementTree.parse`` of the
  companion XML.

Three figures, all from a warm page cache, measured alternately in this one run, as CPU time
(user + system, so the kernel's share of reading is counted; on a shared machine wall time
measures the other jobs too):

1. **in process**: per-file cost of ``empiar_validate.formats.read_header`` and of the library
   call on the same files, and their ratio (best of the rounds: the machine is shared);
2. **per page** (TIFF/EER): (cost on the 2,000-frame files - cost on the 1,000-frame files) /
   1,000, for both, so the fixed per-file cost drops out;
3. **whole process**, marginal per file: ``empiar-validate inspect DIR --format json`` and a
   script doing the library call on each file, each run on N and on 2N files; (T(2N) - T(N)) / N
   removes interpreter start-up and imports (the median over the rounds of each round's own
   difference). A fresh process reads its first ≈ 300-400 files
   slower (by up to 2x, ours and the libraries' alike, whatever the files: measured with the
   same 100 files read again and again), so N must be past that: the BigDataViewer files,
   written one by one, default to N = 600.

HDF5 headers are read in-process here (``EMPIAR_VALIDATE_ISOLATION=off`` unless set): with the
worker processes of ``formats/isolation.py`` the reading would happen in processes whose CPU
time neither figure counts. ``--only TEXT`` runs the cases whose label contains TEXT.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import sample_files  # noqa: E402  (beside this script)

os.environ.setdefault("EMPIAR_VALIDATE_ISOLATION", "off")  # count the reader's own CPU time
PYTHON = sys.executable
INSPECT = [PYTHON, "-m", "empiar_validate", "inspect", "--format", "json", "-q"]


# --- writers ---------------------------------------------------------------------------------

def _mrc_movie(path: Path) -> None:
    import mrcfile
    import numpy as np

    with mrcfile.new(path, overwrite=True) as mrc:
        mrc.set_data(np.zeros((40, 64, 64), dtype=np.float16))
        mrc.voxel_size = 0.83


def _tiff_pages(path: Path) -> None:
    from tiffwriters import write_tifffile_pages

    write_tifffile_pages(path, 40, 256, 256)


def _tiff_array(path: Path) -> None:
    import numpy as np
    import tifffile

    tifffile.imwrite(path, np.zeros((40, 256, 256), np.uint8), photometric="minisblack")


def _eer(frames: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        from tiffwriters import write_camera_tiff

        write_camera_tiff(path, frames)  # 4096 x 4096, 64 KiB per frame, sparse

    return make


# --- what a user would write -------------------------------------------------------------------

LIBRARY_CODE = {
    "mrcfile": (
        "import mrcfile\n"
        "def one(p):\n"
        "    with mrcfile.open(p, header_only=True) as m:\n"
        "        return int(m.header.nz), m.voxel_size.x\n"
    ),
    "tifffile": (
        "import tifffile\n"
        "def one(p):\n"
        "    with tifffile.TiffFile(p) as t:\n"
        "        return len(t.pages), t.pages[0].shape\n"
    ),
    "ncempy": (
        "from ncempy.io.dm import fileDM\n"
        "def one(p):\n"
        "    with fileDM(p, verbose=False) as f:\n"
        "        return f.xSize, f.ySize, f.zSize\n"
    ),
    "h5py + ElementTree": (
        "import h5py\n"
        "from xml.etree import ElementTree\n"
        "def one(p):\n"
        "    with h5py.File(p, 'r') as f:\n"
        "        keys = list(f)\n"
        "    return keys, ElementTree.parse(p[:-3] + '.xml').getroot().tag\n"
    ),
}

SCRIPT = (
    "import glob, os, sys\n{code}"
    "for p in sorted(glob.glob(os.path.join(sys.argv[1], '*'))):\n"
    "    if not p.endswith('.xml'):\n"
    "        one(p)\n"
)

# label -> (extension, writer, library)
CASES: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "MRC movie (mrcfile)": (".mrc", _mrc_movie, "mrcfile"),
    "TIFF 40-page movie, page by page": (".tif", _tiff_pages, "tifffile"),
    "TIFF 40-page movie, one array": (".tif", _tiff_array, "tifffile"),
    "EER-like, 1,000 frames": (".eer", _eer(1000), "tifffile"),
    "EER-like, 2,000 frames": (".eer", _eer(2000), "tifffile"),
    "DM4 (256 x 256)": (".dm4", sample_files.dm4, "ncempy"),
    "BigDataViewer HDF5 + XML": (".h5", sample_files.bdv, "h5py + ElementTree"),
}
PER_FILE_WRITE = {".h5"}  # the companion XML names its .h5: written per file, not copied


def _library(name: str) -> Callable[[str], object]:
    scope: dict[str, object] = {}
    exec(LIBRARY_CODE[name], scope)  # the same code the whole-process script runs
    return scope["one"]  # type: ignore[return-value]


def _ours(path: str) -> object:
    from empiar_validate.formats import read_header

    rec = read_header(path)
    if rec.format is None or not rec.ok:
        raise SystemExit(f"benchmark file not read cleanly: {path}: {rec.problems}")
    return rec


def _per_file(fn: Callable[[str], object], paths: list[str]) -> float:
    """CPU seconds (user + system) per file: the machine is shared, and wall time there
    measures the other jobs as much as this one."""
    start = time.process_time()
    for p in paths:
        fn(p)
    return (time.process_time() - start) / len(paths)


def _process(cmd: list[str]) -> float:
    """CPU seconds (user + system, all threads) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _marginal(t_n: list[float], t_2n: list[float], n: int) -> float:
    """Median over rounds of one round's (T(2N) - T(N)) / N."""
    return statistics.median((b - a) / n for a, b in zip(t_n, t_2n, strict=True))


def _make_files(tmp: Path, label: str, n: int) -> tuple[Path, Path, list[str]]:
    """``2n`` files in ``all/``, the first ``n`` of them in ``half/``. Files are hard links to
    one written file (the same bytes, no disk), except where a companion file names its data
    file (BigDataViewer), which are written one by one."""
    ext, make, _ = CASES[label]
    case = tmp / f"case{list(CASES).index(label)}"
    full, half = case / "all", case / "half"
    full.mkdir(parents=True)
    half.mkdir()
    first = case / f"first{ext}"
    if ext not in PER_FILE_WRITE:
        make(first)
    for i in range(2 * n):
        target = full / f"f{i:05d}{ext}"
        if ext in PER_FILE_WRITE:
            make(target)
        else:
            os.link(first, target)
        if i < n:
            for p in full.glob(f"f{i:05d}.*"):
                os.link(p, half / p.name)
    paths = sorted(str(p) for p in half.iterdir() if p.suffix != ".xml")
    return half, full, paths


def main(argv: list[str] | None = None) -> int:
    """Write the files, time both readers every way, print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40, help="files read in process")
    parser.add_argument("--process-files", type=int, default=400,
                        help="N for the whole-process runs of the other cases (hard links)")
    parser.add_argument("--bdv-files", type=int, default=600,
                        help="N for the whole-process runs of BigDataViewer (written per file)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="", help="run only the cases whose label has this")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="ev-libs-"))
    inproc: dict[str, tuple[float, float]] = {}
    whole: dict[str, tuple[float, float]] = {}
    try:
        for label, (_, _, lib) in CASES.items():
            if args.only not in label:
                continue
            n = args.bdv_files if CASES[label][0] in PER_FILE_WRITE else args.process_files
            half, full, paths = _make_files(tmp, label, n)
            paths = paths[:args.files]
            one = _library(lib)
            script = tmp / f"{list(CASES).index(label)}.py"
            script.write_text(SCRIPT.format(code=LIBRARY_CODE[lib]))
            _per_file(_ours, paths)  # warm: page cache, imports, caches
            _per_file(one, paths)
            ours, theirs = [], []
            for _ in range(args.repeat):
                ours.append(_per_file(_ours, paths))
                theirs.append(_per_file(one, paths))
            inproc[label] = (min(ours), min(theirs))
            runs: dict[str, list[float]] = {k: [] for k in ("o1", "o2", "t1", "t2")}
            for _ in range(args.repeat):
                runs["o1"].append(_process([*INSPECT, str(half)]))
                runs["o2"].append(_process([*INSPECT, str(full)]))
                runs["t1"].append(_process([PYTHON, str(script), str(half)]))
                runs["t2"].append(_process([PYTHON, str(script), str(full)]))
            # paired: each round's own T(2N) - T(N), then the median over rounds (minima of T(N)
            # and T(2N) taken separately can come from different rounds, and their difference
            # swings by ±20 µs per file on a shared machine)
            whole[label] = (
                _marginal(runs["o1"], runs["o2"], n), _marginal(runs["t1"], runs["t2"], n),
            )
            shutil.rmtree(half.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{args.files} files per case in process; whole process on N and 2N files, N = "
          f"{args.process_files} ({args.bdv_files} for BigDataViewer); {args.repeat} alternating "
          "rounds (in process: the best; whole process: the median), warm page cache\n")
    print("| files | baseline | in process: ours | baseline | ratio "
          "| whole process, marginal: inspect | baseline | ratio |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, (o, t) in inproc.items():
        wo, wt = whole[label]
        print(f"| {label} | {CASES[label][2]} | {o * 1e6:.0f} µs | {t * 1e6:.0f} µs | "
              f"{o / t:.2f}x | {wo * 1e6:.0f} µs | {wt * 1e6:.0f} µs | {wo / wt:.2f}x |")
    if "EER-like, 1,000 frames" not in inproc or "EER-like, 2,000 frames" not in inproc:
        return 0
    e1, e2 = inproc["EER-like, 1,000 frames"], inproc["EER-like, 2,000 frames"]
    po, pt = (e2[0] - e1[0]) / 1000, (e2[1] - e1[1]) / 1000
    print(f"\nper page (EER-like, 2,000 - 1,000 frames, in process): ours {po * 1e6:.2f} µs, "
          f"tifffile len(pages) {pt * 1e6:.2f} µs, ratio {po / pt:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
