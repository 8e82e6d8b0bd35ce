"""A bounded, safe parser for SerialEM ``.mdoc`` autodoc files.

SerialEM writes one ``key = value`` per line, a global block first, then sections such as
``[ZValue = 0]`` (one per image or tilt), ``[FrameSet = 0]`` or ``[MontSection = 0]``, and title
lines ``[T = ...]``. The files sit beside movies and tilt series and carry the acquisition facts
EMPIAR asks depositors to give in ``details`` (dose, voltage, pixel spacing, tilt angles). A
dataset may hold thousands of them, some damaged or not mdoc at all, so reading is bounded in
bytes and never raises anything but :class:`MdocError` for bad content.
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass, field

from empiar_validate.paths import READ_FLAGS

MAX_MDOC_BYTES = 16 << 20  # a 200-tilt mdoc is ~200 KB; anything far larger is not an mdoc
MAX_SECTIONS = 100_000
MAX_VALUE_CHARS = 4096

_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.]*")
_SECTION = re.compile(r"^\[\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(.*?)\s*\]$")


class MdocError(ValueError):
    """The content is not a readable SerialEM autodoc (binary, too large, no key = value lines)."""


@dataclass(slots=True)
class MdocSection:
    """One ``[Kind = index]`` block: ``kind`` is ``ZValue``, ``FrameSet``, ``MontSection``..."""

    kind: str
    index: str
    values: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Mdoc:
    """A parsed autodoc: the global ``header`` values, ``titles`` (``[T = ...]``) and sections."""

    header: dict[str, str] = field(default_factory=dict)
    titles: list[str] = field(default_factory=list)
    sections: list[MdocSection] = field(default_factory=list)

    @property
    def images(self) -> list[MdocSection]:
        """Sections describing one image each (``ZValue``, or ``FrameSet`` in frame mdocs)."""
        z = [s for s in self.sections if s.kind == "ZValue"]
        return z or [s for s in self.sections if s.kind == "FrameSet"]


def parse_mdoc(text: str) -> Mdoc:
    """Parse autodoc text; raise :class:`MdocError` when it holds no ``key = value`` line at all.

    Unknown lines are skipped rather than rejected: SerialEM versions differ and a partial file
    (an acquisition that stopped) still carries useful values.
    """
    if "\x00" in text:
        raise MdocError("contains NUL bytes; not a text autodoc")
    doc = Mdoc()
    current: dict[str, str] = doc.header
    pairs = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("["):
            m = _SECTION.match(line)
            if m is None:
                continue
            kind, index = m.group(1), m.group(2)[:MAX_VALUE_CHARS]
            if kind == "T":
                doc.titles.append(index)
                continue
            if len(doc.sections) >= MAX_SECTIONS:
                raise MdocError(f"more than {MAX_SECTIONS} sections")
            section = MdocSection(kind, index)
            doc.sections.append(section)
            current = section.values
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _KEY.fullmatch(key):
            continue
        current[key] = value.strip()[:MAX_VALUE_CHARS]
        pairs += 1
    if pairs == 0 and not doc.sections:
        raise MdocError("no 'key = value' lines; not a SerialEM autodoc")
    return doc


def read_mdoc(path: str | os.PathLike[str], *, max_bytes: int = MAX_MDOC_BYTES) -> Mdoc:
    """Read and parse ``path``; :class:`MdocError` for bad content, :class:`OSError` for I/O.

    Opened non-blocking so a FIFO named ``x.mdoc`` cannot hang the run; at most ``max_bytes`` + 1
    bytes are read. Text is decoded as UTF-8 with Latin-1 as the fallback (Windows SerialEM
    writes the local code page).
    """
    fd = os.open(path, READ_FLAGS)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise MdocError("not a regular file")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise MdocError(f"larger than {max_bytes >> 20} MiB; not read")
    if not data.strip():
        raise MdocError("empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return parse_mdoc(text)


def numbers(value: str | None) -> list[float]:
    """The finite numbers in a whitespace-separated value (``"3838 3710"``); ``[]`` if any is not.

    >>> numbers("0.44 8"), numbers("abc"), numbers("nan")
    ([0.44, 8.0], [], [])
    """
    if not value:
        return []
    out = []
    for part in value.split()[:64]:
        try:
            x = float(part)
        except ValueError:
            return []
        if not math.isfinite(x):
            return []
        out.append(x)
    return out


def _first(value: str | None) -> float | None:
    nums = numbers(value)
    return nums[0] if nums else None


def mdoc_acquisition(doc: Mdoc) -> list[dict[str, object]]:
    """One acquisition dict per image section, in the keys the format readers use.

    Keys: ``voltage_kv``, ``pixel_size_a``, ``dose_e_per_a2`` (dose of that image),
    ``dose_per_frame_e_per_a2``, ``frames``, ``exposure_s``, ``magnification``, ``tilt_deg``,
    ``target_defocus_um``, ``camera_index``. Global values fill what a section does not say.
    A document without image sections yields one dict from its global block.
    """
    sections = doc.images or [MdocSection("global", "", {})]
    out = []
    for section in sections:
        v = section.values

        def get(key: str, v: dict[str, str] = v) -> str | None:
            return v.get(key, doc.header.get(key))

        acq: dict[str, object] = {}
        _put(acq, "voltage_kv", _first(get("Voltage")), positive=True)
        _put(acq, "pixel_size_a", _first(get("PixelSpacing")), positive=True)
        _put(acq, "dose_e_per_a2", _first(get("ExposureDose")), positive=True)
        _put(acq, "exposure_s", _first(get("ExposureTime")), positive=True)
        _put(acq, "magnification", _first(get("Magnification")), positive=True)
        _put(acq, "tilt_deg", _first(get("TiltAngle")), limit=360.0)
        _put(acq, "target_defocus_um", _first(get("TargetDefocus")), limit=1000.0)
        frames = _first(get("NumSubFrames"))
        if frames is not None and frames >= 1 and frames == int(frames) and frames < 1e7:
            acq["frames"] = int(frames)
        per_frame = numbers(get("FrameDosesAndNumber"))
        if len(per_frame) >= 2 and per_frame[0] > 0 and len(per_frame) % 2 == 0:
            # pairs of (dose, count): report the dose only when every group has the same one
            doses = set(per_frame[0::2])
            if len(doses) == 1:
                acq["dose_per_frame_e_per_a2"] = per_frame[0]
        camera = _first(get("CameraIndex"))
        if camera is not None and camera == int(camera) and 0 <= camera < 100:
            acq["camera_index"] = int(camera)
        name = get("CameraName") or get("Camera")
        if name and not numbers(name):
            acq["camera"] = name[:200]
        if acq:
            out.append(acq)
    return out


def _put(
    acq: dict[str, object], key: str, value: float | None, *, positive: bool = False,
    limit: float | None = None,
) -> None:
    if value is None or (positive and value <= 0) or (limit is not None and abs(value) > limit):
        return
    acq[key] = value
