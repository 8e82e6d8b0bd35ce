"""What both HDF5 readers share: bounds, findings and the records a traversal produces.

The records are plain (links, dataset shapes and types, external targets), whichever library
read the bytes.

No h5py here: the pure-Python reader (:mod:`empiar_validate.formats.h5meta`) runs in the main
process, where h5py is never imported, and the libhdf5 one
(:mod:`empiar_validate.formats.h5tree`) in worker processes; both fill the same records so the
layout readers (:mod:`empiar_validate.formats.bdv`) work on either, through :class:`Access`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

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


@dataclass(frozen=True, slots=True)
class ExternalTarget:
    """Where an external link met on a path points (never opened)."""

    path: str  # the link's own path in this file
    file: str
    object: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form for ``record.extra``."""
        return {"path": self.path, "file": self.file, "object": self.object}


LINK_HARD = 0  # h5l.TYPE_HARD; soft and external links are h5l.TYPE_SOFT (1), TYPE_EXTERNAL (64)


class Access(Protocol):
    """The HDF5 operations a layout reader needs, implemented by libhdf5
    (:data:`empiar_validate.formats.h5tree.LIBHDF5`) and by the pure-Python reader
    (:class:`empiar_validate.formats.h5meta.PureHdf5`). Objects are opaque handles; ``locate``
    returns one, an :class:`ExternalTarget`, or ``None`` when the path leads nowhere."""

    def list_links(self, group: Any, budget: Budget) -> tuple[list[Link], bool]: ...

    def locate(self, root: Any, path: bytes) -> Any | None: ...

    def is_group(self, obj: Any) -> bool: ...

    def is_dataset(self, obj: Any) -> bool: ...

    def shape(self, dataset: Any) -> tuple[int, ...] | None: ...

    def dataset_info(self, dataset: Any, shown: str) -> DatasetInfo: ...

    def small_attr(self, obj: Any, name: str) -> object | None: ...


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
