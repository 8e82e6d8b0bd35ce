"""An image set's derived values, and the findings about how its files disagree.

The values come from :func:`scan.values.summarize`; here they are copied into the image set
(remembering which were measured) and every disagreement the summary found becomes a finding:
frames (G103), sizes and pixel sizes written as ``variable`` (G101, G102), content not present
(G105).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.model import VARIABLE, ImageSet
from empiar_validate.scan import category as cat
from empiar_validate.scan.companions import is_not_present
from empiar_validate.scan.values import Summary

MAX_LISTED = 5  # file names quoted in one finding

G_DIMS = rule(
    "G101", Severity.WARNING, "image sizes differ within an image set (written as variable)",
    "If the files should all be the same size, find the odd ones (see `inspect`); otherwise say "
    "in the image set's details how the sizes vary.",
)
G_PIXEL = rule(
    "G102", Severity.WARNING, "pixel sizes differ within an image set (written as variable)",
    "Fix the headers of the odd files, or say in the image set's details how the pixel size "
    "varies.",
)
G_FRAMES = rule(
    "G103", Severity.ERROR, "files of an image set disagree on the number of frames",
    "framesPerImage holds one number: remove or replace the odd files (truncated acquisitions?) "
    "or move them into a directory of their own.",
)
G_ABSENT = rule(
    "G105", Severity.WARNING, "image set content not present: values cannot all be derived",
    "Fetch the content (`git annex get`, `datalad get`, `dvc pull`), or give the missing values "
    "in the metadata file's imagesets entry.",
)

def listed_names(paths: list[str]) -> str:
    names = [posixpath.basename(p) for p in sorted(paths)[:MAX_LISTED]]
    return ", ".join(names) + (f" and {len(paths) - MAX_LISTED} more" if len(paths) > MAX_LISTED
                               else "")


def apply_summary(s: ImageSet, summary: Summary) -> None:
    """Copy derived values into the image set and record which fields they fill."""
    pairs = (
        ("header_format", summary.header_format), ("data_format", summary.data_format),
        ("num_images_or_tilt_series", summary.num), ("frames_per_image", summary.frames),
        ("voxel_type", summary.voxel_type), ("image_width", summary.width),
        ("image_height", summary.height), ("pixel_width", summary.pixel_width),
        ("pixel_height", summary.pixel_height),
    )
    for attr, value in pairs:
        setattr(s, attr, value)
        if value is not None:
            s.derived.add(attr)
        else:
            s.derived.discard(attr)


def summary_findings(s: ImageSet, summary: Summary, show: Callable[[str], str]) -> list[Finding]:
    """G101/G102/G103/G105 for one image set's summary."""
    out: list[Finding] = []
    where = show(s.rel_dir)
    for fld, values in summary.outliers.items():
        if fld != "framesPerImage":
            continue  # other kinds were split off before summarising
        for value, paths in values.items():
            out.append(Finding.of(
                G_FRAMES,
                f"{len(paths)} of {summary.present} files have {value} frames, the others "
                f"{summary.frames}: {listed_names(paths)}",
                file=where, image_set=s.name, field_name="framesPerImage",
                expected=str(summary.frames), actual=value,
            ))
    present = [r for r in s.files if r.format is not None]
    for fld, attr, label in (("imageWidth", "width", "widths"),
                             ("imageHeight", "height", "heights")):
        if getattr(summary, attr) == VARIABLE:
            values = sorted({getattr(r, attr) for r in present if getattr(r, attr)})
            out.append(Finding.of(
                G_DIMS, f"image {label} differ: {', '.join(map(str, values[:MAX_LISTED]))}",
                file=where, image_set=s.name, field_name=fld,
            ))
    if VARIABLE in (summary.pixel_width, summary.pixel_height):
        values = sorted({round(r.pixel_width, 4) for r in present if r.pixel_width})
        out.append(Finding.of(
            G_PIXEL, f"pixel sizes differ: {', '.join(f'{v:g}' for v in values[:MAX_LISTED])} Å",
            file=where, image_set=s.name, field_name="pixelWidth",
        ))
    if summary.absent:
        absent = [r for r in s.files if r.format is None]
        missing = sum(1 for r in absent if is_not_present(r))
        what = ("content not present" if missing == len(absent)
                else "content not present or unreadable")
        unknown = "" if summary.present else "; no value can be derived from the headers"
        if s.category in cat.SECTION_COUNTED and summary.num is None:
            unknown += "; the image count is unknown"
        out.append(Finding.of(
            G_ABSENT,
            f"{len(absent)} of {len(s.files)} files: {what} ({listed_names(summary.absent)})"
            f"{unknown}",
            file=where, image_set=s.name,
        ))
    return out
