"""A remote dataset read into the same records a directory on disk gives.

``scan``, ``check`` and ``inspect`` call :func:`read_remote` where they would walk a directory:
records carry paths relative to the URL, and findings name objects by their full URL (with any
user:password masked), so the XML and the grouping are exactly those of the same files on disk.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from empiar_validate.records import FileRecord
from empiar_validate.remote import join
from empiar_validate.remote.objects import (
    RemoteUnreachable,
    connect,
    list_objects,
    read_objects,
    redact,
)
from empiar_validate.remote.ranged import Transfer

__all__ = ["RemoteUnreachable", "read_remote", "shown_url"]


def shown_url(url: str) -> str:
    """``url`` as reports print it: no credentials, no trailing slash."""
    return redact(url).rstrip("/") or url


def read_remote(
    url: str, *, jobs: int | None = None, quiet: bool = False,
    show: Callable[[str], str] | None = None, transfer: Transfer | None = None,
) -> list[FileRecord]:
    """List ``url`` and read every object's header. Records keep paths relative to ``url``;
    their problems name objects as ``show`` prints them (by default the object's URL).
    Raises :class:`RemoteUnreachable` when the listing fails."""
    from empiar_validate.progress import progress

    base = shown_url(url)
    show = show or (lambda rel: join(base, rel))
    fs, root = connect(url)
    objects = list_objects(fs, root)
    with progress("reading remote headers", len(objects), quiet=quiet) as tick:
        records = read_objects(fs, objects, jobs=jobs, transfer=transfer, tick=tick)
    for rec in records:
        rec.problems[:] = [dataclasses.replace(f, file=show(f.file)) if f.file is not None
                           else f for f in rec.problems]
    return records
