"""Pictures of image sets: one section of one file, read with bounded memory, as a PNG.

Only when asked (``--thumbnails``, ``package --thumbnail``): everything else in the tool reads
headers only. A thumbnail reads the header it needs and then exactly one 2-D section (the
central section of a volume or stack, or the image) through a :class:`CountingFile`, so a test
can assert that no more than that was read. Supported: MRC/MRCS and DM3/DM4 (uncompressed),
TIFF (one page, through tifffile) and BigDataViewer HDF5 (one z-plane of level 0, through h5py;
HDF5 reads whole chunks, so its bound is a chunk, not a plane); other formats
get no thumbnail rather than a full read. numpy, tifffile and h5py are imported on use.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from typing import TYPE_CHECKING, Any

from empiar_validate.records import FileRecord

if TYPE_CHECKING:
    import numpy as np

THUMB_MAX = 256  # report thumbnails fit in THUMB_MAX x THUMB_MAX
ENTRY_MIN = 400  # empiar-depositor's --entry-thumbnail: at least 400 x 400
MAX_SECTION_BYTES = 1 << 30  # a section larger than this is not read (a hostile header)

SUPPORTED = frozenset({"MRC", "MRCS", "TIFF", "BIG DATA VIEWER HDF5", "DM3", "DM4"})
_MRC_DTYPES = {0: "i1", 1: "i2", 2: "f4", 6: "u2", 12: "f2"}


class CountingFile(io.RawIOBase):
    """A read-only binary file that counts the bytes it returns (the memory-bound check)."""

    def __init__(self, path: str) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115  (closed by close())
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._fh.readinto(buffer)
        self.bytes_read += n or 0
        return n or 0

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def close(self) -> None:
        self._fh.close()
        super().close()


def read_section(path: str, record: FileRecord, counter: list[int] | None = None
                 ) -> np.ndarray | None:
    """The central 2-D section of ``path`` (described by ``record``), or ``None`` when the
    format is not supported or the file cannot be read. ``counter`` receives the bytes read."""
    fh = None
    try:
        fh = CountingFile(path)
        if record.format in ("MRC", "MRCS") and not record.extra.get("compression"):
            section = _mrc_section(fh, record)
        elif record.format == "TIFF":
            section = _tiff_section(fh, record)
        elif record.format == "BIG DATA VIEWER HDF5":
            section = _bdv_section(fh)
        elif record.format in ("DM3", "DM4") and not record.extra.get("compression"):
            section = _dm_section(fh, record)
        else:
            section = None
    except Exception:  # a thumbnail is a picture, never a finding: no picture on any failure
        section = None
    finally:
        if fh is not None:
            if counter is not None:
                counter.append(fh.bytes_read)
            fh.close()
    return section


def _mrc_section(fh: CountingFile, record: FileRecord) -> np.ndarray | None:
    import numpy as np

    order = "<" if record.extra.get("byte_order", "little") == "little" else ">"
    head = fh.read(1024)
    if len(head) < 1024:
        return None
    nx, ny, nz, mode = struct.unpack(order + "4i", head[:16])
    nsymbt = struct.unpack(order + "i", head[92:96])[0]
    code = _MRC_DTYPES.get(mode)
    if code is None or nx < 1 or ny < 1 or nz < 1 or nsymbt < 0:
        return None
    if mode == 0 and record.extra.get("imod_unsigned_bytes"):
        code = "u1"
    dtype = np.dtype(order + code)
    size = nx * ny * dtype.itemsize
    if size > MAX_SECTION_BYTES:
        return None
    fh.seek(1024 + nsymbt + (nz // 2) * size)
    data = fh.read(size)
    if len(data) != size:
        return None
    return np.frombuffer(data, dtype=dtype).reshape(ny, nx)


def _tiff_section(fh: CountingFile, record: FileRecord) -> np.ndarray | None:
    import tifffile

    with tifffile.TiffFile(fh) as tif:
        pages = tif.pages
        index = (record.depth or 1) // 2
        page = pages[min(index, len(pages) - 1)] if index else pages.first
        shape = page.shape
        if len(shape) != 2 or shape[0] * shape[1] * page.dtype.itemsize > MAX_SECTION_BYTES:
            return None
        return page.asarray()


def _dm_section(fh: CountingFile, record: FileRecord) -> np.ndarray | None:
    """The image's ``Data`` array, located by re-walking the tag tree (which seeks past it)."""
    import numpy as np

    from empiar_validate.formats.dm import COLOUR_TYPES, DATA_TYPES, _images
    from empiar_validate.formats.dmtags import parse

    size = fh.seek(0, os.SEEK_END)
    tree = parse(fh, size)
    wanted = record.extra.get("image_index")
    data_type = record.extra.get("dm_data_type")
    dims = record.extra.get("dimensions")
    spec = DATA_TYPES.get(data_type) if isinstance(data_type, int) else None
    if spec is None or data_type in COLOUR_TYPES or spec[0] in ("c", "b") \
            or not isinstance(dims, list) or len(dims) < 2:
        return None
    found = [data for index, _, data in _images(tree.root) if index == wanted]
    if not found:
        return None
    width, height = int(dims[0]), int(dims[1])
    depth = 1
    for n in dims[2:]:
        depth *= int(n)
    order = "<" if tree.little_endian else ">"
    dtype = np.dtype(f"{order}{spec[0]}{spec[2]}")
    nbytes = width * height * dtype.itemsize
    if nbytes > MAX_SECTION_BYTES:
        return None
    fh.seek(found[0].offset + (depth // 2) * nbytes)
    data = fh.read(nbytes)
    if len(data) != nbytes:
        return None
    return np.frombuffer(data, dtype=dtype).reshape(height, width)


def _bdv_section(fh: CountingFile) -> np.ndarray | None:
    import h5py

    with h5py.File(fh, "r") as f:
        timepoints = sorted(k for k in f if k.startswith("t") and k[1:].isdigit())
        for t in timepoints:
            for setup in sorted(f[t]):
                cells = f[t].get(f"{setup}/0/cells")
                if cells is not None and len(cells.shape) == 3:
                    z, y, x = cells.shape
                    if y * x * cells.dtype.itemsize > MAX_SECTION_BYTES:
                        return None
                    return cells[z // 2]
    return None


def to_png(section: np.ndarray, *, max_size: int = THUMB_MAX, min_size: int = 0) -> bytes:
    """8-bit grey PNG of ``section``: contrast stretched (0.5-99.5 percentiles), shrunk to fit
    ``max_size`` (block mean) and, for ``min_size``, enlarged by whole pixels to at least it."""
    import numpy as np

    a = np.asarray(section, dtype=np.float32)
    finite = a[np.isfinite(a)]
    lo, hi = (np.percentile(finite, [0.5, 99.5]) if finite.size else (0.0, 1.0))
    if not hi > lo:
        lo, hi = (float(finite.min()), float(finite.max()) + 1.0) if finite.size else (0.0, 1.0)
    a = np.clip((np.nan_to_num(a, nan=lo) - lo) / (hi - lo), 0.0, 1.0)
    step = max(1, -(-max(a.shape) // max_size)) if max_size else 1
    if step > 1:
        h, w = (a.shape[0] // step) * step, (a.shape[1] // step) * step
        a = a[:h, :w].reshape(h // step, step, w // step, step).mean(axis=(1, 3))
    if min_size and min(a.shape) < min_size:
        k = -(-min_size // min(a.shape))
        a = np.repeat(np.repeat(a, k, axis=0), k, axis=1)
    return png_bytes((a * 255 + 0.5).astype(np.uint8))


def png_bytes(grey: np.ndarray) -> bytes:
    """A minimal PNG (8-bit greyscale, no interlace) from a 2-D ``uint8`` array; no Pillow."""
    height, width = grey.shape
    raw = b"".join(b"\x00" + grey[row].tobytes() for row in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def pick_file(records: list[FileRecord]) -> FileRecord | None:
    """The file a thumbnail of an image set shows: the middle one (by path) of those whose
    format a thumbnail can read."""
    usable = sorted((r for r in records if r.format in SUPPORTED), key=lambda r: r.path)
    return usable[len(usable) // 2] if usable else None


def image_set_png(root: str, records: list[FileRecord], *, max_size: int = THUMB_MAX,
                  min_size: int = 0, counter: list[int] | None = None) -> bytes | None:
    """PNG of one section of one file of an image set (records with paths relative to
    ``root``), or ``None`` when no file of the set can give one."""
    rec = pick_file(records)
    if rec is None:
        return None
    section = read_section(os.path.join(root, rec.path), rec, counter)
    if section is None or section.ndim != 2 or 0 in section.shape:
        return None
    return to_png(section, max_size=max_size, min_size=min_size)


def data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for an ``<img src>`` in a self-contained page."""
    import base64

    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
