"""The fuzz suite's harness: seeds, mutations, the CLI run in-process, and the invariants.

Every fuzz target (``tests/test_fuzz_*.py``) runs the installed command the way a user does
(``empiar-validate inspect|validate|scan``, in-process for speed) on a mutated input in a fresh
directory, and checks what must hold for ANY input:

- no traceback: the exit code is 0 or 1 and nothing escapes ``main``;
- the report is complete and encodable: the output is strict UTF-8 (no lone surrogate reaches
  a real stdout), JSON parses, JUnit parses as XML; a good neighbour file is still reported;
- findings name the file: every finding about the fuzzed input says which file;
- the input is never changed, and nothing is written beside it.

Two regimes (docs/fuzzing.md):

- the default test run: hypothesis derandomized, a few examples per target, a few seconds in
  all, no example database: the same inputs on every run;
- the long run: ``EMPIAR_FUZZ_SECONDS=N`` runs every target for N seconds with fresh random
  seeds, round after round, saving any failing input to ``.hypothesis/``.

Seeds are files other software wrote (mrcfile, tifffile, h5py, pybdv; the EMDB/EPU/FEI files
of ``tools/fetch-interop-data``; empiar-depositor's working example), the committed fixtures,
and hand-built headers for formats no installable library writes (IMAGIC, SPIDER, EER).
"""

from __future__ import annotations

import bz2
import contextlib
import functools
import gzip
import io
import json
import os
import struct
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from empiar_validate.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
INTEROP = ROOT / ".interop" / "mrcfile"
SEED_CAP = 96 * 1024  # bytes of a large seed kept (a truncated file is a realistic input too)

BUDGET = float(os.environ.get("EMPIAR_FUZZ_SECONDS", "0") or 0)  # seconds per target
_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
             HealthCheck.large_base_example]
settings.register_profile(
    "fuzz-short", derandomize=True, database=None, deadline=None, max_examples=12,
    suppress_health_check=_SUPPRESS, print_blob=True,
)
settings.register_profile(
    "fuzz-long", derandomize=False, deadline=None, max_examples=200,
    suppress_health_check=_SUPPRESS, print_blob=True,
)
PROFILE = "fuzz-long" if BUDGET else "fuzz-short"

RUNS = [0]  # inputs run so far (the long run prints them per target)


def examples(short: int) -> Callable[[Any], Any]:
    """Settings of a target: ``short`` examples in the default run, the long profile otherwise."""
    base = settings.get_profile(PROFILE)
    return settings(base, max_examples=short) if not BUDGET else settings(base)


def budgeted(target: Callable[[], None]) -> Callable[[], None]:
    """Run a hypothesis test once (default run), or round after round for ``BUDGET`` seconds.

    Each round of the long profile draws fresh random inputs; a failure stops the run with
    hypothesis's minimal example. No ``functools.wraps``: pytest must see no parameters.
    """

    def run() -> None:
        if not BUDGET:
            target()
            return
        start = time.monotonic()
        before = RUNS[0]
        while time.monotonic() < start + BUDGET:
            target()
        print(f"\nfuzz {target.__name__}: {RUNS[0] - before} inputs in "
              f"{time.monotonic() - start:.0f} s, no failure")

    run.__name__ = target.__name__
    run.__doc__ = target.__doc__
    return run


# --------------------------------------------------------------------------- running the CLI


@dataclass
class Run:
    """One in-process run of the CLI."""

    code: int
    out: str
    err: str


def run_cli(*args: str | os.PathLike[str]) -> Run:
    """``empiar-validate ARGS`` in-process; any exception escaping ``main`` fails the test."""
    RUNS[0] += 1
    out, err = io.StringIO(), io.StringIO()
    with (contextlib.redirect_stdout(out), contextlib.redirect_stderr(err),
          warnings.catch_warnings()):
        warnings.simplefilter("ignore")
        code = main([os.fspath(a) for a in args])
    return Run(code, out.getvalue(), err.getvalue())


def check_output(run: Run, fmt: str) -> Any:
    """What every report must be: exit 0/1, strict UTF-8, parseable in its format. Returns the
    parsed JSON for ``--format json``."""
    assert run.code in (0, 1), f"exit {run.code}: {run.err[-2000:]}"
    assert "Traceback" not in run.err, run.err[-2000:]
    run.out.encode("utf-8")  # a lone surrogate raises here, as it would on a real stdout
    run.err.encode("utf-8")
    if fmt == "json":  # standard JSON: no NaN or Infinity, which strict parsers refuse
        return json.loads(run.out, parse_constant=_not_json)
    if fmt == "junit":
        from lxml import etree

        etree.fromstring(run.out.encode("utf-8"))
    if fmt == "html":
        assert run.out.lstrip().lower().startswith("<!doctype html"), run.out[:200]
        assert not any(c in run.out for c in "\x00\x1b\x7f"), "raw control character in HTML"
    return None


def _not_json(name: str) -> None:
    raise AssertionError(f"{name} in the JSON report: not standard JSON")


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``directory``: content and modification time (to prove nothing
    changed and nothing was added)."""
    out = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out[str(path.relative_to(directory))] = (path.read_bytes(), path.stat().st_mtime_ns)
    return out


@contextlib.contextmanager
def workdir() -> Any:
    """A fresh directory per example (hypothesis cannot use function-scoped fixtures)."""
    with tempfile.TemporaryDirectory(prefix="ev-fuzz-") as tmp:
        yield Path(tmp)


FORMATS = st.sampled_from(["json", "text", "junit", "github", "html"])


# --------------------------------------------------------------------------- mutations

INTERESTING32 = (0, 1, -1, 0x7FFFFFFF, -0x80000000, 0xFFFF, 0x10000, 1024, 4096, 0x7F7FFFFF)
INTERESTING8 = (0x00, 0x01, 0x7F, 0x80, 0xFF)


@st.composite
def mutate(draw: st.DrawFn, data: bytes, *, hot: int = 4096) -> bytes:
    """``data`` with up to six mutations, positions mostly in the first ``hot`` bytes (where
    the headers are): bit flips, interesting bytes and 32-bit words, cuts, inserts, deletions,
    duplicated chunks."""
    buf = bytearray(data)
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(
            ["flip", "byte", "word", "word", "truncate", "insert", "delete", "dup", "zero"]))
        size = len(buf)
        if size == 0:
            buf += draw(st.binary(min_size=1, max_size=64))
            continue
        limit = min(size, hot) if draw(st.integers(0, 9)) < 8 else size
        at = draw(st.integers(0, max(limit - 1, 0)))
        if kind == "flip":
            buf[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte":
            buf[at] = draw(st.sampled_from(INTERESTING8))
        elif kind == "word":
            at -= at % 4
            value = draw(st.sampled_from(INTERESTING32))
            order = draw(st.sampled_from("<>"))
            buf[at:at + 4] = struct.pack(order + ("i" if value < 0x80000000 else "I"), value)
        elif kind == "truncate":
            del buf[draw(st.integers(0, size - 1)):]
        elif kind == "insert":
            buf[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif kind == "delete":
            del buf[at:at + draw(st.integers(1, 64))]
        elif kind == "dup":
            buf[at:at] = buf[at:at + draw(st.integers(1, 256))]
        else:
            end = at + draw(st.integers(1, 512))
            buf[at:end] = bytes(len(buf[at:end]))
    return bytes(buf)


@st.composite
def wrapped(draw: st.DrawFn, name: str, data: bytes) -> tuple[str, bytes]:
    """Maybe compress the (mutated) file as a depositor might, and maybe damage the stream
    afterwards: ``1f 8b 08 00`` + garbage is a partly downloaded ``.gz``."""
    how = draw(st.sampled_from(["plain"] * 6 + ["gzip", "bzip2", "gzip-damaged",
                                                 "bzip2-damaged", "gzip-garbage"]))
    if how == "plain":
        return name, data
    if how == "gzip-garbage":
        return name + ".gz", b"\x1f\x8b\x08\x00" + draw(st.binary(max_size=64))
    packed = gzip.compress(data, mtime=0) if how.startswith("gzip") else bz2.compress(data)
    suffix = ".gz" if how.startswith("gzip") else ".bz2"
    if how.endswith("damaged"):
        packed = draw(mutate(packed, hot=256))
    return name + suffix, packed


# --------------------------------------------------------------------------- seeds


@dataclass(frozen=True)
class Seed:
    """Files that belong together (a BDV .h5 + .xml, an IMAGIC .hed + .img) and which of them
    the mutations hit."""

    label: str
    files: tuple[tuple[str, bytes], ...]
    target: str

    def __repr__(self) -> str:  # hypothesis prints it for a failing example: keep it short
        return f"Seed({self.label!r})"

    def content(self) -> bytes:
        """The bytes of the file the mutations hit."""
        return dict(self.files)[self.target]


def _capped(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(SEED_CAP)


def _one(label: str, name: str, data: bytes) -> Seed:
    return Seed(label, ((name, data),), name)


@functools.cache
def reader_seeds() -> dict[str, tuple[Seed, ...]]:
    """Seeds per reader, written by other software where any writes the format."""
    with tempfile.TemporaryDirectory(prefix="ev-seeds-") as tmp:
        work = Path(tmp)
        seeds: dict[str, list[Seed]] = {
            "mrc": _mrc_seeds(work), "tiff": _tiff_seeds(work), "dm": _dm_seeds(),
            "hdf5": _hdf5_seeds(work), "imagic": _imagic_seeds(), "spider": _spider_seeds(),
            "smv": _smv_seeds(work), "zip": _zip_seeds(work), "cbf": _cbf_seeds(work),
        }
    return {k: tuple(v) for k, v in seeds.items()}


def _mrc_seeds(work: Path) -> list[Seed]:
    import mrcfile
    import numpy as np

    out = [_one(f"fixture {p.name}", p.name, _capped(p))
           for p in sorted((FIXTURES / "dataset").rglob("*.mrc*")) if p.suffix != ".mdoc"]
    if INTEROP.is_dir():  # EMDB maps, EPU and FEI movies, gzip and bzip2 (fetch-interop-data)
        for p in sorted(INTEROP.iterdir()):
            if ".map" in p.name or p.suffix == ".mrc":
                out.append(_one(f"interop {p.name}", p.name, _capped(p)))
    # mrcfile's own writer: a stack with ispg 1 (its default on movies), int8, float16, gzip
    for name, data, compression in (
        ("stack.mrcs", np.zeros((3, 8, 6), np.float32), None),
        ("bytes.mrc", np.zeros((4, 5), np.int8), None),
        ("half.mrc", np.zeros((2, 4, 4), np.float16), None),
        ("movie.mrc.gz", np.zeros((2, 6, 6), np.uint16), "gzip"),
    ):
        path = work / name
        with mrcfile.new(path, compression=compression) as mrc:
            mrc.set_data(data)
            mrc.voxel_size = 1.5
        out.append(_one(f"mrcfile {name}", name, path.read_bytes()))
    return out


def _tiff_seeds(work: Path) -> list[Seed]:
    import numpy as np
    import tifffile

    out = [_one(f"fixture {p.name}", p.name, _capped(p))
           for p in sorted((FIXTURES / "dataset" / "movies").glob("*.tiff"))[:1]]
    frames = np.zeros((3, 16, 12), np.uint8)
    path = work / "pages.tif"  # camera software writes page by page
    with tifffile.TiffWriter(path) as tw:
        for frame in frames:
            tw.write(frame, contiguous=False, photometric="minisblack")
    out.append(_one("tifffile page by page", "pages.tif", path.read_bytes()))
    path = work / "big.tiff"
    tifffile.imwrite(path, frames, bigtiff=True, resolution=(1e4, 1e4),
                     photometric="minisblack", metadata={"axes": "ZYX"})
    out.append(_one("tifffile BigTIFF", "big.tiff", path.read_bytes()))
    path = work / "gain.gain"
    tifffile.imwrite(path, np.ones((8, 8), np.float32), compression="zlib")
    out.append(_one("tifffile deflate gain", "gain.gain", path.read_bytes()))
    # EER: tifffile cannot write compression 65002; patch the tag of raw pages (as the tests do)
    path = work / "movie.eer"
    xml = (b'<metadata><item name="numberOfFrames">3</item>'
           b'<item name="sensorPixelSize.width" unit="m">7.5e-11</item></metadata>')
    with tifffile.TiffWriter(path) as tw:
        for i in range(3):
            tags = [(65001, 7, None, xml, True)] if i == 0 else []
            tw.write(np.zeros((8, 8), np.uint8), contiguous=False, extratags=tags,
                     photometric="minisblack")
    with tifffile.TiffFile(path) as tif:
        offsets = [page.tags[259].valueoffset for page in tif.pages]
    raw = bytearray(path.read_bytes())
    for offset in offsets:
        struct.pack_into("<H", raw, offset, 65002)
    out.append(_one("EER (tifffile pages, patched compression)", "movie.eer", bytes(raw)))
    return out


def _dm_seeds() -> list[Seed]:
    # No installable library writes DM3/DM4; the fixtures are the test-suite's DM writer's,
    # cross-checked against rosettasciio's reader.
    return [_one(f"fixture {p.name}", p.name, _capped(p))
            for p in sorted((FIXTURES / "dataset" / "dm4").glob("*.dm4"))[:1]]


def _hdf5_seeds(work: Path) -> list[Seed]:
    import h5py
    import numpy as np

    light = FIXTURES / "dataset" / "lightsheet"
    h5, xml = (light / "cells.h5").read_bytes(), (light / "cells.xml").read_bytes()
    out = [
        Seed("fixture BDV (pybdv) .h5", (("cells.h5", h5), ("cells.xml", xml)), "cells.h5"),
        Seed("fixture BDV companion .xml", (("cells.h5", h5), ("cells.xml", xml)), "cells.xml"),
    ]
    path = work / "plain.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=np.zeros((2, 4, 4), np.float32))
        f["data"].attrs["pixel_size"] = 1.2
    out.append(_one("h5py plain dataset", "plain.h5", path.read_bytes()))
    path = work / "eman.hdf"
    with h5py.File(path, "w") as f:  # the layout EMAN2 writes: MDF/images/N/image
        group = f.create_group("MDF/images/0")
        group.create_dataset("image", data=np.zeros((4, 4), np.float32))
        group.attrs["EMAN.apix_x"] = 1.1
        f["MDF/images"].attrs["imageid_max"] = 0
    out.append(_one("h5py EMAN2 layout", "eman.hdf", path.read_bytes()))
    return out


def _imagic_seeds() -> list[Seed]:
    # IMAGIC-5 as IMAGIC writes it: 256 words per image, .hed + .img (no library writes it).
    def record(index: int, images: int, order: str) -> bytes:
        words = bytearray(1024)
        for word, fmt, value in ((1, "i", index + 1), (2, "i", images - 1 if index == 0 else 0),
                                 (4, "i", 1), (7, "i", 2024), (12, "i", 24), (13, "i", 4),
                                 (14, "i", 6), (61, "i", 1), (62, "i", images),
                                 (69, "i", 33686018 if order == "<" else 67372036),
                                 (123, "f", 1.25), (124, "f", 1.25)):
            struct.pack_into(order + fmt, words, (word - 1) * 4, value)
        words[56:60] = b"REAL"
        return bytes(words)

    out = []
    for order in "<>":
        hed = b"".join(record(i, 3, order) for i in range(3))
        img = bytes(3 * 24 * 4)
        files = (("stack.hed", hed), ("stack.img", img))
        out.append(Seed(f"IMAGIC {order} .hed", files, "stack.hed"))
    return out


def _spider_seeds() -> list[Seed]:
    def header(nx: int, ny: int, nz: int, order: str, istack: int = 0, maxim: int = 0) -> bytes:
        lenbyt, labrec = nx * 4, -(-1024 // (nx * 4))
        words = [0.0] * (labrec * lenbyt // 4)
        for word, value in {1: nz, 2: ny, 3: labrec + ny * nz, 5: 3 if nz > 1 else 1, 10: -1.0,
                            12: nx, 13: labrec, 22: labrec * lenbyt, 23: lenbyt, 24: istack,
                            26: maxim, 38: 1.1}.items():
            words[word - 1] = float(value)
        return struct.pack(f"{order}{len(words)}f", *words)

    out = [
        _one("SPIDER image", "image.spi", header(8, 8, 1, "<") + bytes(8 * 8 * 4)),
        _one("SPIDER volume, big-endian", "vol.spider", header(8, 8, 4, ">") + bytes(8 * 8 * 16)),
        _one("SPIDER .dat", "img.dat", header(16, 4, 1, "<") + bytes(16 * 4 * 4)),
    ]
    one = header(8, 8, 1, "<") + bytes(256)
    out.append(_one("SPIDER stack", "stack.spi", header(8, 8, 1, "<", 2, 2) + one + one))
    return out


@dataclass(frozen=True)
class Case:
    """One fuzz input: the seed it came from, the file name and the mutated bytes."""

    seed: Seed
    name: str
    data: bytes

    def __repr__(self) -> str:  # short, but enough to rebuild the file by hand
        import hashlib

        digest = hashlib.sha256(self.data).hexdigest()[:16]
        return (f"Case({self.seed!r}, {self.name!r}, {len(self.data)} bytes sha256 {digest}, "
                f"starts {self.data[:48].hex()})")


@st.composite
def mutated_seed(draw: st.DrawFn, seeds: tuple[Seed, ...]) -> Case:
    """A seed, mutated, maybe compressed (and the compressed stream maybe damaged)."""
    seed = draw(st.sampled_from(seeds))
    data = draw(mutate(seed.content()))
    name, data = draw(wrapped(seed.target, data))
    return Case(seed, name, data)


def _smv_seeds(work: Path) -> list[Seed]:
    from smvfiles import smv_bytes, write_smv_fabio

    out = [_one("SMV ADSC frame (.img)", "frame_00001.img", smv_bytes()),
           _one("SMV big-endian float (.smv)", "frame.smv",
                smv_bytes(16, 8, order="big_endian", kind="float"))]
    try:
        path = write_smv_fabio(work / "fabio.img")
        out.append(_one("SMV written by fabio", "fabio.img", path.read_bytes()))
    except ImportError:
        pass
    return out


def _cbf_seeds(work: Path) -> list[Seed]:
    """A PILATUS-style mini-CBF written by fabio (byte-offset compressed), as MX software does."""
    import numpy as np

    try:
        from fabio.cbfimage import CbfImage
    except ImportError:
        return [_one("CBF magic only", "frame.cbf", b"###CBF: VERSION 1.5\r\n" + bytes(64))]
    header = {"_array_data.header_convention": "PILATUS_1.2",
              "_array_data.header_contents": "# Detector: PILATUS 6M\r\n"
                                             "# Pixel_size 172e-6 m x 172e-6 m\r\n"}
    path = work / "frame_0001.cbf"
    data = (np.arange(40 * 30) % 50).astype("int32").reshape(30, 40)
    CbfImage(data=data, header=header).write(str(path))
    return [_one("CBF written by fabio", "frame_0001.cbf", path.read_bytes())]


def _zip_seeds(work: Path) -> list[Seed]:
    import zipfile

    from smvfiles import write_series_zip

    out = [_one("ZIP of SMV frames (deflated)", "series.zip",
                write_series_zip(work / "series.zip", frames=3).read_bytes())]
    path = work / "maps.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("maps/one.mrc", _good_mrc())
    out.append(_one("ZIP of an MRC map (stored)", "maps.zip", path.read_bytes()))
    return out


def write_seed(directory: Path, seed: Seed, name: str, data: bytes) -> None:
    """Write the seed's files into ``directory``, the target as ``name`` holding ``data``."""
    for other, content in seed.files:
        if other != seed.target:
            (directory / other).write_bytes(content)
    (directory / name).write_bytes(data)


def good_neighbour() -> tuple[str, bytes]:
    """A valid MRC file written by mrcfile: it must be reported, and cleanly, whatever lies
    beside it."""
    return "zz_good_neighbour.mrc", _good_mrc()


@functools.cache
def _good_mrc() -> bytes:
    import mrcfile
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "good.mrc"
        with mrcfile.new(path) as mrc:
            mrc.set_data(np.zeros((8, 8), np.float32))
            mrc.voxel_size = 1.0
        return path.read_bytes()
