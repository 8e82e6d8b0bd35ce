"""What the dispatcher and every reader share: the :class:`Source` a reader is handed and the
rules of the dispatcher itself (F001-F010).

It sits below both the dispatcher (:mod:`empiar_validate.formats`) and the readers, so a reader
that reports a dispatcher rule (the MRC reader reports F007 for an old MRC file without its
``MAP`` stamp that is not plausible) imports it from here, not from the package that imports it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from empiar_validate.findings import Severity, rule

if TYPE_CHECKING:
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
    "F008", Severity.WARNING, "content not present (git-annex/DataLad/DVC/Git LFS placeholder)",
    "Fetch the content (`git annex get`, `datalad get`, `dvc pull`, `git lfs pull`) to check it.",
)
F_READER_FAILED = rule(
    "F009", Severity.ERROR, "header could not be parsed",
    "The file is corrupt or uses a variant the reader does not know; check it in its own software.",
)
F_COMPRESSED_CORRUPT = rule(
    "F010", Severity.ERROR, "compressed stream is corrupt or truncated",
    "Re-compress the file from the original.",
)

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
    # How an archive reader reads a member like a file; the dispatcher passes its own, so
    # formats/archive.py needs no import of the dispatcher (which imports every reader).
    read_member: Callable[[Any, str], FileRecord] | None = None
    # Where the bytes come from when not from ``path`` on disk: a callable returning a binary
    # file object (an object store's ranged reader, :mod:`empiar_validate.remote.ranged`).
    opener: Callable[[], BinaryIO] | None = None

    def open(self):  # type: ignore[no-untyped-def]
        """Open read-only (decompressing transparently). Callers must close it."""
        raw = self.opener() if self.opener is not None else None
        if self.compression == "gzip":
            import gzip

            return gzip.open(raw if raw is not None else self.path, "rb")
        if self.compression == "bzip2":
            import bz2

            return bz2.open(raw if raw is not None else self.path, "rb")
        return raw if raw is not None else open(self.path, "rb")  # the caller closes it


def split_extension(name: str) -> tuple[str, str | None]:
    """``('.mrc', 'gzip')`` for ``x.mrc.gz``; lower-case extension and compression suffix."""
    lower = name.lower()
    comp = None
    if lower.endswith(".gz"):
        comp, lower = "gzip", lower[:-3]
    elif lower.endswith(".bz2"):
        comp, lower = "bzip2", lower[:-4]
    dot = lower.rfind(".")
    if dot > 0 and lower[0] != ".":  # the common case, without os.path.splitext's generality
        return lower[dot:], comp
    return os.path.splitext(lower)[1], comp
