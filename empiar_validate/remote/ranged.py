"""A read-only file object over one remote object, fed by ranged requests.

A header read starts with one request for the first :data:`~empiar_validate.formats.HEAD_SIZE`
bytes, handed to the readers as ``Source.head``. Most formats need nothing more. A reader that
does (a TIFF IFD chain, a DM tag tree, an MRC extended header) calls ``Source.open()`` and reads
on through this object: a read inside a range already fetched costs nothing, a read outside
fetches one new range, exactly what the reader asked for (at least :data:`MIN_FETCH` bytes),
never past the object's end. The readers already size their reads for slow storage (the TIFF
walker's windows double while IFDs lie one after the other and shrink at a jump over pixel
data; the DM tag reader's chunks double), so the range grows only when the format needs more,
and a jump over pixel data costs one small request. A per-object byte budget stops a reader
that would wander into the pixel data.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass

MIN_FETCH = 1024  # smallest range requested past the head: one request per tiny read is waste
BUDGET = 64 << 20  # bytes one object may cost; header structures are far smaller


@dataclass(slots=True)
class Transfer:
    """Requests made and bytes received, summed over every object of a run (thread-safe)."""

    requests: int = 0
    bytes: int = 0
    _lock: threading.Lock | None = None

    def add(self, nbytes: int) -> None:
        """Count one request that returned ``nbytes``."""
        if self._lock is None:
            self._lock = threading.Lock()
        with self._lock:
            self.requests += 1
            self.bytes += nbytes


class BudgetExceeded(OSError):
    """A reader asked for more of one object than :data:`BUDGET` allows."""


class RangedFile(io.RawIOBase):
    """Seekable binary file over ``fetch(start, end) -> bytes`` (end exclusive).

    ``head`` holds the bytes ``[0, len(head))`` already fetched. Short answers (the object
    shrank since it was listed) end the file early: readers then see a truncated file, as
    they would on disk.
    """

    def __init__(self, fetch: Callable[[int, int], bytes], size: int, head: bytes = b"",
                 *, budget: int = BUDGET) -> None:
        super().__init__()
        self._fetch = fetch
        self._size = size
        self._ranges: list[tuple[int, bytes]] = [(0, head)] if head else []
        self._pos = 0
        self._spent = len(head)
        self._budget = budget

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        data = self._read(self._pos, len(buffer))
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self._size - self._pos
        data = self._read(self._pos, n)
        self._pos += len(data)
        return data

    def _read(self, pos: int, n: int) -> bytes:
        n = min(n, self._size - pos)
        if n <= 0:
            return b""
        for start, data in self._ranges:
            if start <= pos and pos + n <= start + len(data):
                return data[pos - start : pos - start + n]
        want = min(self._size - pos, max(n, MIN_FETCH))
        if self._spent + want > self._budget:
            raise BudgetExceeded(f"a header needing more than {self._budget} bytes")
        data = self._fetch(pos, pos + want)
        self._spent += len(data)
        self._ranges.append((pos, data))
        return data[:n]
