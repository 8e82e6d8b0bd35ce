"""Volumes stored one slice per file: FIB-SEM, SBF-SEM and serial-section stacks.

Volume EM software (Atlas, Fiji, Amira, SBEMimage) writes a volume as ``slice_0000.tif``,
``slice_0001.tif``... one 2-D image per section, often with the z spacing in ImageJ metadata.
Read file by file that is N single-frame micrographs; as acquired it is **one volume of N
slices**. Both countings occur in released entries (EMPIAR counted 13192's 1,250 SBF-SEM slices
as 1,250 images of 1 frame), so ``scan`` derives the volume, and ``check`` and the metadata
accept either.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from empiar_validate.records import FileRecord

MIN_SLICES = 8  # fewer numbered images are a series of micrographs, not a volume
_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<index>\d+)(?P<suffix>(\.[A-Za-z0-9]+)+)$")
_VOLUME_WORDS = re.compile(r"slice|section|fib|sbf|sbem|serial|z\d|volume|stack", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SliceStack:
    """N numbered single-slice files forming one volume, its z spacing (Å) and the evidence."""

    count: int
    z_spacing: float | None
    evidence: str


def slice_stack(members: list[FileRecord]) -> SliceStack | None:
    """The volume ``members`` form, or ``None``: at least :data:`MIN_SLICES` single 2-D images
    of one format, size and voxel type, numbered without gaps under one name pattern, with a z
    spacing in their metadata or a name or directory that says slice/section/FIB/SBF."""
    if len(members) < MIN_SLICES or any(r.format is None for r in members):
        return None
    kinds = {(r.format, r.voxel_type, r.width, r.height, r.layout) for r in members}
    if len(kinds) != 1 or any((r.depth or 1) != 1 for r in members):
        return None
    patterns: set[tuple[str, str, str]] = set()
    indices: list[int] = []
    for r in members:
        m = _NUMBERED.match(posixpath.basename(r.path))
        if m is None:
            return None
        patterns.add((posixpath.dirname(r.path), m["prefix"], m["suffix"]))
        indices.append(int(m["index"]))
    first = min(indices)
    if len(patterns) != 1 or sorted(indices) != list(range(first, first + len(indices))):
        return None
    spacings = {r.extra.get("pixel_depth") for r in members}
    spacing = spacings.pop() if len(spacings) == 1 else None
    z = spacing if isinstance(spacing, int | float) else None
    directory, prefix, suffix = patterns.pop()
    if z is not None:
        why = f"{len(members)} numbered slices {prefix}N{suffix} with a z spacing of {z:g} Å"
    elif _VOLUME_WORDS.search(prefix) or _VOLUME_WORDS.search(directory):
        why = f"{len(members)} numbered slices {prefix}N{suffix} (the names say slices)"
    else:
        return None
    return SliceStack(len(members), z, why + ": one volume of that many slices")


def counts_fit(stack: SliceStack, num: object, frames: object) -> bool:
    """True for either counting of a slice stack: one volume of N slices, or (as EMPIAR has
    counted such stacks) N images of one frame."""
    return (str(num), str(frames)) in {("1", str(stack.count)), (str(stack.count), "1")}


def volume_note(stack: SliceStack) -> str:
    """The details sentence for a slice stack."""
    z = f", z spacing {stack.z_spacing / 10:g} nm" if stack.z_spacing else ""
    return f"One volume stored as {stack.count} single-slice files{z}."
