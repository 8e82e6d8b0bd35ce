"""Metadata image sets meet derived image sets: match by directory, complete, contradict.

The headers are the truth for what they hold (counts, frames, sizes, voxel type, formats): a
metadata value that disagrees is an error (M106) and the XML keeps the measured value. Pixel
size is calibration, which headers often get wrong (or leave at 1 Å), so there the metadata wins
with a warning (M107). Name, category and details are the depositor's to give and simply
override. Where the headers are silent, the metadata completes.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from empiar_validate import vocab
from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.model import VARIABLE, ImageSet
from empiar_validate.scan import category as cat
from empiar_validate.scan.entry import near_directory
from empiar_validate.scan.group import data_directory, rel_directory
from empiar_validate.scan.metaconvert import M_MISSING
from empiar_validate.scan.metadata import Metadata
from empiar_validate.scan.metaspec import M_BAD_VALUE
from empiar_validate.scan.setvalues import listed_names
from empiar_validate.scan.values import format_value, same_pixel

M_CONTRADICTS = rule(
    "M106", Severity.ERROR, "metadata value contradicts what the file headers say",
    "Correct the metadata (or remove the key: the value is derived from the files), or fix the "
    "files if the metadata is right.",
)
M_PIXEL = rule(
    "M107", Severity.WARNING, "metadata pixel size differs from the file headers (the metadata "
    "value is used)",
    "If the headers are right, correct the metadata; if the metadata is right, consider fixing "
    "the headers so the files are self-describing.",
)
M_NO_FILES = rule(
    "M108", Severity.ERROR, "metadata image set has no image files in the dataset",
    "Correct imagesets[].directory (it is /data/ + the path under the scanned directory), or "
    "add the files.",
)
M_UNDESCRIBED = rule(
    "M109", Severity.INFO, "image set not described in the metadata (name and category derived)",
    "Add an imagesets entry with this directory, a descriptive name and the category.",
)
M_CATEGORY = rule(
    "M110", Severity.WARNING, "metadata category does not fit the files",
    "Check the category code (docs/metadata.md lists T1..T14).",
)
M_DUP_DIR = rule(
    "M112", Severity.ERROR, "two metadata image sets name the same directory",
    "EMPIAR directories are unique per entry: merge the two entries or correct one directory.",
)

# metadata key -> (ImageSet attribute, XML element, code kind or None)
_DERIVED = (
    ("header_format", "header_format", "headerFormat", "header_format"),
    ("data_format", "data_format", "dataFormat", "data_format"),
    ("voxel_type", "voxel_type", "voxelType", "voxel_type"),
    ("num_images_or_tilt_series", "num_images_or_tilt_series", "numImagesOrTiltSeries", None),
    ("frames_per_image", "frames_per_image", "framesPerImage", None),
    ("image_width", "image_width", "imageWidth", None),
    ("image_height", "image_height", "imageHeight", None),
)
_PIXEL = (("pixel_width", "pixelWidth"), ("pixel_height", "pixelHeight"))
_TEXT = (
    ("micrographs_file_pattern", "micrographs_file_pattern"),
    ("picked_particles_file_pattern", "picked_particles_file_pattern"),
    ("picked_particles_directory", "picked_particles_directory"),
)


@dataclass(slots=True)
class Entry:
    """One metadata ``imagesets`` entry: its index, its directory relative to the dataset, the
    raw dict, and its category converted to the XML string (``None`` if absent or bad)."""

    index: int
    rel_dir: str
    raw: dict[str, Any]
    category: str | None = None
    suggested: str | None = None  # the directory it most likely means, when it matches nothing


def metadata_entries(meta: Metadata | None) -> tuple[dict[str, Entry], list[Finding]]:
    """The metadata's image sets keyed by relative directory, with bad directories, duplicate
    directories and bad category codes reported."""
    out: dict[str, Entry] = {}
    findings: list[Finding] = []
    items = meta.data.get("imagesets") if meta else None
    if not isinstance(items, list) or meta is None:
        return out, findings
    for i, raw in enumerate(items):
        if not isinstance(raw, dict):
            continue
        directory = raw.get("directory")
        if directory is not None and not isinstance(directory, str):
            continue  # M103 from check_structure
        if not isinstance(directory, str) or not directory.strip():
            findings.append(meta.finding(M_MISSING, f"imagesets[{i}] has no directory; add "
                                         '"directory": "/data/..."', "imagesets", i))
            continue
        rel = rel_directory(directory)
        if rel is None or rel.startswith(".."):
            findings.append(meta.finding(
                M_BAD_VALUE, f"imagesets[{i}].directory {directory!r} does not start with /data/",
                "imagesets", i, "directory",
            ))
            continue
        if rel in out:
            findings.append(meta.finding(
                M_DUP_DIR, f"imagesets[{i}] and imagesets[{out[rel].index}] both name "
                f"{directory!r}", "imagesets", i, "directory",
            ))
            continue
        entry = Entry(i, rel, raw)
        if raw.get("category") is not None:
            try:
                entry.category = vocab.decode_code("category", raw["category"])
            except vocab.VocabError as exc:
                findings.append(meta.finding(M_BAD_VALUE, f"imagesets[{i}].category: {exc}",
                                             "imagesets", i, "category"))
        out[rel] = entry
    return out, findings


def apply_metadata(
    meta: Metadata | None,
    entries: dict[str, Entry],
    image_sets: list[ImageSet],
    show: Callable[[str], str],
    damaged: Mapping[str, list[str]] | None = None,
) -> tuple[list[ImageSet], list[Finding], dict[str, str]]:
    """Complete derived image sets from their metadata entries; returns the image sets (plus
    metadata-only ones), findings, and a map old name -> new name for re-labelling findings.

    ``damaged`` maps directories to their image files that could not be read: a set whose only
    image files are damaged gets one M108 naming them (their own errors say what is wrong), not
    an M104 for every value they would have given."""
    damaged = damaged or {}
    findings: list[Finding] = []
    renamed: dict[str, str] = {}
    by_dir = {s.rel_dir: s for s in image_sets}
    known = [s.rel_dir for s in image_sets if s.files and s.rel_dir not in entries]
    result = list(image_sets)
    for rel, entry in sorted(entries.items(), key=lambda kv: kv[1].index):
        s = by_dir.get(rel)
        assert meta is not None  # entries come from a metadata file
        report_missing = True
        if s is None or not s.files:
            s = s or _metadata_only(entry)
            if all(x is not s for x in result):
                result.append(s)
            bad = damaged.get(rel)
            near = None if bad else near_directory(rel, known)
            if bad:
                report_missing = False  # what is missing follows from the damaged files
                text = (f"imagesets[{entry.index}] directory {s.directory!r} holds no readable "
                        f"image files: {len(bad)} damaged ({listed_names(bad)}), each reported "
                        "by its own error; replace them (the values they would give follow "
                        "from this)")
            elif near is not None:
                report_missing = False  # what is missing follows from the wrong directory
                entry.suggested = near[0]
                text = (f"imagesets[{entry.index}] directory {s.directory!r} holds no image "
                        f"files, but {data_directory(near[0])!r} does ({near[1]}): correct the "
                        "directory; the values it leaves missing follow from this")
            else:
                text = (f"imagesets[{entry.index}] directory {s.directory!r} holds no image "
                        "files; the image set is written from the metadata alone")
            findings.append(meta.finding(M_NO_FILES, text, "imagesets", entry.index,
                                         "directory", image_set=s.name))
        old = s.name
        findings.extend(_complete(meta, entry, s, report_missing=report_missing))
        if s.name != old:
            renamed[old] = s.name
    described = set(entries) | {e.suggested for e in entries.values() if e.suggested}
    for s in result:
        if s.rel_dir not in described:
            findings.append(Finding.of(
                M_UNDESCRIBED, f"name {s.name!r} and category {s.category!r} were derived",
                file=show(s.rel_dir), image_set=s.name,
            ))
    result.sort(key=lambda s: s.directory)
    return result, findings, renamed


def relabel(findings: list[Finding], renamed: dict[str, str]) -> list[Finding]:
    """Findings made before the metadata renamed image sets, with the new names."""
    if not renamed:
        return findings
    return [dataclasses.replace(f, image_set=renamed[f.image_set])
            if f.image_set in renamed else f for f in findings]


def _metadata_only(entry: Entry) -> ImageSet:
    name = entry.raw.get("name")
    return ImageSet(
        name=name if isinstance(name, str) and name.strip() else f"/data/{entry.rel_dir}",
        directory=f"/data/{entry.rel_dir}" if entry.rel_dir else "/data", rel_dir=entry.rel_dir,
        category=entry.category,
    )


def _complete(
    meta: Metadata, entry: Entry, s: ImageSet, *, report_missing: bool = True
) -> list[Finding]:
    raw, i = entry.raw, entry.index
    out: list[Finding] = []

    def where(*key: str) -> dict[str, Any]:
        return {"file": meta.shown, "line": meta.line("imagesets", i, *key),
                "image_set": s.name}

    name = raw.get("name")
    if isinstance(name, str) and name.strip():
        s.name = name.strip()
    if entry.category:
        conflict = cat.category_conflict(entry.category, s.files)
        if conflict:
            out.append(Finding.of(
                M_CATEGORY, f"category {entry.category!r} does not fit: {conflict}",
                **where("category"), field_name="category", expected=entry.category,
            ))
        s.category = entry.category
    details = raw.get("details")
    if isinstance(details, str) and details.strip():
        s.details = details.strip()
    for key, attr in _TEXT:
        value = raw.get(key)
        if isinstance(value, str) and value.strip():
            setattr(s, attr, value.strip())
    num, frames = raw.get("num_images_or_tilt_series"), raw.get("frames_per_image")
    if s.slices and num == s.slices and frames in (1, None):
        # a slice stack counted as EMPIAR has counted them: N images of one frame
        s.num_images_or_tilt_series, s.frames_per_image = s.slices, 1
    for key, attr, element, kind in _DERIVED:
        value = raw.get(key)
        if value is None:
            continue
        if kind is not None:
            try:
                value = vocab.decode_code(kind, value)
            except vocab.VocabError as exc:
                out.append(Finding.of(M_BAD_VALUE, f"imagesets[{i}].{key}: {exc}",
                                      **where(key)))
                continue
        elif isinstance(value, bool) or not isinstance(value, int):
            continue  # the type check (M103) already reported it
        elif value < 1:
            out.append(Finding.of(M_BAD_VALUE, f"imagesets[{i}].{key} {value} must be at "
                                  "least 1", **where(key)))
            continue
        derived = getattr(s, attr)
        if attr in s.derived and derived is not None:
            if derived != value:
                out.append(Finding.of(
                    M_CONTRADICTS,
                    f"{key} is {value} in the metadata but {format_value(derived)} in the "
                    "files; the XML keeps the files' value",
                    **where(key), field_name=element, expected=str(value),
                    actual=format_value(derived),
                ))
            continue
        setattr(s, attr, value)
    for key, element in _PIXEL:
        value = raw.get(key)
        if value is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if not math.isfinite(value) or value <= 0:
            out.append(Finding.of(M_BAD_VALUE, f"{key} {value} must be a positive number of Å",
                                  **where(key)))
            continue
        derived = getattr(s, key)
        if key in s.derived and derived is not None and (
            derived == VARIABLE or not same_pixel(float(derived), float(value))
        ):
            out.append(Finding.of(
                M_PIXEL, f"{key} is {value} Å in the metadata but {format_value(derived)} in the "
                "file headers; the XML uses the metadata value",
                **where(key), field_name=element, expected=str(value),
                actual=format_value(derived),
            ))
        setattr(s, key, float(value))
        s.derived.discard(key)
    lo, hi = raw.get("frame_range_min"), raw.get("frame_range_max")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in (lo, hi)):
        s.frame_range_min, s.frame_range_max = lo, hi  # the Schematron checks the range
    for key in _missing(s) if report_missing else ():
        out.append(Finding.of(
            M_MISSING, f"{key} unknown: the files do not give it; add \"{key}\" to "
            f"imagesets[{i}]", **where(), field_name=key,
        ))
    return out


# Values every image set needs; the scan reports each one neither the files nor the metadata
# gave (M104), so later layers (package's deposition.json) need not report them again.
REQUIRED_VALUES = ("header_format", "data_format", "num_images_or_tilt_series", "frames_per_image",
             "voxel_type", "image_width", "image_height", "pixel_width", "pixel_height")


def _missing(s: ImageSet) -> list[str]:
    return [key for key in REQUIRED_VALUES if getattr(s, key) is None]


def missing_values(s: ImageSet, show: Callable[[str], str]) -> list[Finding]:
    """M104 for values the XML needs that neither the files nor the metadata gave, for image
    sets without a metadata entry (entries report their own, with line numbers)."""
    return [Finding.of(
        M_MISSING, f"{key} unknown: the files do not give it; add an imagesets entry with "
        f"\"directory\": \"{s.directory}\" and \"{key}\"",
        file=show(s.rel_dir), image_set=s.name, field_name=key,
    ) for key in _missing(s)]
