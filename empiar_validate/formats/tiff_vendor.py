"""Pixel size and stack facts from a TIFF's first page: ImageJ, FEI/Thermo and Zeiss SEM
metadata, or a physical ResolutionUnit.

tifffile is imported here only, and only when the first page has metadata its parsers are worth
having for (ImageJ description, FEI or Zeiss tags); a plain TIFF's header read never imports it
(or numpy).
"""

from __future__ import annotations

import logging
import math
import threading
from typing import BinaryIO

from empiar_validate.findings import Severity, rule
from empiar_validate.formats.tiff_ifd import MAX_VALUE_BYTES, Chain, first_int
from empiar_validate.formats.units import angstroms_per, round6
from empiar_validate.records import LAYOUT_STACK, FileRecord

F_TIFF_METADATA = rule(
    "F210", Severity.WARNING, "TIFF vendor metadata could not be read",
    "The pixel size and acquisition details are not taken from the file; give them yourself.",
)

_DISPLAY_DPI = (72.0, 96.0, 150.0, 300.0, 600.0)


class _CaptureTifffileLog(logging.Filter):
    """Swallow tifffile's log records emitted by the current thread while capturing them.

    Header reads run in a thread pool; a per-thread list keeps other threads' logging intact.
    """

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        sink = getattr(self.local, "sink", None)
        if sink is None:
            return True
        if record.levelno >= logging.ERROR:
            sink.append(record.getMessage())
        return False


_LOG_FILTER = _CaptureTifffileLog()
_FILTER_LOCK = threading.Lock()


def _install_filter() -> None:
    with _FILTER_LOCK:
        log = logging.getLogger("tifffile")
        if _LOG_FILTER not in log.filters:
            log.addFilter(_LOG_FILTER)


_VENDOR_TAGS = (34118, 34680, 34682)  # CZ_SEM, FEI_SFEG, FEI_HELIOS


def fill_vendor_metadata(record: FileRecord, chain: Chain, fh: BinaryIO, problem) -> None:  # type: ignore[no-untyped-def]
    """Pixel size where it is physical, plus ImageJ stack facts, from the first page.

    tifffile is opened only when the first page has metadata it can parse for us (ImageJ
    description, FEI or Zeiss tags), and not when such a tag is absurdly large.
    """
    if record.extra.get("pixel_size_source") == "eer":
        return
    desc = chain.first.get(270)
    vendor = [c for c in _VENDOR_TAGS if c in chain.first_sizes]
    if not vendor and not (isinstance(desc, bytes) and desc.startswith(b"ImageJ=")):
        size = _resolution_cm_pixel_size(chain.first)
        if size is not None:
            record.pixel_width, record.pixel_height = (round6(v) for v in size)
            record.extra["pixel_size_source"] = "resolution"
        return
    huge = [c for c in vendor if chain.first_sizes[c] > MAX_VALUE_BYTES]
    if huge:
        problem(F_TIFF_METADATA, f"vendor tag {huge[0]} holds {chain.first_sizes[huge[0]]} "
                f"bytes; not read")
        return
    import tifffile

    _install_filter()
    sink: list[str] = []
    _LOG_FILTER.local.sink = sink
    try:
        # is_* flags off: these make tifffile load every page up front
        fh.seek(0)  # tifffile takes the current position as the start of the TIFF
        with tifffile.TiffFile(
            fh, is_lsm=False, is_scanimage=False, is_ndpi=False, is_mmstack=False,
        ) as tif:
            fei, sem, imagej = tif.fei_metadata, tif.sem_metadata, tif.imagej_metadata
    except Exception as exc:  # tifffile raises many types for corrupt tags
        problem(F_TIFF_METADATA, f"tifffile: {type(exc).__name__}: {exc}")
        return
    finally:
        _LOG_FILTER.local.sink = None
    if sink:
        problem(F_TIFF_METADATA, f"tifffile: {sink[0][:200]}")
    if imagej:
        _imagej_stack(record, imagej)
    size = _fei_pixel_size(fei) or _sem_pixel_size(sem)
    source = "fei" if fei and size else "zeiss_sem" if size else None
    if size is None and imagej:
        size = _resolution_pixel_size(chain.first, angstroms_per(imagej.get("unit")))
        source = "imagej" if size else None
    if size is None:
        size = _resolution_cm_pixel_size(chain.first)
        source = "resolution" if size else None
    if size is not None:
        record.pixel_width, record.pixel_height = (round6(v) for v in size)
        record.extra["pixel_size_source"] = source


def _imagej_stack(record: FileRecord, meta: dict[str, object]) -> None:
    """ImageJ hyperstack sizes; a >4 GiB ImageJ stack stores one IFD and ``images=N``."""
    dims = {k: v for k in ("channels", "slices", "frames") if isinstance(v := meta.get(k), int)}
    if dims:
        record.extra["imagej"] = dims
    spacing, per = meta.get("spacing"), angstroms_per(meta.get("unit"))
    if isinstance(spacing, int | float) and not isinstance(spacing, bool) and spacing > 0 and per:
        # z spacing (a FIB-SEM or serial-section slice's thickness), as MRC and BDV record it
        record.extra["pixel_depth"] = round6(spacing * per)
    images = meta.get("images")
    if isinstance(images, int) and record.depth == 1 and images > 1:
        record.depth = images
        record.layout = LAYOUT_STACK
        record.extra["imagej_images"] = images


def _fei_pixel_size(meta: object) -> tuple[float, float] | None:
    """FEI/Thermo SEM/FIB ``[Scan] PixelWidth`` (metres)."""
    if not isinstance(meta, dict):
        return None
    for section in ("Scan", "EScan", "IScan"):
        sec = meta.get(section)
        if not isinstance(sec, dict):
            continue
        w, h = sec.get("PixelWidth"), sec.get("PixelHeight", sec.get("PixelWidth"))
        if _positive(w) and _positive(h):
            return float(w) * 1e10, float(h) * 1e10  # type: ignore[arg-type]
    return None


def _sem_pixel_size(meta: object) -> tuple[float, float] | None:
    """Zeiss SEM ``ap_image_pixel_size`` = ('Image Pixel Size', value, unit)."""
    if not isinstance(meta, dict):
        return None
    for key in ("ap_image_pixel_size", "ap_pixel_size"):
        entry = meta.get(key)
        if isinstance(entry, tuple) and len(entry) == 3 and _positive(entry[1]):
            scale = angstroms_per(entry[2])
            if scale:
                return float(entry[1]) * scale, float(entry[1]) * scale
    return None


def _resolution_pixel_size(
    first: dict[int, object], angstroms_per_unit: float | None
) -> tuple[float, float] | None:
    """Pixel size from X/YResolution (pixels per unit) in a physical unit."""
    if not angstroms_per_unit:
        return None
    xres, yres = first.get(282), first.get(283)
    x = xres[0] if isinstance(xres, tuple) and xres else None
    y = yres[0] if isinstance(yres, tuple) and yres else x
    if not _positive(x) or not _positive(y) or x == 1.0:
        return None  # no tag, or tifffile's 1 pixel per unit placeholder
    return angstroms_per_unit / x, angstroms_per_unit / y  # type: ignore[operator]


def _resolution_cm_pixel_size(first: dict[int, object]) -> tuple[float, float] | None:
    """ResolutionUnit centimetre, unless the value is a display dpi in disguise.

    Inch and no-unit resolutions are never physical here: they are display defaults (72, 96 or
    300 dpi) written by every image library.
    """
    if first_int(first.get(296), 2) != 3:
        return None
    xres = first.get(282)
    x = xres[0] if isinstance(xres, tuple) and xres else None
    if _positive(x) and any(abs(x * 2.54 - dpi) < 0.01 for dpi in _DISPLAY_DPI):  # type: ignore[operator]
        return None
    return _resolution_pixel_size(first, 1e8)


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0
