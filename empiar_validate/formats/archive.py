"""ZIP archives of image files, counted as EMPIAR counts them: one archive is one series.

MicroED entries upload each continuous-rotation series as one ZIP of SMV frames (EMPIAR 10318:
8 ZIPs, published as ``numImagesOrTiltSeries`` 8, ``framesPerImage`` 1, ``diffraction
images``, SMV/SMV). So an archive's record describes the series: the format, size, type and
pixel size of its FIRST image member (members sorted by name), ``depth`` 1 as EMPIAR counts
it, and the number of frames in ``extra["series_frames"]``.

Nothing is extracted to disk and no pixel data is read: the member list comes from the
archive's central directory (``zipfile`` reads only that), and the first member is read
through a bounded stream (at most :data:`MEMBER_HEAD` bytes, decompressed in memory if the
member is deflated). Archives whose members are not images are not image files.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from empiar_validate.decompress import DECOMPRESSION_ERRORS
from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.formats.base import split_extension
from empiar_validate.records import LAYOUT_IMAGE, FileRecord

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or an empty archive's end
MEMBER_HEAD = 1 << 16  # bytes of the first member read at most (its header)
# Extensions of members counted as frames (compression suffixes removed first).
IMAGE_MEMBER_EXTENSIONS = frozenset({
    ".img", ".smv", ".cbf", ".mrc", ".mrcs", ".tif", ".tiff", ".dm3", ".dm4", ".spi", ".eer",
})

F_ZIP_CORRUPT = rule(
    "F710", Severity.ERROR, "ZIP archive cannot be read",
    "The archive's central directory is damaged or the file is cut short; zip the series "
    "again (`zip -r series.zip series/`) and check it with `unzip -t`.",
)
F_ZIP_ENCRYPTED = rule(
    "F711", Severity.ERROR, "ZIP archive is encrypted",
    "EMPIAR cannot open encrypted archives; zip the series again without a password.",
)
F_ZIP_MIXED = rule(
    "F712", Severity.WARNING, "ZIP archive holds image files of several kinds",
    "Keep one series of one format per archive; the first member's format describes it.",
)


@dataclass(slots=True)
class _MemberSource:
    """What a format reader needs, for one archive member (same shape as ``formats.Source``)."""

    path: str
    head: bytes
    size: int
    compression: str | None
    ext: str
    archive: zipfile.ZipFile
    info: zipfile.ZipInfo

    def open(self) -> BinaryIO:
        """The member's first :data:`MEMBER_HEAD` bytes as a file; readers never need more."""
        with self.archive.open(self.info) as fh:
            return io.BytesIO(fh.read(MEMBER_HEAD))


def looks_like_zip(head: bytes, ext: str) -> bool:
    """A ``.zip`` file with a ZIP signature (other ZIP-based files are not image archives)."""
    return ext == ".zip" and head[:4] in ZIP_MAGIC


def image_members(names: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    """Members that are image files, by name, sorted; directories and macOS resource forks out."""
    out = []
    for info in names:
        name = info.filename
        if info.is_dir() or name.startswith("__MACOSX/") or posixpath.basename(name)[:2] == "._":
            continue
        if split_extension(posixpath.basename(name))[0] in IMAGE_MEMBER_EXTENSIONS:
            out.append(info)
    return sorted(out, key=lambda i: i.filename)


def read(source, record: FileRecord) -> None:  # type: ignore[no-untyped-def]
    """Fill ``record`` from a ZIP archive's directory and its first image member's header."""
    shown = record.path
    try:
        with zipfile.ZipFile(source.path) as archive:
            _read_archive(archive, record, source.read_member)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, *DECOMPRESSION_ERRORS,
            NotImplementedError, RuntimeError) as exc:  # zlib.error: a damaged deflate stream
        record.problems.append(Finding.of(F_ZIP_CORRUPT, f"{type(exc).__name__}: {exc}",
                                          file=shown))


def _read_archive(
    archive: zipfile.ZipFile, record: FileRecord,
    read_member: Callable[[_MemberSource, str], FileRecord],
) -> None:
    shown = record.path
    members = image_members(archive.infolist())
    if not members:
        return  # an archive of other files: supporting data, not an image file
    first = members[0]
    if first.flag_bits & 0x1:
        record.problems.append(Finding.of(F_ZIP_ENCRYPTED, f"member {first.filename} is "
                                          "encrypted", file=shown))
        return
    with archive.open(first) as fh:
        head = fh.read(4096)
    ext, compression = split_extension(posixpath.basename(first.filename))
    member = _MemberSource(f"{shown}:{first.filename}", head, first.file_size, compression,
                           ext, archive, first)
    inner = read_member(member, f"{shown}!{first.filename}")
    if inner.format is None:
        record.problems.extend(inner.problems)
        return
    record.format, record.header_format = inner.format, inner.header_format
    record.voxel_type = inner.voxel_type
    record.width, record.height = inner.width, inner.height
    record.pixel_width, record.pixel_height = inner.pixel_width, inner.pixel_height
    record.problems.extend(inner.problems)
    record.depth = 1  # one series, as EMPIAR counts diffraction archives
    record.layout = LAYOUT_IMAGE
    kinds = {split_extension(posixpath.basename(i.filename))[0] for i in members}
    record.extra.update({
        "archive": "zip", "series_frames": len(members), "first_member": first.filename,
        **{f"member_{k}": v for k, v in sorted(inner.extra.items())},
    })
    if len(kinds) > 1:
        record.problems.append(Finding.of(
            F_ZIP_MIXED, f"members with extensions {', '.join(sorted(kinds))}; "
            f"described by the first, {first.filename}", file=shown,
        ))
