"""The reader registry: one row per format, the only place that knows which formats exist.

A row names the format key, the reader module (under ``empiar_validate.formats``, imported on
first use so that inspecting MRC files never imports h5py, tifffile or numpy), the extensions
that say "this format", a content sniff, and whether the extension alone may decide when no
sniff recognises the content. Dispatch asks every row's sniff in table order first (magic bytes
beat extensions), then falls back to the extension. Adding a format is one reader module plus
one row here; docs/formats/adding-a-reader.md walks through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Sniff = Callable[[bytes, str], bool]  # (first bytes, lower-case extension) -> is it mine?


@dataclass(frozen=True, slots=True)
class Reader:
    """One row of :data:`READERS`.

    ``extension_min_bytes`` is ``None`` when only the content decides (formats with magic
    bytes); otherwise a file with one of ``extensions`` and at least that many bytes in its
    head goes to this reader even if no sniff recognised it (formats without magic bytes, and
    old MRC files without the ``MAP`` stamp), and the reader checks plausibility itself.
    ``isolated`` readers run in a worker process (libhdf5 parses untrusted bytes in C: a crash
    or a hang must cost one file, not the run; formats/isolation.py). ``fast`` names a module
    whose ``read_fast(source, record) -> bool`` runs first, in this process, and reads the
    files it fully covers without the reader (pure-Python BigDataViewer, formats/bdv_fast.py);
    ``False`` leaves the record untouched and the reader runs as usual.
    """

    key: str
    module: str
    extensions: tuple[str, ...]
    sniff: Sniff | None
    extension_min_bytes: int | None = None
    isolated: bool = False  # read in a worker process (formats/isolation.py): C parsers
    fast: str | None = None  # in-process first try for the files it covers (no C parser)


def magic(*prefixes: bytes, at: int = 0) -> Sniff:
    """A sniff that recognises any of ``prefixes`` at byte ``at`` of the head."""

    def sniff(head: bytes, ext: str) -> bool:
        return head.startswith(prefixes, at)

    return sniff


HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _hdf5(head: bytes, ext: str) -> bool:
    """HDF5 puts its signature at 0 or, after a user block, at 512, 1024, 2048..."""
    return (head[:8] == HDF5_MAGIC or head[512:520] == HDF5_MAGIC or head[1024:1032] == HDF5_MAGIC
            or head[2048:2056] == HDF5_MAGIC)


def _spider_dat(head: bytes, ext: str) -> bool:
    """SPIDER files are often named .dat, and Xmipp names its SPIDER stacks .stk (a name
    MetaMorph also uses for TIFF stacks): only a plausible SPIDER header makes those SPIDER."""
    if ext not in (".dat", ".stk"):
        return False
    from empiar_validate.formats.spider import looks_like_spider  # a light module

    return looks_like_spider(head)


def _smv(head: bytes, ext: str) -> bool:
    """ADSC SMV diffraction frames: ``{`` and ``HEADER_BYTES=``, whatever the extension (they
    share IMAGIC's ``.img``; content decides first)."""
    if head[:1] != b"{":
        return False
    from empiar_validate.formats.smv import looks_like_smv  # a light module

    return looks_like_smv(head)


def _zip(head: bytes, ext: str) -> bool:
    """A ``.zip`` archive of image files (other ZIP-based files are not images)."""
    return ext == ".zip" and head[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def _mrc(head: bytes, ext: str) -> bool:
    """The ``MAP `` stamp of MRC2000 (old files without it go by extension, see the row)."""
    return head[208:211] == b"MAP"


# Sniffs run in this order; the first that says yes decides. Put a new format with magic bytes
# anywhere (magic bytes do not overlap); the order only matters for sniffs that look at the
# extension too.
READERS: tuple[Reader, ...] = (
    Reader("tiff", "tiff", (".tif", ".tiff", ".eer", ".gain"),
           magic(b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")),
    Reader("hdf5", "hdf5", (".h5", ".hdf5", ".hdf"), _hdf5, isolated=True, fast="bdv_fast"),
    Reader("dm", "dm", (".dm3", ".dm4"), magic(b"\x00\x00\x00\x03", b"\x00\x00\x00\x04")),
    Reader("mrc", "mrc",
           (".mrc", ".mrcs", ".map", ".st", ".ali", ".rec", ".preali", ".ccp4"), _mrc, 1024),
    Reader("imagic", "imagic", (".hed", ".img"), None, 0),
    Reader("spider", "spider", (".spi", ".spider"), _spider_dat, 0),
    Reader("smv", "smv", (".smv", ".img"), _smv),
    Reader("zip", "archive", (".zip",), _zip),
    Reader("cbf", "cbf", (".cbf",), magic(b"###CBF")),
)

BY_KEY: dict[str, Reader] = {r.key: r for r in READERS}
# Extension -> format key (the first row listing it), for findings and for companion files.
EXTENSIONS: dict[str, str] = {}
for _r in READERS:
    for _ext in _r.extensions:
        EXTENSIONS.setdefault(_ext, _r.key)
_SNIFFS: tuple[tuple[Sniff, str], ...] = tuple((r.sniff, r.key) for r in READERS if r.sniff)
# Extension -> (format key, least head bytes) for formats the extension may decide alone.
_BY_EXTENSION: dict[str, tuple[str, int]] = {}
for _r in READERS:
    if _r.extension_min_bytes is not None:
        for _ext in _r.extensions:
            _BY_EXTENSION.setdefault(_ext, (_r.key, _r.extension_min_bytes))
del _r, _ext


def sniff(head: bytes, ext: str) -> str | None:
    """The format key the content says, or the extension's for formats that allow it."""
    for check, key in _SNIFFS:
        if check(head, ext):
            return key
    fallback = _BY_EXTENSION.get(ext)
    if fallback is not None and len(head) >= fallback[1]:
        return fallback[0]
    return None


def claims(key: str, ext: str) -> bool:
    """True when ``ext`` is one of the extensions of format ``key``."""
    return ext in BY_KEY[key].extensions
