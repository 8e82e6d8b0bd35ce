"""What reading a damaged compressed stream raises, in one place.

A partly downloaded ``.mrc.gz`` (``1f 8b 08 00`` then garbage) raises ``zlib.error``, which is
neither an ``OSError`` nor a ``ValueError``; a truncated one ``EOFError``; a bad bzip2 stream
``OSError``; an xz stream ``lzma.LZMAError``. Every place that decompresses user files catches
:data:`DECOMPRESSION_ERRORS`, so a damaged file is a finding for that file and never costs the
report on the others (issue 12).
"""

from __future__ import annotations

import lzma
import zlib

DECOMPRESSION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # gzip.BadGzipFile, bz2 "Invalid data stream", and real read errors
    EOFError,  # stream ends before its end-of-stream marker
    ValueError,  # e.g. a negative seek in a decompressing reader
    zlib.error,  # corrupt deflate data: "invalid block type", "invalid code lengths set"
    lzma.LZMAError,
)
