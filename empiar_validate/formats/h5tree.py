"""HDF5 helpers every HDF5 layout uses: bounded traversal, safe path lookup, shapes and
small attributes, read from object headers alone.

h5py opens the file read-only and only object metadata is touched (link names, shapes, dtypes,
a few small attributes); no dataset is ever read, so a 100 GB file costs the same as a small one.
Every traversal is bounded (:data:`MAX_OBJECTS` links in all, :data:`MAX_DEPTH` group levels)
because a hostile file can hold millions of groups or hard-link a group into itself, and external
links are never followed because they can point anywhere on the reader's machine.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import h5py
from h5py import h5, h5a, h5d, h5f, h5g, h5l, h5o, h5p

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.formats.voxel import voxel_type_of_dtype
from empiar_validate.paths import display_path
from empiar_validate.records import LAYOUT_IMAGE, LAYOUT_STACK, FileRecord

MAX_OBJECTS = 20_000  # links looked at per file (all kinds); more -> partial listing + F403
MAX_DEPTH = 32  # group nesting followed; deeper -> partial listing + F403
MAX_LISTED = 200  # entries kept in each list of record.extra (the totals are always given)
MAX_ATTR_BYTES = 65_536  # attributes larger than this are never read
MAX_DIM = 2**31 - 1  # no EM image has an axis this long (MRC itself stores int32 sizes)
MAX_LOGICAL_BYTES = 2**50  # 1 PiB: a dataset claiming more is not real image data
SHOWN = 5  # items named in one finding message

# Exceptions h5py raises for damaged or unsupported objects (HDF5 errors map onto these).
H5_ERRORS = (OSError, KeyError, RuntimeError, ValueError, TypeError)

NUMERIC_KINDS = "biufc"

H_UNOPENABLE = rule(
    "F400", Severity.ERROR, "HDF5 file cannot be opened",
    "The file has an HDF5 signature but HDF5 cannot read it; replace it with a valid copy "
    "(`h5dump -H FILE` shows what HDF5 makes of it).",
)
H_TRUNCATED = rule(
    "F401", Severity.ERROR, "HDF5 file is truncated",
    "The file is shorter than its superblock says (an interrupted copy); transfer it again.",
)
H_UNREADABLE = rule(
    "F404", Severity.ERROR, "HDF5 object cannot be read",
    "Part of the file is damaged; check it with `h5dump -H` and replace it with a valid copy.",
)
H_EXTERNAL = rule(
    "F405", Severity.WARNING, "external links not followed",
    "Data behind an external link lives in another file; copy it into this file "
    "(`h5repack`/`h5copy`) or deposit the linked files alongside. Links are never followed.",
)
H_NO_IMAGE = rule(
    "F407", Severity.WARNING, "no image dataset in HDF5 file",
    "The file holds no numeric dataset of two or more dimensions; deposit it as supporting "
    "data, not as an image set.",
)
H_ABSURD = rule(
    "F408", Severity.ERROR, "dataset shape is implausible",
    f"An axis longer than {MAX_DIM} or more than 1 PiB of data cannot be real image data; "
    "the file is damaged or hostile.",
)


@dataclass(frozen=True, slots=True)
class Link:
    """One link in a group, as listed without following it."""

    name: bytes
    kind: int  # h5l.TYPE_HARD / TYPE_SOFT / TYPE_EXTERNAL / user-defined


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """Shape and element type of one dataset; the data itself is never read."""

    path: str
    shape: tuple[int, ...] | None  # None for a null dataspace
    dtype: str  # numpy name, or a description for non-numeric types
    kind: str  # numpy kind letter, "" when h5py has no numpy equivalent
    itemsize: int

    @property
    def size(self) -> int:
        """Number of elements (a Python int: no overflow for absurd shapes)."""
        return math.prod(self.shape) if self.shape else 0

    @property
    def implausible(self) -> bool:
        """True for shapes no real image has (hostile or damaged headers)."""
        if not self.shape:
            return False
        return max(self.shape) > MAX_DIM or self.size * max(self.itemsize, 1) > MAX_LOGICAL_BYTES

    @property
    def is_image(self) -> bool:
        """A numeric dataset with at least two non-empty axes and a plausible shape."""
        return (
            self.kind in NUMERIC_KINDS and self.shape is not None and len(self.shape) >= 2
            and self.size > 0 and not self.implausible
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for ``record.extra``."""
        shape = list(self.shape) if self.shape is not None else None
        return {"path": self.path, "shape": shape, "dtype": self.dtype}


@dataclass(slots=True)
class Budget:
    """Links left to look at in this file; shared by every traversal of one read."""

    remaining: int = field(default_factory=lambda: MAX_OBJECTS)
    exhausted: bool = False


@dataclass(slots=True)
class Listing:
    """What a bounded traversal found."""

    datasets: list[DatasetInfo] = field(default_factory=list)
    soft_links: list[dict[str, str]] = field(default_factory=list)
    external_links: list[dict[str, str]] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    too_deep: bool = False


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
        if len(stack) >= MAX_DEPTH:
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


@dataclass(frozen=True, slots=True)
class ExternalTarget:
    """Where an external link met on a path points (never opened)."""

    path: str  # the link's own path in this file
    file: str
    object: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form for ``record.extra``."""
        return {"path": self.path, "file": self.file, "object": self.object}


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


def show(path: bytes) -> str:
    """Printable HDF5 path (link names are bytes and may be anything but ``/``)."""
    return display_path(path or b"/")


def layout_for(ndim: int, depth: int) -> str:
    """Image for one 2-D plane; a stack of planes for 3-D or more (see docs/formats/hdf5.md)."""
    if ndim <= 2 or depth == 1:
        return LAYOUT_IMAGE
    return LAYOUT_STACK


def fill_dimensions(record: FileRecord, info: DatasetInfo) -> None:
    """Width/height from the last two axes (C order: x is last), depth from all the others."""
    shape = info.shape or ()
    record.width = int(shape[-1])
    record.height = int(shape[-2])
    record.depth = int(math.prod(shape[:-2])) if len(shape) > 2 else 1
    record.voxel_type = voxel_type_of_dtype(info.dtype) if info.kind in NUMERIC_KINDS else None


def report_external(record: FileRecord, links: list[dict[str, str]], note: str) -> None:
    """External links go in ``extra`` and one F405 finding naming the first few targets."""
    if not links:
        return
    links = sorted(links, key=lambda x: x["path"])
    record.extra["external_links"] = links[:MAX_LISTED]
    files = sorted({x["file"] for x in links})
    named = ", ".join(files[:SHOWN]) + (f" and {len(files) - SHOWN} more" if len(files) > SHOWN
                                         else "")
    record.problems.append(Finding.of(
        H_EXTERNAL, f"{len(links)} external link(s) to {named} not followed{note}",
        file=record.path,
    ))


def report_unreadable(record: FileRecord, unreadable: list[tuple[str, str]]) -> None:
    """One F404 finding for all objects that could not be read (first few named)."""
    if not unreadable:
        return
    shown = "; ".join(f"{p}: {m}" for p, m in sorted(unreadable)[:SHOWN])
    more = f" and {len(unreadable) - SHOWN} more" if len(unreadable) > SHOWN else ""
    record.problems.append(Finding.of(
        H_UNREADABLE, f"{len(unreadable)} object(s) cannot be read: {shown}{more}",
        file=record.path,
    ))
