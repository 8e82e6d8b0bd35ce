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

__all__ = ["RemoteUnreachable", "fetch_small", "read_remote", "shown_url"]


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


def fetch_small(
    url: str, rels: list[str], dest: str, *, max_bytes: int, jobs: int | None = None,
) -> list[str]:
    """Copy the small text companions ``rels`` (``.mdoc``, ``.rawtlt``, ``.star``: a few KiB,
    read whole as on disk) from ``url`` into ``dest`` under the same relative paths, so the
    scan's read stage parses them as it would locally. Objects larger than ``max_bytes`` or
    unreadable are skipped (the parser then sees no file, as for an unreadable one on disk).
    Returns the relative paths copied."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    from empiar_validate.remote.objects import DEFAULT_JOBS

    fs, root = connect(url)
    base = root.rstrip("/")

    def one(rel: str) -> str | None:
        path = f"{base}/{rel}" if rel else base
        try:
            if fs.size(path) > max_bytes:
                return None
            data = fs.cat_file(path)
        except Exception:  # vanished, refused...: the companion is simply not there
            return None
        target = os.path.join(dest, *rel.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as fh:
            fh.write(data)
        return rel

    if not rels:
        return []
    with ThreadPoolExecutor(max_workers=min(jobs or DEFAULT_JOBS, len(rels))) as pool:
        return [r for r in pool.map(one, rels) if r is not None]
