"""Processing trees (RELION, CTFFIND, Gctf, Warp, cryoSPARC): by-products and STAR files.

A processing project holds images no depositor deposits as an image set of their own: CTF power
spectra (CTFFIND ``*_PS.mrc``/``.ctf``, Gctf ``.ctf``/``_ctf.mrc``) and thumbnails (Warp,
cryoSPARC). They are left out of the grouping and reported once (G117), unless the metadata
names their directory, which includes them; ``check`` leaves the same files out
(:func:`without_byproducts`). Particle stacks are described with the ``.star`` file in their
directory that lists them as ``pickedParticlesFilePattern``, found by reading the STAR file's
``_rlnImageName`` column (in the read stage, once). One above the stacks' directory (RELION's
``Extract/job*/particles.star``) is not linked: a file pattern starts with the set's
directory (S122).
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from dataclasses import dataclass

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.paths import READ_FLAGS
from empiar_validate.records import FileRecord

MAX_STAR_BYTES = 256 << 20  # read line by line; a particles.star of millions of rows is fine
MAX_STACKS = 1_000_000  # distinct stacks remembered per STAR file

_BYPRODUCT_NAME = re.compile(
    r"(_ps|_ctf|_ctffind\d*|_pow|_diag|_avrot|_thumb(nail)?(_@\dx)?)\.[a-z0-9]+(\.(gz|bz2))?$"
    r"|\.ctf$",
    re.IGNORECASE,
)
_BYPRODUCT_DIR = re.compile(r"(^|/)(ctffind\d*|gctf|thumbnails?|powerspectra)(/|$)",
                            re.IGNORECASE)

G_BYPRODUCTS = rule(
    "G117", Severity.INFO, "processing by-products left out (CTF power spectra, thumbnails)",
    "Nothing to do: they are not image sets. To deposit them anyway, give their directory an "
    "imagesets entry in the metadata file.",
)


@dataclass(frozen=True, slots=True)
class StarInfo:
    """The particle stacks a STAR file names (``_rlnImageName`` without the ``N@`` prefix)."""

    stacks: frozenset[str]


def is_byproduct(path: str) -> bool:
    """True for a CTF power spectrum or a thumbnail, by name or directory."""
    return bool(_BYPRODUCT_NAME.search(path) or _BYPRODUCT_DIR.search(posixpath.dirname(path)))


def without_byproducts(records: list[FileRecord]) -> list[FileRecord]:
    """``records`` without the by-products scan leaves out (:func:`is_byproduct`), so ``check``
    counts what scan counted when a pattern like ``Movies/*.mrc`` also matches the ``*_PS.mrc``
    beside them. When every record is one, the set describes them (its directory was named in
    the metadata) and they stay."""
    kept = [r for r in records if not is_byproduct(r.path)]
    return kept or records


def byproducts_finding(paths: list[str], show: object) -> Finding:
    """One G117 for every by-product left out, naming their directories."""
    dirs = sorted({posixpath.dirname(p) or "." for p in paths})
    listed = ", ".join(dirs[:5]) + (f" and {len(dirs) - 5} more" if len(dirs) > 5 else "")
    return Finding.of(G_BYPRODUCTS, f"{len(paths)} file(s) left out in {listed}",
                      file=show(dirs[0] if dirs[0] != "." else ""))  # type: ignore[operator]


def read_star(path: str) -> StarInfo | None:
    """The stacks a STAR file names, or ``None`` when it names none (or cannot be read)."""
    try:
        fd = os.open(path, READ_FLAGS)
        fh = os.fdopen(fd, "rb")
    except OSError:
        return None
    stacks: set[str] = set()
    with fh:
        try:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None
            column, labels, read = None, 0, 0
            for raw in fh:
                read += len(raw)
                if read > MAX_STAR_BYTES or len(stacks) >= MAX_STACKS:
                    break
                line = raw.decode("utf-8", "replace").strip()
                if not line or line.startswith("#"):
                    continue
                if line.startswith(("data_", "loop_")):
                    column, labels = None, 0
                    continue
                if line.startswith("_"):
                    labels += 1
                    if line.split()[0] == "_rlnImageName":
                        column = labels - 1
                    continue
                if column is not None:
                    fields = line.split()
                    if len(fields) > column:
                        stacks.add(fields[column].rpartition("@")[2].lstrip("./"))
        except OSError:
            return None
    return StarInfo(frozenset(stacks)) if stacks else None


def star_for(members: list[FileRecord], stars: dict[str, StarInfo]) -> str | None:
    """The one STAR file (path) naming these stacks, or ``None`` (none, or several)."""
    if not stars or not members:
        return None
    naming = sorted(p for p, info in stars.items() if _names_any(info, members))
    return naming[0] if len(naming) == 1 else None


def _names_any(info: StarInfo, members: list[FileRecord]) -> bool:
    by_name: dict[str, list[str]] = {}
    for ref in info.stacks:
        by_name.setdefault(posixpath.basename(ref), []).append(ref)
    for r in members:
        for ref in by_name.get(posixpath.basename(r.path), ()):
            if r.path == ref or r.path.endswith("/" + ref) or ref.endswith("/" + r.path):
                return True
    return False
