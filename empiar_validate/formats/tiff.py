"""TIFF, BigTIFF and EER headers, without touching page data: the reader that puts together
the IFD chain (:mod:`~empiar_validate.formats.tiff_ifd`), EER acquisition metadata
(:mod:`~empiar_validate.formats.eer`) and vendor metadata
(:mod:`~empiar_validate.formats.tiff_vendor`) into one record.

tifffile is imported only for the first page's vendor metadata and for the names of rare
compression codes. Compressed ``.tif.bz2``/``.tiff.gz`` files are walked through the
decompressed stream within a per-file byte budget (:mod:`~empiar_validate.formats.decompress`:
parallel decompression, worker processes); their frame count is reported only when the whole
chain lies within it, and is otherwise unknown, never a guess.
"""

from __future__ import annotations

import io
import struct
import zlib

from empiar_validate.findings import Finding, Rule, Severity, rule
from empiar_validate.formats.eer import EER_COMPRESSIONS, fill_eer, is_eer_xml
from empiar_validate.formats.tiff_ifd import (
    F_TIFF_IFD,
    ByteSource,
    Chain,
    first_int,
    walk,
)
from empiar_validate.formats.tiff_vendor import fill_vendor_metadata
from empiar_validate.formats.voxel import voxel_type
from empiar_validate.records import LAYOUT_IMAGE, LAYOUT_STACK, FileRecord

F_TIFF_SHAPES = rule(
    "F205", Severity.WARNING, "TIFF pages have different shapes",
    "Keep one image size per file (thumbnails and previews belong in separate files).",
)
F_TIFF_DIMENSIONS = rule(
    "F206", Severity.ERROR, "TIFF image width or height is missing or zero",
    "The file is corrupt; re-export it.",
)
F_TIFF_SAMPLES = rule(
    "F207", Severity.WARNING, "TIFF has several samples per pixel (colour or multi-channel)",
    "EMPIAR image sets are single-channel; deposit greyscale images.",
)
F_TIFF_STREAM_DEPTH = rule(
    "F208", Severity.WARNING, "frame count of a compressed TIFF not reached within the "
    "decompression budget (unknown, not compared)",
    "Raise the budget (--decompress-budget 5G for a K3 movie), give the frame count in the "
    "image set yourself, or deposit the TIFF uncompressed (TIFF's own LZW compression keeps "
    "the file small and the header readable).",
)
F_TIFF_STREAM_HEADER = rule(
    "F209", Severity.WARNING, "first IFD of a compressed TIFF lies beyond the decompression "
    "budget",
    "Raise --decompress-budget, or deposit the TIFF uncompressed or with TIFF's internal "
    "compression (LZW).",
)


def read(source, record: FileRecord) -> None:  # type: ignore[no-untyped-def]
    """Fill ``record`` from a TIFF/BigTIFF/EER header; every problem becomes a finding."""
    shown = record.path

    def problem(r: Rule, message: str, **kw: object) -> None:
        record.problems.append(Finding.of(r, message, file=shown, **kw))

    record.format = record.header_format = "TIFF"
    if source.compression:
        _read_compressed(source, record, problem)
        return
    with source.open() as fh:
        data = ByteSource(fh, source.size, None, source.head)
        try:
            chain = walk(data)
        except (OSError, EOFError, ValueError, struct.error, zlib.error) as exc:
            problem(F_TIFF_IFD, f"could not read the IFD chain: {type(exc).__name__}: {exc}")
            return
        for r, message in chain.problems:
            problem(r, message)
        if not chain.first:
            if not chain.problems:
                problem(F_TIFF_DIMENSIONS, "the first IFD has no image tags")
            return
        _fill_basic(record, chain, source, problem)
        fill_vendor_metadata(record, chain, fh, problem)


def _read_compressed(source, record: FileRecord, problem) -> None:  # type: ignore[no-untyped-def]
    """A ``.tiff.bz2``/``.tif.gz``: the chain walked through the decompressed stream, within
    the per-file budget (formats/decompress.py: parallel decompression, worker processes)."""
    from empiar_validate.formats import decompress

    walked = decompress.walk(source.path, source.compression, source.size)
    if walked.error is not None or walked.chain is None:
        # a corrupt compressed stream raises while decompressing
        problem(F_TIFF_IFD, f"could not read the IFD chain: {walked.error}")
        return
    chain = walked.chain
    record.extra["decompressed_bytes"] = walked.decompressed
    for r, message in chain.problems:
        problem(r, message)
    if not chain.first:
        if chain.unreachable:
            problem(
                F_TIFF_STREAM_HEADER,
                f"the first IFD is not within the first {_mib(walked.limit)} of the "
                f"decompressed {source.compression} stream (the budget; raise it with "
                f"--decompress-budget); header not read",
            )
        elif not chain.problems:
            problem(F_TIFF_DIMENSIONS, "the first IFD has no image tags")
        return
    _fill_basic(record, chain, source, problem, walked.limit)
    if walked.prefix:
        fill_vendor_metadata(record, chain, io.BytesIO(walked.prefix), problem)


def _mib(nbytes: int) -> str:
    """``64 MiB``, ``1.5 GiB``: a budget as people write it."""
    if nbytes >= 1 << 30:
        return f"{nbytes / (1 << 30):g} GiB"
    return f"{nbytes / (1 << 20):g} MiB"


def _fill_basic(record: FileRecord, chain: Chain, source, problem, limit: int = 0) -> None:  # type: ignore[no-untyped-def]
    """Dimensions, voxel type, compression, page count and layout from the walked chain."""
    first = chain.first
    width, height = first_int(first.get(256)), first_int(first.get(257))
    if not width or not height:
        problem(F_TIFF_DIMENSIONS, f"first page is {width or 0} x {height or 0} pixels")
    else:
        record.width, record.height = width, height
    spp = first_int(first.get(277), 1) or 1
    bits = first_int(first.get(258), 1) or 1
    sample_format = first_int(first.get(339), 1) or 1
    compression = first_int(first.get(259), 1) or 1
    kind = {1: "u", 2: "i", 3: "f", 5: "c", 6: "c"}.get(sample_format, "u")
    record.voxel_type = voxel_type(kind, bits)
    record.extra["tiff_compression"] = _compression_name(compression)
    if chain.bigtiff:
        record.extra["bigtiff"] = True
    if spp > 1:
        record.extra["samples_per_pixel"] = spp
        problem(F_TIFF_SAMPLES, f"{spp} samples per pixel; voxel type given per sample")
    if 322 in first:
        record.extra["tiled"] = True
    if source.ext == ".gain":
        record.extra["gain_reference"] = True
    if chain.reduced:
        record.extra["reduced_resolution_pages"] = chain.reduced
    if chain.complete:
        record.depth = chain.pages
    elif chain.unreachable:
        # the last IFD read points to another: at least two pages, however many there are
        record.layout = LAYOUT_STACK
        problem(
            F_TIFF_STREAM_DEPTH,
            f"the IFD chain continues past the first {_mib(limit)} of the decompressed "
            f"{source.compression} stream (the budget; raise it with --decompress-budget); "
            f"frame count unknown, at least {chain.pages}",
        )
        record.extra["frames_at_least"] = chain.pages
    else:
        record.extra["frames_at_least"] = chain.pages
    if record.depth is not None:
        record.layout = LAYOUT_STACK if record.depth > 1 else LAYOUT_IMAGE
    elif chain.pages > 1:
        record.layout = LAYOUT_STACK
    if len(chain.shapes) > 1:
        counts = ", ".join(
            f"{n} x ({w} x {h})"
            for (w, h), n in sorted(chain.shapes.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        problem(F_TIFF_SHAPES, f"pages of {len(chain.shapes)} different shapes: {counts}")
    if compression in EER_COMPRESSIONS or is_eer_xml(first.get(65001)):
        fill_eer(record, chain, problem)


# tifffile.COMPRESSION names of the codes seen in microscopy, so that a plain TIFF's header read
# does not import tifffile (and numpy: ~0.2 s per process); rarer codes ask tifffile.
_COMPRESSION_NAMES = {
    1: "NONE", 2: "CCITTRLE", 3: "CCITTFAX3", 4: "CCITTFAX4", 5: "LZW", 6: "OJPEG", 7: "JPEG",
    8: "ADOBE_DEFLATE", 32773: "PACKBITS", 32946: "DEFLATE", 34712: "JPEG2000", 34887: "LERC",
    34925: "LZMA", 34933: "PNG", 50000: "ZSTD", 50001: "WEBP", 50002: "JPEGXL",
}


def _compression_name(code: int) -> str:
    if code in EER_COMPRESSIONS:
        return EER_COMPRESSIONS[code]
    name = _COMPRESSION_NAMES.get(code)
    if name is not None:
        return name
    import tifffile

    try:
        return str(tifffile.COMPRESSION(code).name)
    except ValueError:
        return str(code)
