"""BigDataViewer HDF5: Fiji's multi-resolution layout, read from object headers; the companion
XML, which EMPIAR takes as the header of this format, is checked by
:mod:`empiar_validate.formats.bdv_xml`.

Layout (bigdataviewer-core ``bdv.img.hdf5.Util``): ``/sNN/resolutions`` (levels x 3, xyz
factors) and ``/sNN/subdivisions`` per setup, ``/tNNNNN/sNN/L/cells`` per timepoint, setup and
level, cells in zyx order. Setup ids are ``%02d``, timepoints ``%05d``. Before bigdataviewer-core
10.4.7 every setup was ``UnsignedShortType`` stored as HDF5 int16 (Java has no unsigned
types); since then a ``dataType`` string attribute on ``/sNN`` names the type, and its absence
still means the legacy uint16-as-int16. Voxel sizes live only in the XML
(``SpimData/SequenceDescription/ViewSetups/ViewSetup/voxelSize``).

The HDF5 side is read through an :class:`~empiar_validate.formats.h5model.Access`: libhdf5 in
a worker process, or the pure-Python reader of :mod:`empiar_validate.formats.h5meta` in the
main process for the plain files it covers (:mod:`empiar_validate.formats.bdv_fast`); the same
code here turns either into the same record and findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.formats.bdv_xml import B_BROKEN, B_SETUPS_DIFFER, check_companion_xml
from empiar_validate.formats.h5model import (
    H5_ERRORS,
    H_ABSURD,
    MAX_LISTED,
    SHOWN,
    Access,
    Budget,
    DatasetInfo,
    ExternalTarget,
    Link,
    report_external,
    report_unreadable,
)
from empiar_validate.formats.voxel import voxel_type_of_dtype
from empiar_validate.records import LAYOUT_IMAGE, LAYOUT_VOLUME, FileRecord

if TYPE_CHECKING:
    from empiar_validate.formats.base import Source

FORMAT_BDV = "BIG DATA VIEWER HDF5"
HEADER_FORMAT_BDV = "XML"  # EMPIAR pairs BDV HDF5 data with its XML header

SETUP_NAME = re.compile(rb"s(\d{2,})")
TIME_NAME = re.compile(rb"t(\d{5,})")
LEVEL_NAME = re.compile(rb"0|[1-9]\d{0,3}")

# Values of the /sNN dataType attribute (bigdataviewer-core PR #157, same labels as N5).
BDV_DATA_TYPES = frozenset({
    "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32",
    "float64",
})
LEGACY_STORED = "int16"  # no dataType attribute: uint16 stored as int16

B_LEGACY_TYPE = rule(
    "F426", Severity.WARNING, "setup without dataType attribute stores cells that are not int16",
    "Add a `dataType` attribute to `/sNN` naming the cells' type (`uint8`, `float32`...; read "
    "by bigdataviewer-core >= 10.4.7). Re-exporting as 16-bit is an option only for integer "
    "data that fits it: float cells would lose their values.",
)
B_DATA_TYPE = rule(
    "F427", Severity.WARNING, "dataType attribute unknown or disagrees with the stored cells",
    "Set the `dataType` attribute of `/sNN` to the type the cells hold (`int8` ... `float64`, "
    "as in N5).",
)
B_PYRAMID = rule(
    "F428", Severity.WARNING, "resolution pyramid metadata inconsistent",
    "`/sNN/resolutions` and `/sNN/subdivisions` must be levels x 3 and list every level "
    "`/tNNNNN/sNN/L/cells`; re-export the file.",
)


@dataclass(slots=True)
class Setup:
    """One BDV setup as the HDF5 file holds it."""

    id: int
    name: str  # the /sNN group name
    timepoint: int | None = None  # first timepoint holding a view of it
    cells: DatasetInfo | None = None  # level-0 cells of that view
    external: ExternalTarget | None = None  # the view lives in another file
    levels: int = 0
    resolution_shape: tuple[int, ...] | None = None
    subdivision_shape: tuple[int, ...] | None = None
    data_type: str | None = None  # /sNN@dataType

    @property
    def size_xyz(self) -> tuple[int, ...] | None:
        """Level-0 size in BDV's x y z order (cells are zyx)."""
        shape = self.cells.shape if self.cells is not None else None
        if shape is None or len(shape) != 3:
            return None
        return shape[2], shape[1], shape[0]  # Python ints from either HDF5 reader


def looks_like_bdv(acc: Access, root: Any, links: list[Link]) -> bool:
    """True when the root has ``tNNNNN`` groups and an ``sNN`` group with ``resolutions``."""
    if not any(TIME_NAME.fullmatch(link.name) for link in links):
        return False
    setups = [link.name for link in links if SETUP_NAME.fullmatch(link.name)]
    return any(acc.is_dataset(acc.locate(root, name + b"/resolutions")) for name in setups[:8])


@dataclass(slots=True)
class Layout:
    """What the HDF5 file holds of the BDV layout, before any finding is drawn from it."""

    setups: list[Setup]
    timepoints: list[int]
    unreadable: list[tuple[str, str]]


def gather(acc: Access, root: Any, links: list[Link], budget: Budget) -> Layout:
    """Read the setups, the timepoints and each setup's first view; nothing is reported yet,
    so a reader that gives up half-way (:mod:`empiar_validate.formats.h5meta`) leaves no
    trace on the record."""
    setups = _setups(acc, root, links, budget)
    timepoints = sorted(
        {int(m.group(1)) for link in links if (m := TIME_NAME.fullmatch(link.name))
         and link.name == f"t{int(m.group(1)):05d}".encode()}
    )
    unreadable: list[tuple[str, str]] = []
    for setup in setups:
        _find_view(acc, root, setup, timepoints, budget, unreadable)
    return Layout(setups, timepoints, unreadable)


def fill(source: Source, record: FileRecord, layout: Layout) -> None:
    """The record and findings from what :func:`gather` read, and the companion XML."""
    record.format = FORMAT_BDV
    record.header_format = HEADER_FORMAT_BDV
    setups, unreadable = layout.setups, layout.unreadable
    record.extra["setups"] = len(setups)
    record.extra["timepoints"] = len(layout.timepoints)
    _check_structure(record, setups)
    first = next((s for s in setups if s.size_xyz is not None), None)
    if first is not None:
        _fill_from_setup(record, first, setups)
    externals = [s.external.to_dict() for s in setups if s.external is not None]
    report_external(
        record, externals,
        "; the image data of this BigDataViewer file is in those files" if externals else "",
    )
    report_unreadable(record, unreadable)
    record.extra["bdv_setups"] = [_setup_dict(s) for s in setups[:MAX_LISTED]]
    _check_types(record, setups)
    if first is None and not externals and setups:
        record.problems.append(Finding.of(
            B_BROKEN, "no setup has level-0 cells (/tNNNNN/sNN/0/cells)", file=record.path,
        ))
    check_companion_xml(source.path, record, setups, first)


def _setups(acc: Access, root: Any, links: list[Link], budget: Budget) -> list[Setup]:
    """Setups named ``sNN`` at the root, with the shapes of their pyramid metadata."""
    out = []
    for link in links:
        m = SETUP_NAME.fullmatch(link.name)
        if not m or link.name != f"s{int(m.group(1)):02d}".encode():
            continue
        if budget.remaining <= 0:
            budget.exhausted = True
            break
        budget.remaining -= 1
        group = acc.locate(root, link.name)
        if not acc.is_group(group):
            continue
        setup = Setup(int(m.group(1)), link.name.decode())
        setup.resolution_shape = _shape(acc, acc.locate(group, b"resolutions"))
        setup.subdivision_shape = _shape(acc, acc.locate(group, b"subdivisions"))
        attr = acc.small_attr(group, "dataType")
        setup.data_type = str(attr) if attr is not None else None
        out.append(setup)
    return sorted(out, key=lambda s: s.id)


def _shape(acc: Access, obj: Any) -> tuple[int, ...] | None:
    """The shape of a dataset; ``None`` for anything else and for scalar or null datasets."""
    if not acc.is_dataset(obj):
        return None
    shape = acc.shape(obj)
    return tuple(shape) if shape else None


def _find_view(
    acc: Access, root: Any, setup: Setup, timepoints: list[int], budget: Budget,
    unreadable: list[tuple[str, str]],
) -> None:
    """The first timepoint holding a view of ``setup``: its level-0 cells and level count."""
    for t in timepoints:
        if budget.remaining <= 0:
            budget.exhausted = True
            return
        budget.remaining -= 1
        path = f"t{t:05d}/{setup.name}"
        view = acc.locate(root, path.encode())
        if view is None:
            continue
        setup.timepoint = t
        if isinstance(view, ExternalTarget):
            setup.external = view
            return
        if not acc.is_group(view):
            unreadable.append((f"/{path}", "not a group"))
            return
        cells = acc.locate(view, b"0/cells")
        if isinstance(cells, ExternalTarget):
            setup.external = cells
            return
        level0 = acc.is_dataset(cells)
        if level0:
            try:
                setup.cells = acc.dataset_info(cells, f"/{path}/0/cells")
            except H5_ERRORS as exc:
                unreadable.append((f"/{path}/0/cells", str(exc)))
        setup.levels = _count_levels(acc, view, budget, level0)
        return


def _count_levels(acc: Access, view: Any, budget: Budget, level0: bool) -> int:
    """Consecutive levels 0, 1, ... that hold ``cells`` under one view group (``level0``: the
    caller found ``0/cells`` already)."""
    try:
        links, _ = acc.list_links(view, budget)
    except H5_ERRORS:
        return 0
    present = {int(link.name) for link in links if LEVEL_NAME.fullmatch(link.name)}
    levels = 0
    while levels in present and (
        (levels == 0 and level0) or acc.is_dataset(acc.locate(view, f"{levels}/cells".encode()))
    ):
        levels += 1
    return levels


def _check_structure(record: FileRecord, setups: list[Setup]) -> None:
    """Pyramid metadata shapes against the levels present; 3-D level-0 cells."""
    pyramid: list[str] = []
    broken: list[str] = []
    absurd: list[str] = []
    for s in setups:
        res, sub = s.resolution_shape, s.subdivision_shape
        if res is None or len(res) != 2 or res[1] != 3:
            pyramid.append(f"/{s.name}/resolutions is {list(res or ())}, not levels x 3")
        elif s.cells is not None and s.levels and res[0] != s.levels:
            pyramid.append(f"/{s.name}/resolutions lists {res[0]} levels, the data has {s.levels}")
        if sub is None:
            pyramid.append(f"/{s.name}/subdivisions is missing")
        elif res is not None and sub != res:
            pyramid.append(f"/{s.name}/subdivisions is {list(sub)}, resolutions {list(res)}")
        if s.timepoint is not None and s.external is None and s.cells is None:
            broken.append(f"/t{s.timepoint:05d}/{s.name}/0/cells is missing")
        elif s.cells is not None and s.cells.implausible:
            absurd.append(f"{s.cells.path} {list(s.cells.shape or ())}")
            s.cells = None
        elif s.cells is not None and (s.cells.shape is None or len(s.cells.shape) != 3):
            broken.append(f"{s.cells.path} is {list(s.cells.shape or ())}, not 3-D")
    for r, items in ((B_PYRAMID, pyramid), (B_BROKEN, broken)):
        if items:
            more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
            record.problems.append(
                Finding.of(r, "; ".join(items[:SHOWN]) + more, file=record.path)
            )
    if absurd:
        record.problems.append(Finding.of(
            H_ABSURD, f"implausible dataset shape: {', '.join(absurd[:SHOWN])}",
            file=record.path,
        ))


def _fill_from_setup(record: FileRecord, first: Setup, setups: list[Setup]) -> None:
    """Width/height/depth and voxel type from the first setup's level-0 cells."""
    x, y, z = first.size_xyz or (0, 0, 0)
    record.width, record.height, record.depth = x, y, z
    record.layout = LAYOUT_VOLUME if z > 1 else LAYOUT_IMAGE
    record.voxel_type = _voxel_type(first)
    record.extra["levels"] = first.levels
    record.extra["stored_dtype"] = first.cells.dtype if first.cells else None
    record.extra["bdv_data_type"] = first.data_type  # None: legacy uint16 stored as int16
    kinds = {(s.size_xyz, _voxel_type(s)) for s in setups if s.size_xyz is not None}
    if len(kinds) > 1:
        record.problems.append(Finding.of(
            B_SETUPS_DIFFER,
            f"{len(kinds)} different setup shapes/types; the record shows setup {first.id}",
            file=record.path,
        ))


def _voxel_type(setup: Setup) -> str | None:
    """What BigDataViewer shows: the dataType attribute, else legacy uint16-as-int16."""
    if setup.data_type in BDV_DATA_TYPES:
        return voxel_type_of_dtype(setup.data_type)
    cells = setup.cells
    if cells is None or not cells.kind:
        return None
    if setup.data_type is None and cells.dtype == LEGACY_STORED:
        return voxel_type_of_dtype("uint16")
    return voxel_type_of_dtype(cells.dtype)


def _check_types(record: FileRecord, setups: list[Setup]) -> None:
    """F426/F427: how BigDataViewer will interpret each setup's cells."""
    legacy: list[str] = []
    disagree: list[str] = []
    for s in setups:
        stored = s.cells.dtype if s.cells is not None else None
        if s.data_type is None:
            if stored is not None and stored != LEGACY_STORED:
                legacy.append(f"/{s.name} ({stored})")
        elif s.data_type not in BDV_DATA_TYPES:
            disagree.append(f"/{s.name} dataType {s.data_type!r} is not a BDV type")
        elif stored is not None and stored != s.data_type:
            disagree.append(f"/{s.name} dataType {s.data_type} but cells are {stored}")
    if legacy:
        record.problems.append(Finding.of(
            B_LEGACY_TYPE,
            f"no dataType attribute on {', '.join(legacy[:SHOWN])}: BigDataViewer reads the "
            "cells as 16-bit unsigned",
            file=record.path,
        ))
    if disagree:
        record.problems.append(
            Finding.of(B_DATA_TYPE, "; ".join(disagree[:SHOWN]), file=record.path)
        )


def _setup_dict(s: Setup) -> dict[str, object]:
    """Per-setup summary for ``extra["bdv_setups"]``; absent facts are left out, not null."""
    out: dict[str, object] = {"id": s.id, "levels": s.levels}
    if s.size_xyz is not None:
        out["size_xyz"] = list(s.size_xyz)
    if s.cells is not None:
        out["stored_dtype"] = s.cells.dtype
    if s.data_type is not None:
        out["data_type"] = s.data_type
    if s.timepoint is not None:
        out["first_timepoint"] = s.timepoint
    return out
