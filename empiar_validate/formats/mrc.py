"""MRC / MRCS / CCP4 header reader: the 1024-byte header and the first extended-header record.

The header fields are unpacked with one precompiled ``struct`` at mrcfile's offsets (a test
checks them against ``mrcfile.dtypes.HEADER_DTYPE``) from the bytes the dispatcher already read,
never through an ``MrcFile`` object: opening one per file costs far more than the 1 KiB we need,
and it would read or map the data block. A 100 GB movie therefore costs one 4 KiB read and an
``fstat()``; numpy and mrcfile are imported only for FEI extended headers. This is the scan's hot
path (``docs/performance.md``, readers): keep per-file work to plain Python and ``struct``.
"""

from __future__ import annotations

import functools
import math
import struct
from typing import TYPE_CHECKING, NamedTuple

from empiar_validate.findings import Finding, Rule, Severity, rule
from empiar_validate.formats.base import F_UNRECOGNISED
from empiar_validate.formats.mode0 import read_mode0
from empiar_validate.formats.mrc_sanity import header_sanity
from empiar_validate.formats.voxel import voxel_type
from empiar_validate.records import LAYOUT_IMAGE, LAYOUT_STACK, LAYOUT_VOLUME, FileRecord

if TYPE_CHECKING:
    from empiar_validate.formats.base import Source

HEADER_BYTES = 1024
MAX_DIM = (1 << 24) - 1  # more than 16.7 M columns, rows or sections is corruption, not data
IMOD_STAMP = 1146047817  # "IMOD" at byte 152: IMOD's flags at byte 156 then mean something
KNOWN_EXTTYPES = ("CCP4", "MRCO", "SERI", "AGAR", "FEI1", "FEI2")
# Extensions whose convention says what the file holds, used when the space group disagrees
# (IMOD wrote space group 0 into tomograms for decades).
EXTENSION_LAYOUT = {
    ".mrcs": LAYOUT_STACK, ".st": LAYOUT_STACK, ".ali": LAYOUT_STACK, ".preali": LAYOUT_STACK,
    ".rec": LAYOUT_VOLUME, ".map": LAYOUT_VOLUME, ".ccp4": LAYOUT_VOLUME,
}

M_SHORT = rule(
    "F100", Severity.ERROR, "MRC header truncated (shorter than 1024 bytes)",
    "The file was cut short; copy it again from the original.",
)
M_STAMP = rule(
    "F101", Severity.WARNING, "MRC machine stamp does not identify the byte order",
    "Rewrite the header with the stamp that matches the data (44 44 00 00 little-endian, "
    "11 11 00 00 big-endian), e.g. with mrcfile.",
)
M_NO_MAP = rule(
    "F102", Severity.WARNING, "no 'MAP ' identifier (pre-2000 MRC header)",
    "Convert the file to MRC2014 (e.g. with mrcfile or IMOD `newstack`) before deposition.",
)
M_MODE = rule(
    "F103", Severity.ERROR, "unknown MRC mode",
    "The header is corrupt or the file uses a non-standard mode; convert it to mode 0, 1, 2, "
    "6 or 12.",
)
M_COMPLEX = rule(
    "F104", Severity.WARNING, "complex MRC mode (EMPIAR has no complex voxel type)",
    "Deposit real-space images or maps rather than Fourier transforms.",
)
M_DIMS = rule(
    "F105", Severity.ERROR, "absurd MRC dimensions",
    "The header is corrupt; nx, ny and nz must each be between 1 and 16777215.",
)
M_PIXEL = rule(
    "F106", Severity.WARNING, "MRC pixel size unknown (cell size or sampling zero)",
    "Set the pixel size in the header (cella = pixel size × mx, my, mz), e.g. with IMOD "
    "`alterheader -del X,Y,Z` or mrcfile's voxel_size.",
)
M_TRUNCATED = rule(
    "F107", Severity.ERROR, "MRC file shorter than its header says",
    "The file was cut short; copy it again from the original.",
)
M_LARGER = rule(
    "F108", Severity.WARNING, "MRC file larger than its header says",
    "Check the header dimensions; trailing bytes are ignored by most software.",
)
M_EXT_PAST_END = rule(
    "F109", Severity.ERROR, "MRC extended header size invalid or larger than the file",
    "The header's nsymbt is corrupt or the file was cut short; copy it again or fix nsymbt.",
)
M_FEI_SHORT = rule(
    "F110", Severity.WARNING, "FEI extended header too short for one record",
    "The extended header is damaged; acquisition metadata could not be read from it.",
)
M_LAYOUT = rule(
    "F111", Severity.WARNING, "MRC space group does not clearly say stack or volume",
    "Set ispg to 0 for image stacks, 1 for volumes, 401 for volume stacks (with nz a multiple "
    "of mz), or rename the file.",
)
M_GZIP_SIZE = rule(
    "F112", Severity.ERROR, "gzip size trailer does not match the MRC header",
    "The .gz file is truncated or made of several gzip streams; test it with `gzip -t` and "
    "re-compress from the original as one stream.",
)


class MrcHeader(NamedTuple):
    """The header fields a depositor's record needs, as Python values in one byte order.

    A named tuple built straight from one ``struct.unpack_from`` (see :data:`_LAYOUT`): this is
    parsed once per file on the scan's hot path, where a dataclass or a numpy record view costs
    several times the 1 KiB read itself.
    """

    nx: int
    ny: int
    nz: int
    mode: int
    mx: int
    my: int
    mz: int
    cell_x: float  # Å, float32 values
    cell_y: float
    cell_z: float
    mapc: int  # axis of columns, rows, sections: a permutation of 1, 2, 3
    mapr: int
    maps: int
    ispg: int
    nsymbt: int
    exttyp: bytes  # raw 4 bytes
    nversion: int
    imod_stamp: int
    imod_flags: int
    origin_x: float  # float32 values
    origin_y: float
    origin_z: float
    map_id: bytes  # raw 4 bytes at 208
    machst: bytes
    nlabl: int  # labels in use, 0..10
    order: str  # "<" or ">"

    @property
    def cella(self) -> tuple[float, float, float]:
        """Cell lengths in Å (float32 values), as mrcfile's ``header.cella``."""
        return self.cell_x, self.cell_y, self.cell_z

    def dims_ok(self) -> bool:
        """True when every dimension is between 1 and :data:`MAX_DIM`."""
        return 0 < self.nx <= MAX_DIM and 0 < self.ny <= MAX_DIM and 0 < self.nz <= MAX_DIM

    def plausible(self) -> bool:
        """True when dimensions and mode make sense; decides the byte order of a bad stamp."""
        return self.mode in MODE_INFO and self.dims_ok()

    def data_bytes(self) -> int | None:
        """Bytes of the data block the header describes, or ``None`` for an unknown mode."""
        info = MODE_INFO.get(self.mode)
        if info is None:
            return None
        if info[1] == 4:  # mode 101: two voxels per byte, each row padded to a whole byte
            return (self.nx + 1) // 2 * self.ny * self.nz
        return self.nx * self.ny * self.nz * info[1] // 8


# The MRC2014 header fields MrcHeader holds, at mrcfile's offsets (``mrcfile.dtypes.HEADER_DTYPE``;
# a test checks every field against it): nx ny nz mode @0, mx my mz @28, cella @40, mapc mapr
# maps @64, ispg nsymbt @88, exttyp @104, nversion @108, IMOD stamp and flags @152, origin @196,
# map @208, machst @212, nlabl @220.
_LAYOUT = "4i12x3i3f12x3i12x2i8x4si40x2i36x3f4s4s4xi"
_STRUCTS = {order: struct.Struct(order + _LAYOUT) for order in ("<", ">")}
_new_tuple = tuple.__new__  # NamedTuple._make without its length check: the layout fixes it


def parse_header(head: bytes, order: str) -> MrcHeader:
    """Parse the first 1024 bytes of ``head`` in byte order ``order`` (``<`` or ``>``)."""
    return _new_tuple(MrcHeader, (*_STRUCTS[order].unpack_from(head), order))  # no field check


# MRC mode -> (EMPIAR voxel type, bits per voxel). mrcfile's modes (a test checks them against
# ``mrcfile.utils.dtype_from_mode``) plus 3 (pairs of int16) and IMOD's packed 4-bit 101, which
# have no numpy dtype.
MODE_INFO: dict[int, tuple[str, int]] = {
    mode: (voxel_type(kind, bits), bits)
    for mode, (kind, bits) in {
        0: ("i", 8), 1: ("i", 16), 2: ("f", 32), 3: ("c", 32), 4: ("c", 64), 6: ("u", 16),
        12: ("f", 16), 101: ("u", 4),
    }.items()
}


def stamp_order(machst: bytes) -> str | None:
    """Byte order the MRC2014 machine stamp says, or ``None`` for an unrecognised stamp."""
    if machst[0] == 0x44 and machst[1] in (0x44, 0x41):
        return "<"
    if machst[0] == 0x11 and machst[1] == 0x11:
        return ">"
    return None


def read(source: Source, record: FileRecord) -> None:
    """Fill ``record`` from the MRC header in ``source.head``; problems go to ``record``."""
    shown = record.path
    record.format = record.header_format = "MRCS" if source.ext == ".mrcs" else "MRC"
    head = source.head
    if len(head) < HEADER_BYTES:
        record.problems.append(Finding.of(
            M_SHORT, f"only {len(head)} bytes; an MRC header needs 1024", file=shown))
        return
    h, found = choose_header(head, None if source.compression else source.size)
    if head[208:211] != b"MAP" and not h.plausible():
        record.format = record.header_format = None  # no stamp, no sense: not an MRC file
        record.problems.append(Finding.of(
            F_UNRECOGNISED, f"extension {source.ext} says MRC but the content is neither an "
                            "MRC2014 header nor a plausible old-style one", file=shown))
        return
    for r, message in found:
        record.problems.append(Finding.of(r, message, file=shown))
    record.extra["byte_order"] = "little" if h.order == "<" else "big"
    record.extra["mrc_mode"] = h.mode
    info = MODE_INFO.get(h.mode)
    if info is None:
        record.problems.append(Finding.of(
            M_MODE, f"mode {h.mode} is not an MRC data type (0, 1, 2, 3, 4, 6, 12, 101)",
            file=shown))
    dims_ok = h.dims_ok()
    if not dims_ok:
        record.problems.append(Finding.of(
            M_DIMS, f"nx, ny, nz = {h.nx}, {h.ny}, {h.nz}: each must be 1..{MAX_DIM}",
            file=shown))
    if info is None or not dims_ok:
        return
    record.width, record.height, record.depth = h.nx, h.ny, h.nz
    record.voxel_type = info[0]
    if h.mode == 0:
        read_mode0(h.imod_stamp == IMOD_STAMP, h.imod_flags, record)
    if h.mode in (3, 4):
        record.problems.append(Finding.of(
            M_COMPLEX, f"mode {h.mode} holds complex numbers ({info[0]})", file=shown))
    if h.nversion:
        record.extra["mrc_version"] = h.nversion
    header_sanity(h, record)
    _pixel_size(h, record)
    _layout(h, source.ext, record)
    if record.layout == LAYOUT_VOLUME and (depth := _spacing(h.cell_z, h.mz)) is not None:
        record.extra["pixel_depth"] = depth  # section spacing; frames of a stack have none
    ext_ok = _extended_header(h, head, source, record)
    if ext_ok:
        _size_check(h, source, record)


def choose_header(head: bytes, size: int | None) -> tuple[MrcHeader, list[tuple[Rule, str]]]:
    """Parse in the byte order the stamp says, or the plausible one when the stamp is wrong.

    Returns the header and the ``(rule, message)`` problems of its identification (bad stamp,
    missing ``MAP``). ``size`` (the file size, if known) breaks ties between two plausible
    byte orders: the one whose data size matches the file wins.
    """
    said = stamp_order(head[212:216])
    has_map = head[208:211] == b"MAP"
    if said is not None and has_map:
        first = parse_header(head, said)
        if first.plausible():
            return first, []  # the common case: one parse
    by_order = {o: parse_header(head, o) for o in ("<", ">")}
    candidates = [h for h in by_order.values() if h.plausible()]
    if said is not None and by_order[said].plausible():
        best = by_order[said]
    elif candidates:
        best = min(candidates, key=lambda h: (_size_mismatch(h, size), h.nx * h.ny * h.nz,
                                              h.order))
    else:
        return by_order[said or "<"], []  # the mode and dimension checks say what is wrong
    name = _order_name(best.order)
    problems: list[tuple[Rule, str]] = []
    if not has_map:
        guessed = "" if best.order == said else f"; byte order guessed as {name}"
        problems.append((M_NO_MAP, f"no 'MAP ' identifier at byte 208{guessed}"))
    elif best.order != said:
        stamp = " ".join(f"0x{b:02x}" for b in best.machst)
        says = "is not a valid stamp" if said is None else f"says {_order_name(said)}"
        problems.append((M_STAMP, f"machine stamp {stamp} {says}; the header reads as {name}"))
    return best, problems


def _order_name(order: str) -> str:
    return "little-endian" if order == "<" else "big-endian"


def _size_mismatch(h: MrcHeader, size: int | None) -> int:
    data = h.data_bytes()
    if size is None or data is None:
        return 1
    return 0 if HEADER_BYTES + max(h.nsymbt, 0) + data == size else 1


_FLOAT32 = struct.Struct("f")


def _round_f32(value: float) -> float:
    """``value`` rounded to the nearest float32 (as ``numpy.float32(value)``)."""
    return _FLOAT32.unpack(_FLOAT32.pack(value))[0]


def shortest_f32(value: float) -> float:
    """A float32 as the shortest decimal that round-trips it, as ``float(str(numpy.float32(v)))``
    gives (0.8537755, not 0.85377548...), without numpy.

    The nearest decimal of each length is tried, and its two neighbours: next to a power of two
    the float32's rounding interval is lopsided, so a neighbour may round-trip when the nearest
    does not (numpy's Dragon4 then picks that neighbour too).
    """
    for digits in range(9):  # 9 significant digits always round-trip a float32
        nearest = f"{value:.{digits}e}"
        if _round_f32(float(nearest)) == value:
            return float(nearest)
        mantissa, exponent = nearest.split("e")
        scaled, power = int(mantissa.replace(".", "")), int(exponent) - digits
        for neighbour in (scaled - 1, scaled + 1):
            if _round_f32(candidate := float(f"{neighbour}e{power}")) == value:
                return candidate
    return value


@functools.lru_cache(maxsize=4096)
def _spacing(cell: float, samples: int) -> float | None:
    """``cell / samples`` in float32 arithmetic, as mrcfile does, as its shortest decimal.

    Cached: every movie of a session has the same cell and sampling.
    """
    if samples <= 0 or not math.isfinite(cell) or cell <= 0:
        return None
    # cell is a float32 already; the double quotient of two float32 values rounded to float32
    # equals the float32 quotient (53 >= 2 x 24 + 2 bits, so double rounding is exact)
    return shortest_f32(_round_f32(cell / _round_f32(samples)))


def _pixel_size(h: MrcHeader, record: FileRecord) -> None:
    record.pixel_width = _spacing(h.cell_x, h.mx)
    record.pixel_height = _spacing(h.cell_y, h.my)
    if record.pixel_width is None or record.pixel_height is None:
        cell = ", ".join(f"{c:g}" for c in h.cella[:2])
        record.problems.append(Finding.of(
            M_PIXEL, f"cell {cell} Å over mx, my = {h.mx}, {h.my} gives no pixel size",
            file=record.path))


def _layout(h: MrcHeader, ext: str, record: FileRecord) -> None:
    """Image, stack or volume from nz, the space group and mz (MRC2014), then the extension."""
    record.extra["space_group"] = h.ispg
    if h.nz == 1:
        record.layout = LAYOUT_IMAGE
        return
    if 401 <= h.ispg <= 630:
        record.layout = LAYOUT_VOLUME
        if h.mz > 0 and h.nz % h.mz == 0:
            record.extra["volume_count"] = h.nz // h.mz
        else:
            record.problems.append(Finding.of(
                M_LAYOUT, f"space group {h.ispg} says volume stack but nz = {h.nz} is not a "
                          f"multiple of mz = {h.mz}", file=record.path))
        return
    from_header = LAYOUT_STACK if h.ispg == 0 else LAYOUT_VOLUME
    record.layout = from_header
    if not 0 <= h.ispg <= 230:
        record.problems.append(Finding.of(
            M_LAYOUT, f"space group {h.ispg} is not valid (0, 1-230, 401-630); read as a volume",
            file=record.path))
    from_ext = EXTENSION_LAYOUT.get(ext)
    if from_ext is not None and from_ext != from_header:
        record.layout = from_ext
        record.problems.append(Finding.of(
            M_LAYOUT, f"space group {h.ispg} says {from_header} but the {ext} extension says "
                      f"{from_ext}; read as a {from_ext}", file=record.path))


def _extended_header(h: MrcHeader, head: bytes, source: Source, record: FileRecord) -> bool:
    """Report the extended header; False when its size makes the data size check meaningless."""
    if h.nsymbt < 0:
        record.problems.append(Finding.of(
            M_EXT_PAST_END, f"extended header size nsymbt = {h.nsymbt} is negative",
            file=record.path))
        return False
    if not source.compression and HEADER_BYTES + h.nsymbt > source.size:
        record.problems.append(Finding.of(
            M_EXT_PAST_END, f"extended header of {h.nsymbt} bytes does not fit in a file of "
                            f"{source.size} bytes", file=record.path))
        return False
    if h.nsymbt == 0:
        return True
    exttyp = h.exttyp.rstrip(b"\x00 ").decode("ascii", "replace")
    record.extra["extended_header_bytes"] = h.nsymbt
    record.extra["extended_header_type"] = exttyp if exttyp.isprintable() and exttyp else None
    if exttyp in ("FEI1", "FEI2"):
        _fei_acquisition(h, exttyp, head, record)
    return True


# FEI metadata fields -> (bitmask word, bit, key in extra["acquisition"], scale to the key's unit)
FEI_FIELDS = (
    ("Microscope type", 1, 1, "microscope", None),
    ("Application", 1, 3, "application", None),
    ("Application version", 1, 4, "application_version", None),
    ("HT", 1, 5, "voltage_kv", 1e-3),  # V
    ("Dose", 1, 6, "dose_e_per_a2", 1e-20),  # electrons / m²
    ("Alpha tilt", 1, 7, "tilt_angle_deg", 1.0),
    ("Pixel size X", 1, 14, "pixel_size_a", 1e10),  # m
    ("Pixel size Y", 1, 15, "pixel_size_y_a", 1e10),
    ("Defocus", 1, 22, "defocus_um", 1e6),  # m
    ("Applied defocus", 1, 24, "applied_defocus_um", 1e6),
    ("Magnification", 1, 31, "magnification", 1.0),
    ("Integration time", 2, 16, "exposure_time_s", 1.0),
    ("Binning Width", 2, 17, "binning", None),
    ("Camera name", 2, 19, "camera", None),
    ("Direct detector electron counting", 2, 26, "electron_counting", None),
)


def _fei_acquisition(h: MrcHeader, exttyp: str, head: bytes, record: FileRecord) -> None:
    """Acquisition metadata from the first section's FEI record, with units in the key names.

    A field counts when its bitmask bit is set; writers that leave a bitmask word at zero get
    their non-empty values reported instead.
    """
    import numpy as np
    from mrcfile.dtypes import get_ext_header_dtype

    dtype = get_ext_header_dtype(exttyp.encode(), h.order)
    end = HEADER_BYTES + dtype.itemsize
    if h.nsymbt < dtype.itemsize or len(head) < end:
        record.problems.append(Finding.of(
            M_FEI_SHORT, f"{exttyp} extended header of {h.nsymbt} bytes is shorter than one "
                         f"{dtype.itemsize}-byte record", file=record.path))
        return
    rec = np.frombuffer(head[HEADER_BYTES:end], dtype=dtype)[0]
    record.extra["extended_header_version"] = int(rec["Metadata version"])
    masks = {1: int(rec["Bitmask 1"]), 2: int(rec["Bitmask 2"])}
    acquisition: dict[str, object] = {}
    for field, word, bit, key, scale in FEI_FIELDS:
        value = _json_value(rec[field], scale)
        if value is None or (masks[word] and not masks[word] >> bit & 1):
            continue
        if not masks[word] and value in ("", 0, False):
            continue
        acquisition[key] = value
    if acquisition.get("pixel_size_y_a") == acquisition.get("pixel_size_a"):
        acquisition.pop("pixel_size_y_a", None)
    record.extra["acquisition"] = acquisition


def _json_value(value: object, scale: float | None) -> object:
    """A numpy scalar as a JSON-ready value: text stripped, floats scaled to 7 significant
    digits, ``None`` for unprintable text or non-finite numbers."""
    import numpy as np

    if isinstance(value, bytes | np.bytes_):
        text = bytes(value).rstrip(b"\x00 ").decode("ascii", "replace").strip()
        return text if text.isprintable() else None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        return None
    if scale is None:
        return int(number) if number.is_integer() else number
    scaled = float(f"{number * scale:.7g}")
    return int(scaled) if scaled.is_integer() and abs(scaled) < 1e15 else scaled


def _size_check(h: MrcHeader, source: Source, record: FileRecord) -> None:
    """Compare the size the header implies with the file (or the gzip trailer)."""
    data = h.data_bytes()
    if data is None:
        return
    expected = HEADER_BYTES + h.nsymbt + data
    if source.compression is None:
        record.extra["size_check"] = "file size"
        if source.size != expected:
            _size_problem(h, data, expected, source.size, record)
        return
    parts = f"1024 header + {h.nsymbt} extended + {data} data"
    if source.compression == "gzip":
        isize = gzip_isize(source.path)
        if isize is None or isize == expected % (1 << 32):
            record.extra["size_check"] = "gzip trailer (size modulo 4 GiB)"
            return
        record.problems.append(Finding.of(
            M_GZIP_SIZE, f"gzip trailer says {isize} bytes uncompressed (modulo 4 GiB) but the "
                         f"header needs {expected} ({parts})", file=record.path))
        return
    record.extra["size_check"] = f"skipped: {source.compression} stores no uncompressed size"


def _size_problem(h: MrcHeader, data: int, expected: int, size: int, record: FileRecord) -> None:
    """F107/F108 for a file whose size is not the one its header implies."""
    parts = f"1024 header + {h.nsymbt} extended + {data} data"
    if size < expected:
        record.problems.append(Finding.of(
            M_TRUNCATED, f"file is {size} bytes but the header needs {expected} "
                         f"({parts})", file=record.path))
    else:
        record.problems.append(Finding.of(
            M_LARGER, f"file is {size} bytes but the header accounts for {expected} "
                      f"({parts}); {size - expected} bytes extra", file=record.path))


def gzip_isize(path: str) -> int | None:
    """The gzip trailer's ISIZE (uncompressed size modulo 2**32): 4 bytes at the end of the file.

    Only meaningful for a single-stream gzip file; ``None`` when it cannot be read.
    """
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            if fh.tell() < 18:  # smaller than an empty gzip stream
                return None
            fh.seek(-4, 2)
            return int.from_bytes(fh.read(4), "little")
    except OSError:
        return None
