"""Tilt series and their companions: per-tilt layouts counted as series, stacks checked.

SerialEM can store a tilt series one file per tilt (frames named by the ``.mdoc``'s
``SubFramePath``): then the series, not the files, are counted. A stack with its own
companion (``TS_01.mrc`` + ``TS_01.mrc.mdoc`` / ``TS_01.rawtlt``) is checked against it.
Companions were parsed in the read stage; nothing here touches the disk.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.records import FileRecord
from empiar_validate.scan import category as cat
from empiar_validate.scan.companions import TiltInfo, tilt_stem
from empiar_validate.scan.values import Summary

G_TILTS = rule(
    "G106", Severity.WARNING, "tilt-series companion disagrees with the stack on the number of "
    "tilts",
    "Check that the .mdoc/.rawtlt/.tlt file belongs to this tilt series and that the stack is "
    "complete.",
)

G_TILT_COUNTS = rule(
    "G116", Severity.INFO, "tilt series differ in their number of tilts",
    "Nothing to do: framesPerImage holds the largest number (the XML allows one) and the details "
    "give the range; say there why some series are shorter if it matters.",
)


def varying_tilts(summary: Summary, members: list[FileRecord]) -> list[str]:
    """Tilt series of different lengths in one set, as acquired: ``framesPerImage`` becomes
    the largest number of tilts (no G103), and the sentence for the details gives the range."""
    frames = sorted({f for r in members if r.format is not None
                     and (f := cat.frames_of(r)) is not None})
    if len(frames) < 2:
        return []
    summary.frames = frames[-1]
    summary.outliers.pop("framesPerImage", None)
    return [f"Tilt series of {frames[0]} to {frames[-1]} tilts (framesPerImage gives the "
            "largest)."]


def per_tilt_series(members: list[FileRecord], infos: dict[str, TiltInfo]) -> int | None:
    """Tilt series stored one file per tilt: the number of .mdoc files naming the members."""
    if not any(info.subframes for info in infos.values()):
        return None
    names = {posixpath.basename(r.path) for r in members}
    naming = [p for p, info in infos.items() if names.intersection(info.subframes)]
    return len(naming) or None


def tilt_checks(
    members: list[FileRecord], infos: dict[str, TiltInfo], show: Callable[[str], str], name: str
) -> list[Finding]:
    """G106 for every stack whose own tilt companion lists a different number of tilts."""
    out = []
    by_stem: dict[tuple[str, str], list[str]] = {}
    for p in infos:
        by_stem.setdefault((posixpath.dirname(p), tilt_stem(posixpath.basename(p))), []).append(p)
    for r in members:
        if r.format is None:
            continue
        key = (posixpath.dirname(r.path), tilt_stem(posixpath.basename(r.path)))
        for comp in sorted(by_stem.get(key, [])):
            tilts = infos[comp].tilts
            sections = cat.frames_of(r)
            if tilts and sections is not None and tilts != sections:
                out.append(Finding.of(
                    G_TILTS, f"{posixpath.basename(comp)} lists {tilts} tilts but the stack has "
                    f"{cat.frames_of(r)} sections", file=show(r.path), image_set=name,
                    field_name="framesPerImage", expected=str(tilts),
                    actual=str(cat.frames_of(r)),
                ))
    return out


