"""BigDataViewer's companion XML, which EMPIAR takes as the header of BDV HDF5 data: found
beside the ``.h5``, parsed safely, checked against the setups the HDF5 file holds, and the source
of the voxel size (``SpimData/SequenceDescription/ViewSetups/ViewSetup/voxelSize``).

It knows the HDF5 side only through :class:`SetupShape` (an id, a ``/sNN`` name and a level-0
size), so it does not depend on :mod:`empiar_validate.formats.bdv`, which calls it.
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass
from typing import Any, Protocol

from lxml import etree

from empiar_validate import xmlsafe
from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.formats.h5model import MAX_DIM, SHOWN
from empiar_validate.paths import READ_FLAGS, display_path
from empiar_validate.records import LAYOUT_IMAGE, LAYOUT_VOLUME, FileRecord

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


class SetupShape(Protocol):
    """What the XML checks need to know of one HDF5 setup (:class:`bdv.Setup` is one)."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def size_xyz(self) -> tuple[int, ...] | None: ...


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


def companion_xml(h5_path: str) -> str | None:
    """``x.xml`` beside ``x.h5``; for a BDV partition ``x-00-01.h5`` also ``x.xml``."""
    folder, name = os.path.split(h5_path)
    base = os.path.splitext(name)[0]
    candidates = [base + ".xml"]
    m = re.fullmatch(r"(.+)-\d+-\d+", base) if base[-1:].isdigit() else None
    if m:
        candidates.append(m.group(1) + ".xml")
    for cand in candidates:
        path = os.path.join(folder, cand)
        if os.path.lexists(path):
            return path
    return None


def check_companion_xml(
    h5_path: str, record: FileRecord, setups: list[SetupShape], first: SetupShape | None
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
        fd = os.open(path, READ_FLAGS)
        try:
            data = _read_bounded(fd, st.st_size)
        finally:
            os.close(fd)
    except OSError as exc:
        return None, [Finding.of(
            xmlsafe.UNREADABLE, f"cannot read file: {exc.strerror or exc}", file=shown,
        )]
    tree, findings = xmlsafe.parse_xml_bytes(data, shown)
    return (tree.getroot() if tree is not None else None), findings


def _read_bounded(fd: int, size: int) -> bytes:
    """At most ``MAX_XML_BYTES + 1`` bytes of ``fd``, asking for the size ``stat`` gave plus
    one: asking for the bound itself makes Python allocate 64 MiB per file (≈ 20 µs of
    ``mmap``/``munmap``). A file that grew since ``stat`` is read on in 64 KiB steps, still
    up to the bound, so the size check in ``parse_xml_bytes`` sees what is there."""
    cap = xmlsafe.MAX_XML_BYTES + 1
    chunks = [os.read(fd, min(size, cap - 1) + 1)]
    total = len(chunks[0])
    while chunks[-1] and total < cap:
        chunk = os.read(fd, min(65536, cap - total))
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _check_loader(root: Any, h5_path: str, xml_path: str, record: FileRecord, shown: str) -> None:
    """The XML's ImageLoader must be ``bdv.hdf5`` and name this file (or list it as a
    partition), by a relative path."""
    loader = _first(root, "SequenceDescription", "ImageLoader")
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
    hdf5 = _first(loader, "hdf5")
    if hdf5 is None or not (hdf5.text or "").strip():
        record.problems.append(Finding.of(
            B_WRONG_FILE, "ImageLoader has no <hdf5> element naming the data file",
            file=shown, line=loader.sourceline,
        ))
        return
    base_el = _first(root, "BasePath")
    base_text = (base_el.text or ".").strip() if base_el is not None else "."
    base_relative = base_el is None or base_el.get("type", "relative") == "relative"
    if not base_relative:
        record.problems.append(Finding.of(
            B_ABSOLUTE, f"BasePath is absolute ({base_text!r})", file=shown,
            line=base_el.sourceline if base_el is not None else None,
        ))
    text = (hdf5.text or "").strip()
    if (base_relative and base_text == "." and hdf5.get("type") == "relative"
            and text == os.path.basename(h5_path)):
        return  # the usual case: the XML names the file beside it (companion_xml found it there)
    xml_dir = os.path.dirname(os.path.abspath(xml_path))
    base_dir = os.path.join(xml_dir, base_text) if base_relative else base_text
    here: str | None = None  # realpath of the data file, only when the names differ
    plain = _without_parent_steps(h5_path)
    for el in [hdf5, *_children(loader, "partition", "path")]:
        text = (el.text or "").strip()
        if el.get("type") == "relative" and base_relative:
            named = os.path.join(base_dir, text)
            if plain is not None and _without_parent_steps(named) == plain:
                return  # the same absolute path, spelled without "..": the same file
            if here is None:
                here = os.path.realpath(h5_path)
            if os.path.realpath(named) == here:
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


def _without_parent_steps(path: str) -> str | None:
    """The absolute, normalised ``path`` when it has no ``..`` step (then equal strings name
    the same file, without resolving links); ``None`` otherwise (``..`` after a symbolic link
    goes where only :func:`os.path.realpath` knows)."""
    if ".." in path.split(os.sep):
        return None
    return os.path.abspath(path)


def _xml_setups(root: Any, record: FileRecord, shown: str) -> list[XmlSetup]:
    """Every ``ViewSetup`` with a valid id; invalid ids are findings."""
    out = []
    for vs in _children(root, "SequenceDescription", "ViewSetups", "ViewSetup"):
        fields = _first_children(vs)
        id_text = _text(fields.get("id"))
        if not id_text.isdigit():
            record.problems.append(Finding.of(
                B_BAD_XML, f"ViewSetup id {id_text!r} is not a number",
                file=shown, line=vs.sourceline,
            ))
            continue
        size_el = fields.get("size")
        size_text = (size_el.text or "").strip() if size_el is not None else None
        vox = fields.get("voxelSize")
        vox_fields = _first_children(vox) if vox is not None else {}
        unit = _text(vox_fields.get("unit")) if vox is not None else None
        vox_text = _text(vox_fields.get("size")) if vox is not None else None
        out.append(XmlSetup(
            id=int(id_text), line=vs.sourceline,
            size=_ints(size_text), size_text=size_text,
            size_line=size_el.sourceline if size_el is not None else None,
            unit=unit, voxel=_floats(vox_text), voxel_text=vox_text,
            voxel_line=vox.sourceline if vox is not None else None,
        ))
    return sorted(out, key=lambda s: s.id)


def _children(el: Any, *path: str) -> list[Any]:
    """The elements ElementPath ``"a/b/c"`` finds below ``el``, in document order, without
    ElementPath (lxml's is Python code; ``iterchildren(tag)`` filters in C): a tag without a
    namespace matches only elements in no namespace, as in ElementPath."""
    level = [el]
    for tag in path:
        level = [child for parent in level for child in parent.iterchildren(tag)]
    return level


def _first(el: Any, *path: str) -> Any | None:
    """``el.find("a/b")``: the first element :func:`_children` finds, or ``None``."""
    found = _children(el, *path)
    return found[0] if found else None


def _first_children(el: Any) -> dict[str, Any]:
    """Each child element tag -> its first element (``el.find(tag)`` for every tag at once)."""
    out: dict[str, Any] = {}
    for child in el.iterchildren(etree.Element):
        out.setdefault(child.tag, child)
    return out


def _text(el: Any | None) -> str:
    """``findtext`` of a found-or-not element, stripped: ``""`` when absent or empty."""
    return ((el.text if el is not None else None) or "").strip()


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
    record: FileRecord, shown: str, setups: list[SetupShape], xml_setups: list[XmlSetup]
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
