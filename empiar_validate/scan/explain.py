"""Why an image set has its category, in sentences for the JSON report (``category_evidence``).

The first sentence says who decided (the metadata or the files); the rest list what the files
are (format, voxel type, shape), what their names suggest, which were read as movies despite
their header (:mod:`scan.evidence`), and the companions that travel with them.
"""

from __future__ import annotations

import posixpath
from collections import Counter

from empiar_validate.records import FileRecord
from empiar_validate.scan.category import frames_of, is_volume, name_hint
from empiar_validate.scan.evidence import EVIDENCE_KEY, is_read_as_movie


def describe_files(records: list[FileRecord]) -> list[str]:
    """Short lines saying what the files are, most common kind first (for the evidence)."""
    kinds: Counter[str] = Counter()
    for r in records:
        if r.format is None:
            kinds["content not present or unreadable"] += 1
            continue
        frames = frames_of(r)
        shape = "3-D volume" if is_volume(r) else (
            "stack of an unknown number of sections" if frames is None
            else f"stack of {frames} sections" if frames > 1 else "single 2-D image")
        kinds[f"{r.format} {r.voxel_type or '?'} {shape} of {r.width} x {r.height}"] += 1
    lines = [f"{n} file(s): {kind}" for kind, n in sorted(kinds.items(),
                                                          key=lambda kv: (-kv[1], kv[0]))]
    movies = [r for r in records if is_read_as_movie(r)]
    if movies:
        lines.append(f"{len(movies)} read as movies: {movies[0].extra[EVIDENCE_KEY]}")
    return lines[:6]


def explain_category(
    category: str, *, given: bool, members: list[FileRecord], gains: int, series: int | None,
    companions: list[str],
) -> list[str]:
    """The evidence for an image set's category, most decisive first."""
    lines = ["given in the metadata" if given else f"derived from the files: {category}"]
    if series is not None:
        lines.append(f"{series} SerialEM .mdoc file(s) name the files as per-tilt frames")
    hints = Counter(h for r in members if (h := name_hint(r.path)))
    for hint, n in hints.most_common(2):
        lines.append(f"{n} file name(s) or directories suggest {hint}")
    lines.extend(describe_files(members))
    kinds = Counter(posixpath.splitext(c)[1].lower() for c in companions)
    if kinds:
        lines.append("companions: " + ", ".join(f"{n} {ext or '(no extension)'}"
                                                 for ext, n in sorted(kinds.items())))
    if gains:
        lines.append(f"{gains} gain reference(s) beside them, not counted")
    return lines
