"""Compare a committed entry XML with the dataset on disk: the CI gate.

For every ``imageSet`` the XML states, the files it covers are found on disk (its directory,
narrowed by ``micrographsFilePattern`` when there is one, minus gain references and minus deeper
image sets' directories), their values are derived with the same rules ``scan`` uses, under the
category the XML states, and every disagreement becomes a finding that names the image set, the
field, the XML value (``expected``) and the disk value (``actual``), located at the XML element's
line. Image files no image set covers are reported per directory.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from empiar_validate.empiar import EMPIAR_NS
from empiar_validate.findings import Finding, Rule, Severity, rule
from empiar_validate.model import VARIABLE
from empiar_validate.records import FileRecord
from empiar_validate.scan import category as cat
from empiar_validate.scan.companions import (
    has_image_extension,
    is_counted_image,
    is_not_present,
    tilt_infos,
)
from empiar_validate.scan.globs import glob_escape, glob_match
from empiar_validate.scan.group import MAX_LISTED, deepest, rel_directory
from empiar_validate.scan.patterns import is_within
from empiar_validate.scan.processing import is_byproduct, without_byproducts
from empiar_validate.scan.provenance import Provenance, read_instruction
from empiar_validate.scan.slices import counts_fit, slice_stack
from empiar_validate.scan.strict import layout_issues, pixel_rule, size_issues, uncovered_rule
from empiar_validate.scan.tilts import per_tilt_series
from empiar_validate.scan.values import Summary, as_float, dataset_size, same_pixel, summarize

NS = EMPIAR_NS

C_NO_DIR = rule(
    "C101", Severity.ERROR, "image set directory missing from the dataset",
    "Restore the directory, or update the entry XML (re-run `empiar-validate scan`).",
)
C_DIFFERS = rule(
    "C102", Severity.ERROR, "entry XML and data disagree",
    "Either the data changed (restore it) or the XML is stale: re-run `empiar-validate scan` and "
    "commit the new XML.",
)
C_PIXEL = rule(
    "C103", Severity.WARNING, "pixel size in the XML differs from the file headers",
    "If the headers are wrong, this is expected (the XML holds the calibrated value); otherwise "
    "correct the XML or the headers.",
)
C_UNCOVERED = rule(
    "C104", Severity.WARNING, "image files not covered by any image set",
    "Describe them in the XML (re-run `empiar-validate scan`) or remove them from the dataset.",
)
C_OTHER_FILES = rule(
    "C105", Severity.INFO, "other files outside every image-set directory",
    "Nothing to do if they are documentation or processing results you mean to deposit.",
)
C_NOT_PRESENT = rule(
    "C106", Severity.INFO, "content not present: numeric comparison skipped",
    "Fetch the content (`git annex get`, `datalad get`, `dvc pull`) to check the numbers too.",
)
C_BAD_DIR = rule(
    "C107", Severity.ERROR, "image set directory is not under /data/",
    "Give the directory as /data/ followed by its path in the dataset.",
)
C_NO_FILES = rule(
    "C108", Severity.ERROR, "image set covers no image files",
    "Restore the files, or correct the directory or micrographsFilePattern in the XML.",
)
C_PATTERN = rule(
    "C109", Severity.WARNING, "pickedParticlesFilePattern matches no file",
    "Correct the pattern (a glob relative to the entry root, e.g. data/particles/*.star).",
)
C_NOT_ENTRY = rule(
    "C110", Severity.ERROR, "XML is not an EMPIAR entry",
    "Pass the entry XML written by `empiar-validate scan` (root element entry in namespace "
    "http://pdbe.org/empiar).",
)
C_SIZE = rule(
    "C111", Severity.WARNING, "datasetSize differs from the size of the data",
    "Re-run `empiar-validate scan` so datasetSize matches what will be uploaded.",
)
OTHER = "Other"  # a category / voxel type EMPIAR has published for released entries (S127)

C_CATEGORY = rule(
    "C112", Severity.WARNING, "image set category does not fit the files",
    "Check the category in the XML.",
)
C_VARIABLE = rule(
    "C113", Severity.INFO, "XML says variable but every file agrees",
    "Nothing wrong; the XML could give the single value instead.",
)

_UNITS = {"MB": 10**6, "GB": 10**9, "TB": 10**12}


@dataclass(slots=True)
class XmlImageSet:
    """An ``imageSet`` as the XML states it: element texts and their source lines."""

    index: int
    line: int | None
    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    prov: Provenance | None = None  # what scan derived from the files (None: lenient policy)

    @property
    def name(self) -> str:
        """The set's name, or its position when it has none."""
        return self.values.get("name") or f"imageSet[{self.index}]"

    def xpath(self, element: str | None = None) -> str:
        """XPath of the set or one of its value elements."""
        base = f"/entry/imageSet[{self.index}]"
        if element is None:
            return base
        parent = "dimensions/" if element in _DIMENSIONS else ""
        return f"{base}/{parent}{element}"


_FIELDS = ("name", "directory", "category", "headerFormat", "dataFormat",
           "numImagesOrTiltSeries", "framesPerImage", "voxelType", "micrographsFilePattern",
           "pickedParticlesFilePattern")
_DIMENSIONS = ("imageWidth", "imageHeight", "pixelWidth", "pixelHeight")


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def xml_image_sets(root: Any) -> list[XmlImageSet]:
    """Every ``imageSet`` under the entry element (namespaced or not), in document order."""
    out = []
    for i, el in enumerate((c for c in root if _local(c.tag) == "imageSet"), start=1):
        s = XmlImageSet(i, el.sourceline, prov=read_instruction(el))
        for child in el:
            name = _local(child.tag)
            if name == "dimensions":
                for dim in child:
                    _put(s, _local(dim.tag), dim)
            elif name in _FIELDS:
                _put(s, name, child)
        out.append(s)
    return out


def _put(s: XmlImageSet, name: str, el: Any) -> None:
    if name in s.values:
        return
    s.values[name] = (el.text or "").strip()
    if el.sourceline:
        s.lines[name] = el.sourceline


@dataclass(slots=True)
class Drift:
    """Outcome of one comparison: findings and, per image set, XML vs disk values (JSON-ready)."""

    findings: list[Finding] = field(default_factory=list)
    image_sets: list[dict[str, object]] = field(default_factory=list)


def compare(
    root_el: Any,
    records: list[FileRecord],
    *,
    root: str,
    xml_shown: str,
    show: Callable[[str], str],
    allow_uncovered: bool = False,
) -> Drift:
    """Compare the parsed entry (``root_el``) with the records of the dataset at ``root``
    (leave the XML itself out of ``records`` when it lies inside the dataset). Image files no
    set covers are an error, a warning with ``allow_uncovered``."""
    drift = Drift()
    namespace = root_el.tag[1:].split("}")[0] if str(root_el.tag).startswith("{") else None
    if _local(root_el.tag) != "entry" or namespace not in (NS, None):
        drift.findings.append(Finding.of(
            C_NOT_ENTRY, f"root element is {root_el.tag!r}, not {{{NS}}}entry", file=xml_shown,
            line=root_el.sourceline,
        ))
        return drift
    sets = xml_image_sets(root_el)
    rels: dict[int, str] = {}
    for s in sets:
        rel = rel_directory(s.values.get("directory", ""))
        if rel is None or rel.startswith(".."):
            drift.findings.append(_f(C_BAD_DIR, s, "directory", xml_shown,
                                     f"directory {s.values.get('directory', '')!r} is not under "
                                     "/data/", actual=None))
            continue
        rels[s.index] = rel
    set_dirs = set(rels.values())
    # As in scan: a corrupt image file is never counted (its own error says why); an absent
    # annex/DVC placeholder is.
    image_like = [r for r in records if is_counted_image(r)]
    others = [r for r in records if r.format is None and not has_image_extension(r.path)]
    by_home: dict[str | None, list[FileRecord]] = {}  # deepest image-set directory -> files
    for r in image_like:
        by_home.setdefault(deepest(r.path, set_dirs), []).append(r)
    others_home: dict[str | None, list[FileRecord]] = {}
    for r in others:
        others_home.setdefault(deepest(r.path, set_dirs), []).append(r)
    covered: set[str] = set()
    for s in sets:
        if s.index not in rels:
            continue
        rel = rels[s.index]
        members, gains = _members(s, rel, image_like, by_home.get(rel, []))
        covered.update(r.path for r in members + gains)
        pp = s.values.get("pickedParticlesFilePattern", "").lstrip("/")
        if pp:  # the STAR file may lie above the stacks (RELION): any file of the dataset
            covered.update(r.path for r in others if glob_match(pp, "data/" + r.path))
        report = _compare_set(s, rel, members, others_home.get(rel, []), root=root,
                              xml_shown=xml_shown, drift=drift, everything=records)
        drift.image_sets.append(report)
    _uncovered(image_like, others, covered, set_dirs, show, drift,
               uncovered_rule(allow_uncovered, C_UNCOVERED))
    _size(root_el, records, xml_shown, drift)
    return drift


def _members(
    s: XmlImageSet, rel: str, image_like: list[FileRecord], candidates: list[FileRecord]
) -> tuple[list[FileRecord], list[FileRecord]]:
    """Files the set covers, and gain references beside them (covered but not counted).

    ``candidates`` are the image files whose deepest image-set directory is this set's."""
    pattern = s.values.get("micrographsFilePattern", "").lstrip("/")
    if pattern:
        prefix = f"data/{glob_escape(rel)}/" if rel else "data/"
        pool = candidates if pattern.startswith((prefix, f"data/{rel}/")) else image_like
        chosen = [r for r in pool if glob_match(pattern, "data/" + r.path)]
    else:
        chosen = candidates
    chosen = without_byproducts(chosen)  # as scan: power spectra, thumbnails are no members
    readable = [r for r in chosen if r.format is not None]
    gains = cat.gain_references(readable)
    if len(gains) == len(chosen):  # the set is the gain reference
        return chosen, []
    gain_ids = {id(r) for r in gains}
    chosen_ids = {id(r) for r in chosen}
    members = [r for r in chosen if id(r) not in gain_ids]
    extra_gains = [r for r in candidates if id(r) not in chosen_ids and (
        cat.is_gain_reference(r, set()) or (is_not_present(r) and cat.gain_named(r.path)))]
    return members, gains + extra_gains


def _compare_set(
    s: XmlImageSet, rel: str, members: list[FileRecord], companions: list[FileRecord], *,
    root: str, xml_shown: str, drift: Drift, everything: list[FileRecord] | None = None,
) -> dict[str, object]:
    out = drift.findings
    report: dict[str, object] = {"name": s.name, "directory": s.values.get("directory"),
                                 "files": len(members), "xml": dict(sorted(s.values.items()))}
    # which XML values came from the files (strict) and which from the metadata; None: no record
    report["derived_from_files"] = sorted(s.prov.derived) if s.prov is not None else None
    if not _is_dir(root, rel, members + companions):
        out.append(_f(C_NO_DIR, s, "directory", xml_shown,
                      f"directory {s.values.get('directory')} does not exist in the dataset",
                      actual="missing"))
        report["status"] = "missing"
        return report
    category = s.values.get("category")
    series = None
    if category in cat.TILT_CATEGORIES:
        series = per_tilt_series(members, tilt_infos(companions))
    summary = summarize(category, members, series=series)
    report["disk"] = _summary_json(summary)
    pp = s.values.get("pickedParticlesFilePattern", "").lstrip("/")
    if pp and not any(glob_match(pp, "data/" + r.path)
                      for r in (everything if everything is not None else companions + members)):
        out.append(_f(C_PATTERN, s, "pickedParticlesFilePattern", xml_shown,
                      f"pickedParticlesFilePattern {pp!r} matches no file", actual="no match"))
    if not members:
        out.append(_f(C_NO_FILES, s, "directory", xml_shown,
                      "no image files in the directory"
                      + (" match micrographsFilePattern" if s.values.get("micrographsFilePattern")
                         else ""), actual="0 files"))
        report["status"] = "empty"
        return report
    present = [r for r in members if r.format is not None]
    if category:
        conflict = None if category == OTHER else cat.category_conflict(category, members)
        if conflict:
            out.append(_f(C_CATEGORY, s, "category", xml_shown,
                          f"category {category!r} does not fit: {conflict}", actual=None))
    stack = slice_stack(members) if category in cat.VOLUME_CATEGORIES else None
    either = stack is not None and counts_fit(
        stack, s.values.get("numImagesOrTiltSeries"), s.values.get("framesPerImage"))
    if not either:  # a slice stack may be counted as one volume or as N images
        _count(s, summary, xml_shown, out)
    if not present:
        out.append(_f(C_NOT_PRESENT, s, "numImagesOrTiltSeries", xml_shown,
                      f"content of all {len(members)} files is not present; only the number of "
                      "files was compared", actual=None))
        report["status"] = "not present"
        return report
    if summary.absent:
        out.append(_f(C_NOT_PRESENT, s, "numImagesOrTiltSeries", xml_shown,
                      f"content of {len(summary.absent)} of {len(members)} files is not present; "
                      "their values were not compared", actual=None))
    frames = "framesPerImage"
    if category in cat.SECTION_COUNTED:
        _scalar(s, frames, "1", xml_shown, out)
    elif either:
        pass
    elif category in cat.TILT_CATEGORIES and series is None and _in_tilt_range(
            s.values.get(frames), present):
        pass  # tilt series of different lengths: any count they span (scan writes the largest)
    else:
        # an unknown frame count (None) is not compared: never "every file has 1"
        _per_file(s, frames, present, lambda r: _int_text(cat.frames_of(r)), xml_shown, out)
    if s.values.get("voxelType") != OTHER:  # EMPIAR's published "Other" names no type to compare
        _per_file(s, "voxelType", present, lambda r: r.voxel_type, xml_shown, out)
    _per_file(s, "headerFormat", present, lambda r: r.header_format or r.format, xml_shown, out)
    _per_file(s, "dataFormat", present, lambda r: r.format, xml_shown, out)
    for element, attr in (("imageWidth", "width"), ("imageHeight", "height")):
        if s.values.get(element) == VARIABLE:
            if getattr(summary, attr) not in (VARIABLE, None):
                out.append(_f(C_VARIABLE, s, element, xml_shown,
                              f"{element} is variable but every file has "
                              f"{getattr(summary, attr)}", actual=str(getattr(summary, attr))))
            continue
        _per_file(s, element, present, lambda r, a=attr: _int_text(getattr(r, a)), xml_shown,
                  out)
    for element, attr in (("pixelWidth", "pixel_width"), ("pixelHeight", "pixel_height")):
        _pixels(s, element, attr, present, xml_shown, out)
    # the strict policy on what scan derived: layouts, and sizes under unchanged headers
    drifted = any(f.image_set == s.name and f.severity is Severity.ERROR for f in out)
    for r, element, message, actual in (layout_issues(s.prov, present, _listed)
                                         + size_issues(s.prov, members, drifted, _listed)):
        out.append(_f(r, s, element, xml_shown, message, actual=actual))
    report["status"] = "checked"
    return report


def _in_tilt_range(stated: str | None, present: list[FileRecord]) -> bool:
    """True when the files' numbers of tilts vary and ``stated`` lies within them."""
    counts = {f for r in present if (f := cat.frames_of(r)) is not None}
    return len(counts) > 1 and stated is not None and stated.isdigit() and (
        min(counts) <= int(stated) <= max(counts))


def _is_dir(root: str, rel: str, inside: list[FileRecord]) -> bool:
    """Whether the set's directory exists: files lie under it (read from an object store, which
    has no directories, or from a DVC remote for a directory not pulled), or it is on disk."""
    from empiar_validate.remote import is_url

    if inside or not rel:
        return True
    return not is_url(root) and os.path.isdir(os.path.join(root, rel))


def _count(s: XmlImageSet, summary: Summary, xml_shown: str, out: list[Finding]) -> None:
    element = "numImagesOrTiltSeries"
    stated = s.values.get(element)
    if summary.num is None:
        out.append(_f(C_NOT_PRESENT, s, element, xml_shown,
                      "the number of images cannot be counted: the content of "
                      f"{len(summary.absent)} stack(s) is not present", actual=None))
        return
    if stated != str(summary.num):
        out.append(_f(C_DIFFERS, s, element, xml_shown,
                      f"{element} is {stated or '(missing)'} in the XML but {summary.num} on disk",
                      actual=str(summary.num)))


def _scalar(s: XmlImageSet, element: str, disk: str, xml_shown: str, out: list[Finding]) -> None:
    stated = s.values.get(element)
    if stated != disk:
        out.append(_f(C_DIFFERS, s, element, xml_shown,
                      f"{element} is {stated or '(missing)'} in the XML but {disk} on disk",
                      actual=disk))


def _per_file(
    s: XmlImageSet, element: str, present: list[FileRecord],
    value: Callable[[FileRecord], str | None], xml_shown: str, out: list[Finding],
) -> None:
    """One finding per distinct disk value that differs from the XML's, listing the files."""
    stated = s.values.get(element)
    differing: dict[str, list[str]] = {}
    for r in present:
        v = value(r)
        if v is not None and v != stated:
            differing.setdefault(v, []).append(r.path)
    for v, paths in sorted(differing.items()):
        who = ("every file has" if len(paths) == len(present)
               else f"{len(paths)} of {len(present)} files have")
        out.append(_f(C_DIFFERS, s, element, xml_shown,
                      f"{element} is {stated or '(missing)'} in the XML but {who} {v}: "
                      + _listed(paths), actual=v))


def _pixels(s: XmlImageSet, element: str, attr: str, present: list[FileRecord],
            xml_shown: str, out: list[Finding]) -> None:
    stated = s.values.get(element)
    if stated == VARIABLE:
        return
    number = as_float(stated)
    values = [(getattr(r, attr), r.path) for r in present if getattr(r, attr)]
    if number is None:
        if values and stated is None:
            out.append(_f(C_DIFFERS, s, element, xml_shown,
                          f"{element} is missing from the XML", actual=f"{values[0][0]:g}"))
        return
    differing: dict[str, list[str]] = {}
    for v, path in values:
        if not same_pixel(number, v):
            differing.setdefault(f"{v:.6g}", []).append(path)
    for v, paths in sorted(differing.items()):
        out.append(_f(pixel_rule(s.prov, element, C_PIXEL), s, element, xml_shown,
                      f"{element} is {stated} Å in the XML but {len(paths)} of {len(present)} "
                      f"files say {v} Å: " + _listed(paths), actual=v))


def _int_text(value: int | None) -> str | None:
    return None if value is None else str(value)


def _listed(paths: list[str]) -> str:
    names = sorted(paths)
    return ", ".join(names[:MAX_LISTED]) + (
        f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else "")


def _f(r: Any, s: XmlImageSet, element: str, xml_shown: str, message: str, *,
       actual: str | None) -> Finding:
    return Finding.of(
        r, f"image set {s.name!r}: {message}", file=xml_shown,
        line=s.lines.get(element, s.line), xpath=s.xpath(element), image_set=s.name,
        field_name=element, expected=s.values.get(element), actual=actual,
    )


def _summary_json(summary: Summary) -> dict[str, object]:
    return {
        "numImagesOrTiltSeries": summary.num, "framesPerImage": summary.frames,
        "voxelType": summary.voxel_type, "headerFormat": summary.header_format,
        "dataFormat": summary.data_format, "imageWidth": summary.width,
        "imageHeight": summary.height, "pixelWidth": summary.pixel_width,
        "pixelHeight": summary.pixel_height, "absent": len(summary.absent),
    }


def _uncovered(
    image_like: list[FileRecord], others: list[FileRecord], covered: set[str],
    set_dirs: set[str], show: Callable[[str], str], drift: Drift, uncovered: Rule,
) -> None:
    images: dict[str, list[str]] = {}
    for r in image_like:
        if "/" not in r.path and cat.is_gain_reference(r, set()):
            continue  # a gain reference at the root: the movies' companion, as scan says (G107)
        if r.path not in covered and is_byproduct(r.path):
            continue  # power spectra, thumbnails: left out by scan (G117), not data to describe
        if r.path not in covered:
            images.setdefault(posixpath.dirname(r.path), []).append(r.path)
    for d, paths in sorted(images.items()):
        drift.findings.append(Finding.of(
            uncovered, f"{len(paths)} image file(s) in data/{d} covered by no image set: "
            + _listed([posixpath.basename(p) for p in paths]), file=show(d),
        ))
    rest: dict[str, list[str]] = {}
    for r in others:
        if r.path not in covered and not any(is_within(r.path, d) for d in set_dirs if d):
            rest.setdefault(posixpath.dirname(r.path), []).append(r.path)
    for d, paths in sorted(rest.items()):
        drift.findings.append(Finding.of(
            C_OTHER_FILES, f"{len(paths)} file(s) outside every image-set directory: "
            + _listed([posixpath.basename(p) for p in paths]), file=show(d),
        ))


def _size(root_el: Any, records: list[FileRecord], xml_shown: str, drift: Drift) -> None:
    el = next((e for e in root_el.iter() if _local(e.tag) == "datasetSize"), None)
    if el is None:
        return
    stated = as_float((el.text or "").strip())
    units = el.get("units", "GB")
    if stated is None or units not in _UNITS:
        return
    total = sum(r.size or 0 for r in records)
    if abs(stated * _UNITS[units] - total) <= 0.01 * max(total, stated * _UNITS[units]):
        return
    value, disk_units = dataset_size(total)
    drift.findings.append(Finding.of(
        C_SIZE, f"datasetSize is {el.text} {units} in the XML but the data holds "
        f"{value} {disk_units}", file=xml_shown, line=el.sourceline,
        xpath="/entry/admin/datasetSize", field_name="datasetSize",
        expected=f"{(el.text or '').strip()} {units}", actual=f"{value} {disk_units}",
    ))
