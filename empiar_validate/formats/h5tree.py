"""HDF5 read by libhdf5 through h5py's low-level API, from object headers alone.

Bounded traversal, safe path lookup, shapes and small attributes; :data:`LIBHDF5` offers them
as an :class:`~empiar_validate.formats.h5model.Access`.

h5py opens the file read-only and only object metadata is touched (link names, shapes, dtypes,
a few small attributes); no dataset is ever read, so a 100 GB file costs the same as a small one.
Every traversal is bounded (:data:`MAX_OBJECTS` links in all, :data:`MAX_DEPTH` group levels)
because a hostile file can hold millions of groups or hard-link a group into itself, and external
links are never followed because they can point anywhere on the reader's machine.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterator
from typing import Any

import h5py
from h5py import h5, h5a, h5d, h5f, h5g, h5l, h5o, h5p

from empiar_validate.findings import Finding
from empiar_validate.formats import h5model
from empiar_validate.formats.h5model import (
    H5_ERRORS,
    H_TRUNCATED,
    H_UNOPENABLE,
    MAX_ATTR_BYTES,
    NUMERIC_KINDS,
    Budget,
    DatasetInfo,
    ExternalTarget,
    Link,
    Listing,
    show,
)
from empiar_validate.paths import display_path
from empiar_validate.records import FileRecord

_FAPL = threading.local()


def _read_only_fapl() -> Any:
    """The file access property list ``h5py.File(path, "r", locking=False)`` builds per file
    (libver earliest..latest, file locking off), built once per thread and reused."""
    fapl = getattr(_FAPL, "plist", None)
    if fapl is None:
        fapl = h5p.create(h5p.FILE_ACCESS)
        fapl.set_libver_bounds(h5f.LIBVER_EARLIEST, h5f.LIBVER_LATEST)
        fapl.set_file_locking(False, ignore_when_disabled=False)
        _FAPL.plist = fapl
    return fapl


@contextlib.contextmanager
def opened_hdf5(path: str, record: FileRecord) -> Iterator[Any]:
    """The root group (a ``FileID``) of ``path`` opened read-only, closed on exit with every
    object still open in it; ``None`` (and F400/F401 on ``record``) when HDF5 cannot open it.

    Low-level ``h5f.open`` with a cached property list does what ``h5py.File(path, "r",
    locking=False)`` does for reading, without building the list and the high-level object per
    file (≈ 30 µs of the BigDataViewer reader). File locking is off: a read-only check must
    not fail (or block a writer) because another process has the file open, and locks do not
    work on many network file systems.
    """
    try:
        fid = h5f.open(os.fsencode(path), h5f.ACC_RDONLY, fapl=_read_only_fapl())
    except H5_ERRORS as exc:
        _report_unopenable(record, exc)
        yield None
        return
    try:
        yield fid
    finally:
        if fid.valid:  # as h5py.File.close: objects in the file first, then the file
            fid._close_open_objects(h5f.OBJ_LOCAL | ~h5f.OBJ_FILE)
            fid._close_open_objects(h5f.OBJ_LOCAL | h5f.OBJ_FILE)
            fid.close()


def _report_unopenable(record: FileRecord, exc: BaseException) -> None:
    """F401 for a truncated file, F400 for anything else HDF5 refuses."""
    text = h5_message(exc)
    match = re.search(r"truncated file: eof = (\d+).*?stored_eof = (\d+)", text)
    if match:
        record.problems.append(Finding.of(
            H_TRUNCATED,
            f"file is truncated: {match.group(1)} bytes on disk, the superblock says "
            f"{match.group(2)}",
            file=record.path,
        ))
    else:
        record.problems.append(Finding.of(
            H_UNOPENABLE, f"HDF5 cannot open the file: {text}", file=record.path,
        ))


def h5_message(exc: BaseException) -> str:
    """The useful part of an h5py error, without the file name HDF5 sometimes embeds."""
    text = str(exc) or type(exc).__name__
    text = re.sub(r"\bname = '[^']*',\s*", "", text)
    text = re.sub(r"^Unable to (synchronously )?open file \((.*)\)$", r"\2", text)
    return text.strip()


def list_links(gid: Any, budget: Budget) -> tuple[list[Link], bool]:
    """Links of group ``gid`` sorted by name, at most ``budget.remaining``; True when complete.

    HDF5 iterates by callback, and the callback stops it, so a group with a million members
    costs no more than the budget (``list(group)`` would build all million names first). The
    iteration is in storage order: asking HDF5 for name order makes it build and sort a table
    of every link of a large ("dense") group before the first callback (0.7 s for 200,000).
    Storage order is fixed for a given file, so a cut listing is still the same on every run.
    """
    out: list[Link] = []

    def visit(name: bytes, info: Any) -> bool | None:
        if len(out) >= budget.remaining:
            return True  # stop iterating
        out.append(Link(name, info.type))
        return None

    stopped, _ = gid.links.iterate(visit, info=True, order=h5.ITER_NATIVE)
    budget.remaining -= len(out)
    if stopped:
        budget.exhausted = True
    out.sort(key=lambda link: link.name)
    return out, not stopped


def walk(root: Any, budget: Budget, root_links: list[Link]) -> Listing:
    """Depth-first listing of every dataset and link, bounded by ``budget`` and :data:`MAX_DEPTH`.

    Only the chain of groups from the root to the current one is held open. Hard links can make
    a group its own descendant, so each group is entered once (h5py hashes objects by file and
    object number). Soft links are recorded, not resolved; external links are recorded and
    never opened.
    """
    listing = Listing()
    seen = {hash(root)}
    stack: list[tuple[Any, bytes, Iterator[Link]]] = [(root, b"", iter(root_links))]
    while stack:
        gid, path, links = stack[-1]
        link = next(links, None)
        if link is None:
            stack.pop()
            continue
        child = path + b"/" + link.name
        group = _visit_link(gid, link, child, listing, seen)
        if group is None:
            continue
        if len(stack) >= h5model.MAX_DEPTH:  # read at call time: tests lower it
            listing.too_deep = True
            continue
        try:
            child_links, _ = list_links(group, budget)
        except H5_ERRORS as exc:
            listing.unreadable.append((show(child), h5_message(exc)))
            continue
        stack.append((group, child, iter(child_links)))
    listing.datasets.sort(key=lambda d: d.path)
    return listing


def _visit_link(gid: Any, link: Link, child: bytes, listing: Listing, seen: set[int]) -> Any:
    """Record one link; returns the child group's id when it is a group not entered yet."""
    try:
        if link.kind == h5l.TYPE_HARD:
            obj = h5o.open(gid, link.name)
            if isinstance(obj, h5d.DatasetID):
                listing.datasets.append(dataset_info(obj, show(child)))
            elif isinstance(obj, h5g.GroupID):
                key = hash(obj)
                if key not in seen:
                    seen.add(key)
                    return obj
            return None  # committed datatypes carry no data
        if link.kind == h5l.TYPE_SOFT:
            target = gid.links.get_val(link.name)
            listing.soft_links.append({"path": show(child), "target": display_path(target)})
        elif link.kind == h5l.TYPE_EXTERNAL:
            filename, objpath = gid.links.get_val(link.name)
            listing.external_links.append({
                "path": show(child), "file": display_path(filename),
                "object": display_path(objpath),
            })
        else:
            listing.unreadable.append(
                (show(child), f"user-defined link type {link.kind} not followed")
            )
    except H5_ERRORS as exc:
        listing.unreadable.append((show(child), h5_message(exc)))
    return None


def dataset_info(did: Any, shown: str) -> DatasetInfo:
    """Shape and dtype of an open dataset; types without a numpy equivalent are named, not
    raised (HDF5 bitfields, some references)."""
    shape = did.shape
    try:
        dt = did.dtype
    except H5_ERRORS:
        return DatasetInfo(shown, shape, "unsupported HDF5 type", "", 0)
    return DatasetInfo(shown, shape, dtype_name(dt), dt.kind, dt.itemsize)


def dtype_name(dt: Any) -> str:
    """``uint16``, ``float32``... for numbers; a short description for everything else."""
    if dt.kind in NUMERIC_KINDS:
        return str(dt.name)
    if dt.names:
        return "compound"
    if dt.kind in "SUO":
        return "string" if dt.kind != "O" or dt.metadata else "object"
    return f"{dt.kind}{dt.itemsize}"


def small_attr(oid: Any, name: str) -> object | None:
    """Attribute ``name`` of object ``oid`` if present and at most :data:`MAX_ATTR_BYTES` bytes."""
    key = name.encode()
    try:
        if not h5a.exists(oid, key):
            return None
        aid = h5a.open(oid, key)
        if aid.get_storage_size() > MAX_ATTR_BYTES:
            return None
        value = h5py.AttributeManager(_wrap(oid))[name]
    except H5_ERRORS:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if hasattr(value, "shape") and value.shape == (1,):
        return value[0].item() if hasattr(value[0], "item") else value[0]
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        return value.item()
    return value


def _wrap(oid: Any) -> Any:
    """High-level h5py object for a low-level id (h5py's attribute reader needs one)."""
    if isinstance(oid, h5d.DatasetID):
        return h5py.Dataset(oid)
    return h5py.Group(oid)


MAX_SOFT_HOPS = 8  # soft links resolved on one path; more is a loop or a maze


def locate(root: Any, path: bytes) -> Any | None:
    """The object at ``path``, or an :class:`ExternalTarget`, or ``None`` when absent.

    Every link on the way is checked before it is taken: hard links are followed, soft links are
    resolved here (at most :data:`MAX_SOFT_HOPS`, so a soft-link loop ends), and an external
    link stops the walk and is returned, because letting HDF5 resolve it would open a file
    anywhere on this machine.
    """
    if not isinstance(root, h5g.GroupID):
        return None
    parts = [p for p in path.split(b"/") if p and p != b"."]
    if not parts:
        return root
    # The common case in one pass: each link on the way is checked with H5Lget_info on the
    # growing prefix (HDF5 follows only the hard links already checked) and the object is
    # opened once, at the end, instead of opening every group on the way. A soft, external or
    # user-defined link anywhere takes the link-by-link walk.
    prefix = b""
    try:
        for part in parts:
            prefix = prefix + b"/" + part if prefix else part
            if root.links.get_info(prefix).type != h5l.TYPE_HARD:  # KeyError when absent
                return _locate_link_by_link(root, parts)
        return h5o.open(root, prefix)
    except H5_ERRORS:
        return None


def _locate_link_by_link(root: Any, parts: list[bytes]) -> Any | None:
    """:func:`locate` one link at a time, resolving soft links and stopping at external ones."""
    trail: list[bytes] = []
    current = root
    hops = 0
    while parts:
        part = parts.pop(0)
        try:
            if not isinstance(current, h5g.GroupID):
                return None
            kind = current.links.get_info(part).type  # KeyError when absent
            if kind == h5l.TYPE_HARD:
                current = h5o.open(current, part)
                trail.append(part)
            elif kind == h5l.TYPE_SOFT:
                hops += 1
                if hops > MAX_SOFT_HOPS:
                    return None
                target = current.links.get_val(part)
                if target.startswith(b"/"):
                    current, trail = root, []
                parts = [p for p in target.split(b"/") if p and p != b"."] + parts
            elif kind == h5l.TYPE_EXTERNAL:
                filename, objpath = current.links.get_val(part)
                return ExternalTarget(
                    show(b"/" + b"/".join([*trail, part])),
                    display_path(filename), display_path(objpath),
                )
            else:
                return None
        except H5_ERRORS:
            return None
    return current


def open_group(root: Any, path: bytes) -> Any | None:
    """The group at ``path`` (see :func:`locate`), or ``None``."""
    obj = locate(root, path)
    return obj if isinstance(obj, h5g.GroupID) else None


def open_dataset(root: Any, path: bytes) -> Any | None:
    """The dataset at ``path`` (see :func:`locate`), or ``None``."""
    obj = locate(root, path)
    return obj if isinstance(obj, h5d.DatasetID) else None


class LibHdf5:
    """:class:`~empiar_validate.formats.h5model.Access` through libhdf5: handles are h5py's
    low-level ids; damaged objects raise :data:`H5_ERRORS`, which the layout readers report."""

    list_links = staticmethod(list_links)
    locate = staticmethod(locate)
    dataset_info = staticmethod(dataset_info)
    small_attr = staticmethod(small_attr)

    @staticmethod
    def is_group(obj: Any) -> bool:
        return isinstance(obj, h5g.GroupID)

    @staticmethod
    def is_dataset(obj: Any) -> bool:
        return isinstance(obj, h5d.DatasetID)

    @staticmethod
    def shape(dataset: Any) -> tuple[int, ...] | None:
        return dataset.shape  # type: ignore[no-any-return]


LIBHDF5 = LibHdf5()
