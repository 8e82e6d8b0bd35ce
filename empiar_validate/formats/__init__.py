"""Format detection and dispatch: one reader module per format, all returning a FileRecord.

The format is decided by magic bytes, not by the extension; an extension that contradicts the
content is a finding. Which formats exist, their extensions and sniffs are one table,
:data:`empiar_validate.formats.registry.READERS`; reader modules are imported only when a file of
their format is seen, so inspecting MRC files never imports h5py or tifffile. Readers get a
:class:`~empiar_validate.formats.base.Source` and fill a
:class:`~empiar_validate.records.FileRecord`; they never raise for a bad file.
"""

from __future__ import annotations

import importlib
import os
import stat
from collections.abc import Callable
from types import ModuleType
from typing import BinaryIO

from empiar_validate.decompress import DECOMPRESSION_ERRORS
from empiar_validate.findings import Finding
from empiar_validate.formats import isolation
from empiar_validate.formats.base import (
    F_BROKEN_LINK,
    F_COMPRESSED_CORRUPT,
    F_EMPTY,
    F_LINK_LOOP,
    F_MISMATCH,
    F_NOT_PRESENT,
    F_READER_FAILED,
    F_SPECIAL,
    F_UNREADABLE,
    F_UNRECOGNISED,
    HEAD_SIZE,
    Source,
    split_extension,
)
from empiar_validate.formats.registry import BY_KEY, EXTENSIONS, READERS, sniff
from empiar_validate.lfs import looks_like_pointer
from empiar_validate.paths import READ_FLAGS, display_path
from empiar_validate.records import FileRecord

__all__ = [
    "EXTENSIONS", "F_BROKEN_LINK", "F_COMPRESSED_CORRUPT", "F_EMPTY", "F_LINK_LOOP", "F_MISMATCH",
    "F_NOT_PRESENT", "F_READER_FAILED", "F_SPECIAL", "F_UNREADABLE", "F_UNRECOGNISED", "HEAD_SIZE",
    "READERS", "Source", "read_bytes", "read_header", "read_member_header", "sniff",
    "split_extension",
]

COMPRESSION_SUFFIXES = {".gz": "gzip", ".bz2": "bzip2"}  # split_extension spells them out
_modules: dict[str, ModuleType] = {}  # format key -> imported reader module


def _decompressed_head(
    path: str, compression: str, opener: Callable[[], BinaryIO] | None = None,
) -> bytes:
    src = Source(path, b"", 0, compression, opener=opener)
    with src.open() as fh:
        return fh.read(HEAD_SIZE)


def read_header(
    path: str | os.PathLike[str], display: str | None = None, *, regular: bool = False,
) -> FileRecord:
    """Read the header of one file into a :class:`FileRecord`. Never raises for a bad file.

    ``regular=True`` says the directory listing already showed a regular file (``d_type``, no
    system call): the file is then opened first and ``fstat``-ed, which saves a path lookup.
    """
    path = os.fspath(path)
    shown = display if display is not None else display_path(path)
    record = FileRecord(path=shown)
    got = _stat_and_read(path, shown, record, regular)
    if got is None:
        return record
    head, size = got
    return read_bytes(path, head, size, record)


def read_bytes(
    path: str, head: bytes, size: int, record: FileRecord,
    opener: Callable[[], BinaryIO] | None = None,
) -> FileRecord:
    """Fill ``record`` from the first bytes of a file of ``size`` bytes, wherever they were
    read: on disk (``opener=None``: readers open ``path``) or in an object store (``opener``
    returns a ranged reader, so a reader that needs more than ``head`` reads on)."""
    shown = record.path
    if looks_like_pointer(head, size):
        return _lfs_pointer(head, record)
    # the base name (os.path.basename, or the last part of an object's /-separated key)
    ext, compression = split_extension(path.rpartition(os.sep)[2].rpartition("/")[2])
    magic_comp = "gzip" if head[:2] == b"\x1f\x8b" else "bzip2" if head[:3] == b"BZh" else None
    if magic_comp:
        compression = magic_comp
        try:
            head = _decompressed_head(path, magic_comp, opener)
        except DECOMPRESSION_ERRORS as exc:  # zlib.error too: a partly downloaded .gz
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
    if expected is not None and expected != key and ext not in BY_KEY[key].extensions:
        record.problems.append(Finding.of(
            F_MISMATCH,
            f"extension {ext} says {expected.upper()} but the content is {key.upper()}",
            file=shown,
        ))
    source = Source(path, head, size, compression, ext, read_member=read_member_header,
                    opener=opener)
    try:
        if BY_KEY[key].fast and opener is None and _fast(BY_KEY[key].fast, source, record):
            return record
        # a worker process gets a path to open; a remote object's ranged reader stays here
        if BY_KEY[key].isolated and isolation.enabled() and opener is None:
            return isolation.read_isolated(BY_KEY[key].module, source, record)
        module = _modules.get(key) or _reader(key)
        module.read(source, record)
    except Exception as exc:  # last safety net: a bad file is a finding
        damaged = compression is not None and isinstance(exc, DECOMPRESSION_ERRORS)
        record.problems.append(Finding.of(
            F_COMPRESSED_CORRUPT if damaged else F_READER_FAILED,
            f"{compression}: {exc}" if damaged else f"{type(exc).__name__}: {exc}", file=shown,
        ))
    return record


def read_member_header(source, shown: str) -> FileRecord:  # type: ignore[no-untyped-def]
    """Read one archive member (``source`` holds its first bytes and opens it) like a file.

    Used by formats/archive.py for the first image of a ZIP; never raises for a bad member.
    """
    record = FileRecord(path=shown)
    key = sniff(source.head, source.ext)
    if key is None or key == "zip":
        expected = EXTENSIONS.get(source.ext)
        if expected is not None:
            record.problems.append(Finding.of(
                F_UNRECOGNISED, f"archive member with extension {source.ext} is not a "
                f"recognisable {expected.upper()} file", file=shown,
            ))
        return record
    module = _modules.get(key) or _reader(key)
    try:
        module.read(source, record)
    except Exception as exc:  # last safety net, as for files
        record.problems.append(Finding.of(
            F_READER_FAILED, f"{type(exc).__name__}: {exc}", file=shown
        ))
    return record


def _stat_and_read(
    path: str, shown: str, record: FileRecord, regular: bool,
) -> tuple[bytes, int] | None:
    """``(first bytes, file size)``, or ``None`` with the finding in ``record`` for anything that
    is not a readable, non-empty regular file. Special files are never opened: unless the walk
    saw a regular file, ``stat`` comes first; and a file swapped for a FIFO since then cannot
    block ``open`` (``O_NONBLOCK``), and is closed unread once ``fstat`` shows what it is."""
    fd = -1
    try:
        if regular:
            try:
                fd = os.open(path, READ_FLAGS)
            except OSError:
                fd = -1  # changed since the walk: stat() below says what it is now
        try:
            st = os.fstat(fd) if fd >= 0 else os.stat(path)
        except FileNotFoundError:
            record.problems.append(_missing_target(path, shown))
            return None
        except OSError as exc:
            code = F_LINK_LOOP if exc.errno == 40 else F_UNREADABLE
            record.problems.append(Finding.of(code, f"{exc.strerror}", file=shown))
            return None
        if not stat.S_ISREG(st.st_mode):
            record.problems.append(
                Finding.of(F_SPECIAL, "not a regular file; not opened", file=shown)
            )
            return None
        size = record.size = st.st_size
        if size == 0:
            record.problems.append(Finding.of(F_EMPTY, "file is empty", file=shown))
            return None
        try:
            if fd < 0:
                fd = os.open(path, READ_FLAGS)
            return _read_fd(fd, size), size
        except OSError as exc:
            record.problems.append(Finding.of(F_UNREADABLE, f"{exc.strerror}", file=shown))
            return None
    finally:
        if fd >= 0:
            os.close(fd)


def _read_fd(fd: int, size: int) -> bytes:
    """The first :data:`HEAD_SIZE` bytes (fewer for a smaller file), with plain system calls:
    a Python file object costs more than the read itself."""
    head = os.read(fd, HEAD_SIZE)
    # A short read (network file systems, a file growing or shrinking): read on until the head
    # is complete or the file ends. Each round adds a byte or stops, so this is bounded.
    while len(head) < min(size, HEAD_SIZE) and (more := os.read(fd, HEAD_SIZE - len(head))):
        head += more
    return head


def _lfs_pointer(data: bytes, record: FileRecord) -> FileRecord:
    """A Git LFS pointer stands for content not present: the size and SHA-256 are the
    content's, from the pointer; a malformed pointer is a finding of its own."""
    from empiar_validate.lfs import L_BAD_POINTER, describe, parse_pointer

    pointer, reasons = parse_pointer(data)
    if pointer is None:
        record.problems.append(Finding.of(L_BAD_POINTER, "; ".join(reasons), file=record.path))
        return record
    record.size = pointer.size
    record.extra["lfs_sha256"] = pointer.sha256
    record.problems.append(Finding.of(F_NOT_PRESENT, describe(pointer), file=record.path))
    return record


def _reader(key: str) -> ModuleType:
    """Import the reader module for a format key once; later calls hit :data:`_modules`."""
    module = _modules[key] = importlib.import_module(
        f"empiar_validate.formats.{BY_KEY[key].module}"
    )
    return module


def _fast(module: str, source: Source, record: FileRecord) -> bool:
    """``read_fast`` of a reader's in-process first try (the registry's ``fast``), imported
    once; True when it filled ``record``."""
    mod = _modules.get(module)
    if mod is None:
        mod = _modules[module] = importlib.import_module(f"empiar_validate.formats.{module}")
    return bool(mod.read_fast(source, record))


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

