"""Format detection and dispatch: one reader module per format, all returning a FileRecord.

The format is decided by magic bytes, not by the extension; an extension that contradicts the
content is a finding. Reader modules are imported only when a file of their format is seen, so
inspecting MRC files never imports h5py or tifffile.
"""

from __future__ import annotations

import importlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.paths import display_path
from empiar_validate.records import FileRecord

HEAD_SIZE = 4096  # bytes sniffed from the start of every file (the cost baseline is 1 KiB)

F_SPECIAL = rule(
    "F001", Severity.ERROR, "not a regular file (FIFO, socket or device)",
    "Remove it from the dataset; special files are never opened (a FIFO would block forever).",
)
F_BROKEN_LINK = rule(
    "F002", Severity.ERROR, "broken symbolic link",
    "Point the link at an existing file or remove it.",
)
F_LINK_LOOP = rule(
    "F003", Severity.ERROR, "symbolic link loop",
    "Break the loop of links; loops are never followed.",
)
F_UNREADABLE = rule(
    "F004", Severity.ERROR, "file or directory cannot be read",
    "Fix the permissions (the tool only needs read access).",
)
F_EMPTY = rule("F005", Severity.ERROR, "empty file", "Remove the empty file or replace it.")
F_MISMATCH = rule(
    "F006", Severity.ERROR, "file extension does not match the content",
    "Rename the file so its extension says what it holds.",
)
F_UNRECOGNISED = rule(
    "F007", Severity.ERROR, "image extension but unrecognised content",
    "The file is corrupt or not an image; replace it with a valid copy.",
)
F_NOT_PRESENT = rule(
    "F008", Severity.WARNING, "content not present (git-annex/DataLad/DVC placeholder)",
    "Fetch the content (`git annex get`, `datalad get`, `dvc pull`) to check it.",
)
F_READER_FAILED = rule(
    "F009", Severity.ERROR, "header could not be parsed",
    "The file is corrupt or uses a variant the reader does not know; check it in its own software.",
)
F_COMPRESSED_CORRUPT = rule(
    "F010", Severity.ERROR, "compressed stream is corrupt or truncated",
    "Re-compress the file from the original.",
)

# Extension -> format key, for mismatch detection and for formats without magic bytes.
EXTENSIONS: dict[str, str] = {
    ".mrc": "mrc", ".mrcs": "mrc", ".map": "mrc", ".st": "mrc", ".ali": "mrc", ".rec": "mrc",
    ".preali": "mrc", ".ccp4": "mrc",
    ".tif": "tiff", ".tiff": "tiff", ".eer": "tiff", ".gain": "tiff",
    ".dm3": "dm", ".dm4": "dm",
    ".h5": "hdf5", ".hdf5": "hdf5", ".hdf": "hdf5",
    ".hed": "imagic", ".img": "imagic",
    ".spi": "spider", ".spider": "spider",
}
COMPRESSION_SUFFIXES = {".gz": "gzip", ".bz2": "bzip2"}

# format key -> module under empiar_validate.formats
READERS = {
    "mrc": "mrc", "tiff": "tiff", "dm": "dm", "hdf5": "hdf5", "imagic": "imagic",
    "spider": "spider",
}


@dataclass(slots=True)
class Source:
    """What a reader gets: the path, the first bytes (already decompressed), and how to open it.

    ``compression`` is ``None``, ``"gzip"`` or ``"bzip2"``; :meth:`open` returns a binary file
    object positioned at 0 that yields decompressed bytes, so readers need not care.
    """

    path: str
    head: bytes
    size: int
    compression: str | None = None
    ext: str = ""

    def open(self):  # type: ignore[no-untyped-def]
        """Open read-only (decompressing transparently). Callers must close it."""
        if self.compression == "gzip":
            import gzip

            return gzip.open(self.path, "rb")
        if self.compression == "bzip2":
            import bz2

            return bz2.open(self.path, "rb")
        return open(self.path, "rb")  # returned to the caller, who closes it


def split_extension(name: str) -> tuple[str, str | None]:
    """``('.mrc', 'gzip')`` for ``x.mrc.gz``; lower-case extension and compression suffix."""
    lower = name.lower()
    comp = None
    for suffix, kind in COMPRESSION_SUFFIXES.items():
        if lower.endswith(suffix):
            comp = kind
            lower = lower[: -len(suffix)]
            break
    return os.path.splitext(lower)[1], comp


def sniff(head: bytes, ext: str) -> str | None:
    """The format key the magic bytes say, or the extension's for formats without magic."""
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    # HDF5 puts its signature at 0 or, after a user block, at 512, 1024, 2048...
    if any(head[o : o + 8] == b"\x89HDF\r\n\x1a\n" for o in (0, 512, 1024, 2048)):
        return "hdf5"
    if len(head) >= 4 and head[:4] in (b"\x00\x00\x00\x03", b"\x00\x00\x00\x04"):
        return "dm"
    if head[208:211] == b"MAP":
        return "mrc"
    if ext == ".dat":
        # SPIDER files are often named .dat; only a plausible SPIDER header makes them images.
        from empiar_validate.formats.spider import looks_like_spider

        return "spider" if looks_like_spider(head) else None
    if ext in (".hed", ".img", ".spi", ".spider"):
        return EXTENSIONS[ext]
    if ext in EXTENSIONS and EXTENSIONS[ext] == "mrc" and len(head) >= 1024:
        return "mrc"  # old MRC files have no MAP stamp; the reader checks plausibility
    return None


def _decompressed_head(path: str, compression: str) -> bytes:
    src = Source(path, b"", 0, compression)
    with src.open() as fh:
        return fh.read(HEAD_SIZE)


def read_header(path: str | os.PathLike[str], display: str | None = None) -> FileRecord:
    """Read the header of one file into a :class:`FileRecord`. Never raises for a bad file."""
    path = os.fspath(path)
    shown = display if display is not None else display_path(path)
    record = FileRecord(path=shown)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        record.problems.append(_missing_target(path, shown))
        return record
    except OSError as exc:
        code = F_LINK_LOOP if exc.errno == 40 else F_UNREADABLE
        record.problems.append(Finding.of(code, f"{exc.strerror}", file=shown))
        return record
    if not stat.S_ISREG(st.st_mode):
        record.problems.append(
            Finding.of(F_SPECIAL, "not a regular file; not opened", file=shown)
        )
        return record
    record.size = st.st_size
    if st.st_size == 0:
        record.problems.append(Finding.of(F_EMPTY, "file is empty", file=shown))
        return record
    ext, compression = split_extension(os.path.basename(path))
    try:
        # O_NONBLOCK: if the file was swapped for a FIFO since stat(), open must not block.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as fh:
            head = fh.read(HEAD_SIZE)
    except OSError as exc:
        record.problems.append(Finding.of(F_UNREADABLE, f"{exc.strerror}", file=shown))
        return record
    magic_comp = "gzip" if head[:2] == b"\x1f\x8b" else "bzip2" if head[:3] == b"BZh" else None
    if magic_comp:
        compression = magic_comp
        try:
            head = _decompressed_head(path, magic_comp)
        except (OSError, EOFError, ValueError) as exc:
            record.problems.append(
                Finding.of(F_COMPRESSED_CORRUPT, f"{magic_comp}: {exc}", file=shown)
            )
            return record
        record.extra["compression"] = magic_comp
    elif compression:
        compression = None  # .gz name without gzip content: read as is
    key = sniff(head, ext)
    expected = EXTENSIONS.get(ext)
    if key is None:
        if expected is not None:
            record.problems.append(Finding.of(
                F_UNRECOGNISED,
                f"extension {ext} says {expected.upper()} but the content is not a "
                f"recognisable {expected.upper()} file",
                file=shown,
            ))
        return record
    if expected is not None and expected != key and not (ext == ".img" and key == "imagic"):
        record.problems.append(Finding.of(
            F_MISMATCH,
            f"extension {ext} says {expected.upper()} but the content is {key.upper()}",
            file=shown,
        ))
    source = Source(path, head, st.st_size, compression, ext)
    module = importlib.import_module(f"empiar_validate.formats.{READERS[key]}")
    try:
        module.read(source, record)
    except Exception as exc:  # last safety net: a bad file is a finding
        record.problems.append(Finding.of(
            F_READER_FAILED, f"{type(exc).__name__}: {exc}", file=shown
        ))
    return record


def _missing_target(path: str, shown: str) -> Finding:
    """A path that stat() cannot follow: annex placeholder, broken link, or vanished file."""
    try:
        target = os.readlink(path)
    except OSError:
        return Finding.of(F_UNREADABLE, "file vanished while scanning", file=shown)
    if "/annex/objects/" in target or target.startswith(".git/annex/"):
        return Finding.of(
            F_NOT_PRESENT, f"git-annex content not present (link to {target})",
            file=shown,
        )
    return Finding.of(F_BROKEN_LINK, f"broken link to {display_path(target)}", file=shown)


def is_image_candidate(path: Path) -> bool:
    """True when the name alone suggests an image file (used to skip companions quickly)."""
    ext, _ = split_extension(path.name)
    return ext in EXTENSIONS
