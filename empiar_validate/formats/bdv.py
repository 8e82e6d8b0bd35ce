"""BigDataViewer HDF5: Fiji's multi-resolution layout, read from object headers and checked
against its companion XML, which EMPIAR takes as the header of this format.

Layout (bigdataviewer-core ``bdv.img.hdf5.Util``): ``/sNN/resolutions`` (levels x 3, xyz
factors) and ``/sNN/subdivisions`` per setup, ``/tNNNNN/sNN/L/cells`` per timepoint, setup and
level, cells in zyx order. Setup ids are ``%02d``, timepoints ``%05d``. Before bigdataviewer-core
10.4.7 every setup was ``UnsignedShortType`` stored as HDF5 int16 (Java has no unsigned
types); since then a ``dataType`` string attribute on ``/sNN`` names the type, and its absence
still means the legacy uint16-as-int16. Voxel sizes live only in the XML
(``SpimData/SequenceDescription/ViewSetups/ViewSetup/voxelSize``).
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from h5py import h5d, h5g

from empiar_validate import xmlsafe
from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.formats.hdf5 import (
    H5_ERRORS,
    H_ABSURD,
    MAX_DIM,
    MAX_LISTED,
    SHOWN,
    Budget,
    DatasetInfo,
    ExternalTarget,
    Link,
    dataset_info,
    list_links,
    locate,
    open_dataset,
    report_external,
    report_unreadable,
    small_attr,
)
from empiar_validate.formats.voxel import voxel_type_of_dtype
from empiar_validate.paths import display_path
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

# Voxel size unit (lower-cased) -> Ångström per unit. "pixel" and anything unknown -> None.
UNIT_TO_ANGSTROM: dict[str, float] = {
    **dict.fromkeys(("å", "a", "ang", "angstrom", "angstroms", "ångström"), 1.0),
    **dict.fromkeys(("nm", "nanometer", "nanometers", "nanometre", "nanometres"), 10.0),
    **dict.fromkeys(
        ("µm", "μm", "um", "micron", "microns", "micrometer", "micrometers", "micrometre",
         "micrometres"), 1e4,
    ),
    **dict.fromkeys(("mm", "millimeter", "millimeters", "millimetre", "millimetres"), 1e7),
    **dict.fromkeys(("m", "meter", "meters", "metre", "metres"), 1e10),
}

B_NO_XML = rule(
    "F420", Severity.WARNING, "BigDataViewer HDF5 without its companion XML: voxel size unknown",
    "Keep the .xml that BigDataViewer/BigStitcher wrote next to the .h5, with the same base "
    "name; EMPIAR takes it as the header of this format.",
)
B_BAD_XML = rule(
    "F421", Severity.ERROR, "companion XML is not a BigDataViewer XML",
    "Re-export the XML from BigDataViewer/BigStitcher: a `<SpimData>` document with a "
    "`SequenceDescription/ImageLoader` and numbered `ViewSetup` elements.",
)
B_WRONG_FILE = rule(
    "F422", Severity.WARNING, "companion XML points at a different data file",
    "Fix `<ImageLoader format=\"bdv.hdf5\"><hdf5 type=\"relative\">NAME.h5</hdf5>` in the "
    "XML so it names this file (or rename the files to match).",
)
B_SIZE_MISMATCH = rule(
    "F423", Severity.ERROR, "XML ViewSetup size differs from the HDF5 data",
    "The XML describes other data than the HDF5 file holds; re-export both together.",
)
B_NO_UNIT = rule(
    "F424", Severity.WARNING, "voxel size unknown: no physical unit in the companion XML",
    "Set `<voxelSize><unit>nm</unit><size>X Y Z</size></voxelSize>` (nm, µm, mm or Å) for "
    "each ViewSetup in the XML.",
)
B_BAD_VOXEL = rule(
    "F425", Severity.ERROR, "invalid voxel size in the companion XML",
    "`<voxelSize><size>` must hold three positive numbers (x y z).",
)
B_LEGACY_TYPE = rule(
    "F426", Severity.WARNING, "setup without dataType attribute stores cells that are not int16",
    "BigDataViewer reads such setups as 16-bit unsigned; add a `dataType` attribute to `/sNN` "
    "(bigdataviewer-core >= 10.4.7) or store the cells as int16.",
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
B_BROKEN = rule(
    "F429", Severity.ERROR, "BigDataViewer structure broken",
    "Every setup needs 3-D `/tNNNNN/sNN/0/cells` and every XML ViewSetup a `/sNN` group; "
    "re-export the file.",
)
B_UNDESCRIBED = rule(
    "F430", Severity.WARNING, "HDF5 setup not described in the companion XML",
    "BigDataViewer shows only the ViewSetups the XML lists; add the missing ones or remove the "
    "unused data.",
)
B_SETUPS_DIFFER = rule(
    "F431", Severity.INFO, "setups differ in shape, type or voxel size",
    "The record shows the first setup; deposit setups of different kinds as separate image "
    "sets if EMPIAR should describe each.",
)
B_ABSOLUTE = rule(
    "F432", Severity.WARNING, "companion XML names its data by an absolute path",
    "Use `type=\"relative\"` paths in `<BasePath>` and `<hdf5>`; absolute paths break once the "
    "data is deposited elsewhere.",
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
        if self.cells is None or self.cells.shape is None or len(self.cells.shape) != 3:
            return None
        return tuple(int(n) for n in reversed(self.cells.shape))


@dataclass(slots=True)
class XmlSetup:
    """One ``<ViewSetup>`` of the companion XML."""

    id: int
    line: int | None
    size: tuple[int, ...] | None
    size_text: str | None
    size_line: int | None
    unit: str | None
    voxel: tuple[float, ...] | None
    voxel_text: str | None
    voxel_line: int | None


def looks_like_bdv(root: Any, links: list[Link]) -> bool:
    """True when the root has ``tNNNNN`` groups and an ``sNN`` group with ``resolutions``."""
    if not any(TIME_NAME.fullmatch(link.name) for link in links):
        return False
    setups = [link.name for link in links if SETUP_NAME.fullmatch(link.name)]
    return any(open_dataset(root, name + b"/resolutions") is not None for name in setups[:8])


def describe(
    source: Source, record: FileRecord, root: Any, links: list[Link], budget: Budget
) -> None:
    """Fill ``record`` from the BDV layout and the companion XML."""
    record.format = FORMAT_BDV
    record.header_format = HEADER_FORMAT_BDV
    setups = _setups(root, links, budget)
    timepoints = sorted(
        {int(m.group(1)) for link in links if (m := TIME_NAME.fullmatch(link.name))
         and link.name == f"t{int(m.group(1)):05d}".encode()}
    )
    record.extra["setups"] = len(setups)
    record.extra["timepoints"] = len(timepoints)
    unreadable: list[tuple[str, str]] = []
    for setup in setups:
        _find_view(root, setup, timepoints, budget, unreadable)
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


def _setups(root: Any, links: list[Link], budget: Budget) -> list[Setup]:
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
        group = locate(root, link.name)
        if not isinstance(group, h5g.GroupID):
            continue
        setup = Setup(int(m.group(1)), link.name.decode())
        res = open_dataset(group, b"resolutions")
        sub = open_dataset(group, b"subdivisions")
        setup.resolution_shape = tuple(res.shape) if res is not None and res.shape else None
        setup.subdivision_shape = tuple(sub.shape) if sub is not None and sub.shape else None
        attr = small_attr(group, "dataType")
        setup.data_type = str(attr) if attr is not None else None
        out.append(setup)
    return sorted(out, key=lambda s: s.id)


def _find_view(
    root: Any, setup: Setup, timepoints: list[int], budget: Budget,
    unreadable: list[tuple[str, str]],
) -> None:
    """The first timepoint holding a view of ``setup``: its level-0 cells and level count."""
    for t in timepoints:
        if budget.remaining <= 0:
            budget.exhausted = True
            return
        budget.remaining -= 1
        path = f"t{t:05d}/{setup.name}"
        view = locate(root, path.encode())
        if view is None:
            continue
        setup.timepoint = t
        if isinstance(view, ExternalTarget):
            setup.external = view
            return
        if not isinstance(view, h5g.GroupID):
            unreadable.append((f"/{path}", "not a group"))
            return
        cells = locate(view, b"0/cells")
        if isinstance(cells, ExternalTarget):
            setup.external = cells
            return
        if isinstance(cells, h5d.DatasetID):
            try:
                setup.cells = dataset_info(cells, f"/{path}/0/cells")
            except H5_ERRORS as exc:
                unreadable.append((f"/{path}/0/cells", str(exc)))
        setup.levels = _count_levels(view, budget)
        return


def _count_levels(view: Any, budget: Budget) -> int:
    """Consecutive levels 0, 1, ... that hold ``cells`` under one view group."""
    try:
        links, _ = list_links(view, budget)
    except H5_ERRORS:
        return 0
    present = {int(link.name) for link in links if LEVEL_NAME.fullmatch(link.name)}
    levels = 0
    while levels in present and open_dataset(view, f"{levels}/cells".encode()) is not None:
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


# --- companion XML -------------------------------------------------------------------------


def companion_xml(h5_path: str) -> str | None:
    """``x.xml`` beside ``x.h5``; for a BDV partition ``x-00-01.h5`` also ``x.xml``."""
    folder, name = os.path.split(h5_path)
    base = os.path.splitext(name)[0]
    candidates = [base + ".xml"]
    m = re.fullmatch(r"(.+)-\d+-\d+", base)
    if m:
        candidates.append(m.group(1) + ".xml")
    for cand in candidates:
        path = os.path.join(folder, cand)
        if os.path.lexists(path):
            return path
    return None


def check_companion_xml(
    h5_path: str, record: FileRecord, setups: list[Setup], first: Setup | None
) -> None:
    """Voxel size from the XML, and the XML's description checked against the HDF5 file."""
    xml_path = companion_xml(h5_path)
    if xml_path is None:
        base = os.path.splitext(os.path.basename(record.path))[0]
        record.problems.append(Finding.of(
            B_NO_XML, f"no companion {base}.xml: voxel size unknown", file=record.path,
        ))
        return
    xml_name = os.path.basename(xml_path)
    shown = os.path.join(os.path.dirname(record.path), display_path(xml_name))
    record.extra["xml"] = display_path(xml_name)
    root, problems = load_xml(xml_path, shown)
    record.problems.extend(problems)
    if root is None:
        return
    if root.tag != "SpimData":
        record.problems.append(Finding.of(
            B_BAD_XML, f"root element is <{root.tag}>, not <SpimData>", file=shown, line=1,
        ))
        return
    _check_loader(root, h5_path, xml_path, record, shown)
    xml_setups = _xml_setups(root, record, shown)
    _check_setups(record, shown, setups, xml_setups)
    chosen = first.id if first is not None else min((s.id for s in xml_setups), default=None)
    by_id = {s.id: s for s in xml_setups}
    if chosen in by_id:
        _apply_voxel_size(record, shown, by_id[chosen], xml_setups)
        size = by_id[chosen].size
        if record.width is None and size is not None and max(size) <= MAX_DIM:
            record.width, record.height, record.depth = size
            record.layout = LAYOUT_VOLUME if record.depth > 1 else LAYOUT_IMAGE
            record.extra["size_from"] = "xml"


def load_xml(path: str, shown: str) -> tuple[Any | None, list[Finding]]:
    """Parse the companion XML with :mod:`empiar_validate.xmlsafe` (bounded size, DOCTYPE
    refused, nothing resolved or fetched).

    The bytes are read here, not by ``xmlsafe.parse_xml_file``: only a regular file is opened,
    and with ``O_NONBLOCK``, so an ``x.xml`` that is a FIFO cannot block the run.
    """
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return None, [Finding.of(
                xmlsafe.UNREADABLE, "not a regular file; not opened", file=shown,
            )]
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(xmlsafe.MAX_XML_BYTES + 1)
    except OSError as exc:
        return None, [Finding.of(
            xmlsafe.UNREADABLE, f"cannot read file: {exc.strerror or exc}", file=shown,
        )]
    tree, findings = xmlsafe.parse_xml_bytes(data, shown)
    return (tree.getroot() if tree is not None else None), findings


def _check_loader(root: Any, h5_path: str, xml_path: str, record: FileRecord, shown: str) -> None:
    """The XML's ImageLoader must be ``bdv.hdf5`` and name this file (or list it as a
    partition), by a relative path."""
    loader = root.find("SequenceDescription/ImageLoader")
    if loader is None:
        record.problems.append(Finding.of(
            B_BAD_XML, "no SequenceDescription/ImageLoader element", file=shown,
        ))
        return
    fmt = loader.get("format")
    if fmt != "bdv.hdf5":
        record.problems.append(Finding.of(
            B_WRONG_FILE, f"ImageLoader format is {fmt!r}, not 'bdv.hdf5'",
            file=shown, line=loader.sourceline,
        ))
        return
    hdf5 = loader.find("hdf5")
    if hdf5 is None or not (hdf5.text or "").strip():
        record.problems.append(Finding.of(
            B_WRONG_FILE, "ImageLoader has no <hdf5> element naming the data file",
            file=shown, line=loader.sourceline,
        ))
        return
    base_el = root.find("BasePath")
    base_text = (base_el.text or ".").strip() if base_el is not None else "."
    base_relative = base_el is None or base_el.get("type", "relative") == "relative"
    if not base_relative:
        record.problems.append(Finding.of(
            B_ABSOLUTE, f"BasePath is absolute ({base_text!r})", file=shown,
            line=base_el.sourceline if base_el is not None else None,
        ))
    xml_dir = os.path.dirname(os.path.abspath(xml_path))
    base_dir = os.path.join(xml_dir, base_text) if base_relative else base_text
    here = os.path.realpath(h5_path)
    for el in [hdf5, *loader.findall("partition/path")]:
        text = (el.text or "").strip()
        if el.get("type") == "relative" and base_relative:
            if os.path.realpath(os.path.join(base_dir, text)) == here:
                return
        elif os.path.basename(text) == os.path.basename(h5_path):
            if el.get("type") != "relative":
                how = (
                    "by an absolute path" if os.path.isabs(text)
                    else "without type=\"relative\" (BigDataViewer would resolve it from its "
                    "working directory)"
                )
                record.problems.append(Finding.of(
                    B_ABSOLUTE, f"<{el.tag}> names the data {how}",
                    file=shown, line=el.sourceline,
                ))
            return
    named = (hdf5.text or "").strip()
    record.problems.append(Finding.of(
        B_WRONG_FILE,
        f"ImageLoader names {display_path(named)!r}, not {os.path.basename(record.path)!r}",
        file=shown, line=hdf5.sourceline,
    ))


def _xml_setups(root: Any, record: FileRecord, shown: str) -> list[XmlSetup]:
    """Every ``ViewSetup`` with a valid id; invalid ids are findings."""
    out = []
    for vs in root.iterfind("SequenceDescription/ViewSetups/ViewSetup"):
        id_text = (vs.findtext("id") or "").strip()
        if not id_text.isdigit():
            record.problems.append(Finding.of(
                B_BAD_XML, f"ViewSetup id {id_text!r} is not a number",
                file=shown, line=vs.sourceline,
            ))
            continue
        size_el = vs.find("size")
        size_text = (size_el.text or "").strip() if size_el is not None else None
        vox = vs.find("voxelSize")
        unit = (vox.findtext("unit") or "").strip() if vox is not None else None
        vox_text = (vox.findtext("size") or "").strip() if vox is not None else None
        out.append(XmlSetup(
            id=int(id_text), line=vs.sourceline,
            size=_ints(size_text), size_text=size_text,
            size_line=size_el.sourceline if size_el is not None else None,
            unit=unit, voxel=_floats(vox_text), voxel_text=vox_text,
            voxel_line=vox.sourceline if vox is not None else None,
        ))
    return sorted(out, key=lambda s: s.id)


def _ints(text: str | None) -> tuple[int, ...] | None:
    parts = (text or "").split()
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)


def _floats(text: str | None) -> tuple[float, ...] | None:
    try:
        values = tuple(float(p) for p in (text or "").split())
    except ValueError:
        return None
    if len(values) != 3 or not all(math.isfinite(v) and v > 0 for v in values):
        return None
    return values


def _check_setups(
    record: FileRecord, shown: str, setups: list[Setup], xml_setups: list[XmlSetup]
) -> None:
    """XML ViewSetups against the HDF5 setups: presence both ways and level-0 sizes."""
    h5 = {s.id: s for s in setups}
    xml_ids = {s.id for s in xml_setups}
    for xs in xml_setups:
        setup = h5.get(xs.id)
        if setup is None:
            record.problems.append(Finding.of(
                B_BROKEN, f"ViewSetup {xs.id} has no /s{xs.id:02d} in the HDF5 file",
                file=shown, line=xs.line,
            ))
            continue
        if xs.size_text is None or setup.size_xyz is None:
            continue
        if xs.size is None:
            record.problems.append(Finding.of(
                B_SIZE_MISMATCH, f"ViewSetup {xs.id} size {xs.size_text!r} is not 3 integers",
                file=shown, line=xs.size_line,
            ))
        elif xs.size != setup.size_xyz:
            actual = " ".join(map(str, setup.size_xyz))
            record.problems.append(Finding.of(
                B_SIZE_MISMATCH,
                f"ViewSetup {xs.id} size is {xs.size_text} (x y z) but level 0 of "
                f"/{setup.name} holds {actual}",
                file=shown, line=xs.size_line, expected=xs.size_text, actual=actual,
            ))
    missing = [f"/{s.name}" for s in setups if s.id not in xml_ids]
    if missing:
        more = f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else ""
        record.problems.append(Finding.of(
            B_UNDESCRIBED, f"no ViewSetup for {', '.join(missing[:SHOWN])}{more}",
            file=shown,
        ))


def unit_factor(unit: str) -> float | None:
    """Ångström per ``unit``; ``None`` for ``pixel`` and anything not a length unit we know."""
    return UNIT_TO_ANGSTROM.get(unit.strip().lower())


def _apply_voxel_size(
    record: FileRecord, shown: str, xs: XmlSetup, xml_setups: list[XmlSetup]
) -> None:
    """Pixel width/height (Å) from the chosen setup's voxelSize; z spacing goes in extra."""
    if xs.unit is None:
        record.problems.append(Finding.of(
            B_NO_UNIT, f"ViewSetup {xs.id} has no voxelSize", file=shown, line=xs.line,
        ))
        return
    record.extra["voxel_size_xml"] = {"unit": xs.unit, "size": xs.voxel_text}
    if xs.voxel is None:
        record.problems.append(Finding.of(
            B_BAD_VOXEL, f"ViewSetup {xs.id} voxelSize {xs.voxel_text!r} is not three "
            "positive numbers", file=shown, line=xs.voxel_line,
        ))
        return
    factor = unit_factor(xs.unit)
    if factor is None:
        record.problems.append(Finding.of(
            B_NO_UNIT, f"ViewSetup {xs.id} voxel size unit {xs.unit!r} is not a length",
            file=shown, line=xs.voxel_line,
        ))
        return
    sx, sy, sz = (_clean(v * factor) for v in xs.voxel)
    record.pixel_width, record.pixel_height = sx, sy
    record.extra["pixel_depth"] = sz
    others = {(s.unit, s.voxel) for s in xml_setups if s.voxel is not None}
    if len(others) > 1:
        record.problems.append(Finding.of(
            B_SETUPS_DIFFER,
            f"ViewSetups have {len(others)} different voxel sizes; the record shows "
            f"ViewSetup {xs.id}",
            file=shown,
        ))


def _clean(value: float) -> float:
    """Drop binary noise from unit conversion (0.1 µm -> 1000.0 Å, not 1000.0000000000001)."""
    return float(f"{value:.10g}")
