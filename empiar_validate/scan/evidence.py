"""Evidence beyond one header: when a "volume" is a movie, and why an image set has its category.

Many writers put space group 1 (volume) on every 3-D MRC file: mrcfile's defaults, several
camera and processing programs. A header alone then calls a 40-frame 4096 x 4096 integer movie
a reconstructed volume. The file's name and directory (``*_fractions.mrc``, ``Movies/``,
``Frames/``, EPU's ``GridSquare_*/Data/``), its voxel type (integer camera counts, not a float
map) and its shape (a few sections on a detector-sized frame, not a cube or a tomogram) say
otherwise. :func:`interpret` applies that reading once, right after the headers are read, so
grouping, ``scan`` and ``check`` all see the same layout; the reasons travel with the record
(``extra["read_as_movie"]``) and end up in the image set's category evidence.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from empiar_validate.records import LAYOUT_STACK, LAYOUT_VOLUME, FileRecord

MOVIE_NAME = re.compile(r"fraction|movie|frames")
MOVIE_DIR = re.compile(
    r"(^|/)(movies?|frames|rawframes|raw_frames)(/|$)|(^|/)gridsquare_[^/]*/data$"
)
VOLUME_EXTENSIONS = (".rec", ".map", ".ccp4")  # the extension says volume: believe it
DETECTOR_MIN = 2048  # smallest frame edge taken as a camera's (K2, K3, Falcon, DE: all larger)
FEW_SECTIONS = 8  # a movie has at most edge / 8 frames; a tomogram or a map is deeper
EVIDENCE_KEY = "read_as_movie"


def movie_evidence(rec: FileRecord) -> list[str]:
    """Why a 3-D MRC file the header calls a volume is a movie (empty when it is not one).

    Names or directories decide on their own; otherwise integer data with few sections on a
    detector-sized frame does (a binned tomogram is smaller, an unbinned one deeper)."""
    if rec.format != "MRC" or rec.layout != LAYOUT_VOLUME or (rec.depth or 0) < 2:
        return []
    if "volume_count" in rec.extra or rec.path.lower().endswith(VOLUME_EXTENSIONS):
        return []
    lower = rec.path.lower()
    name, directory = posixpath.basename(lower), posixpath.dirname(lower)
    reasons = []
    if MOVIE_NAME.search(name):
        reasons.append(f"its name ({posixpath.basename(rec.path)}) says movie")
    if MOVIE_DIR.search(directory):
        reasons.append(f"it sits in a movie directory ({posixpath.dirname(rec.path)}/)")
    edge = min(rec.width or 0, rec.height or 0)
    integer = bool(rec.voxel_type) and "FLOAT" not in (rec.voxel_type or "")
    if integer and edge >= DETECTOR_MIN and (rec.depth or 0) * FEW_SECTIONS <= edge:
        reasons.append(f"{rec.depth} integer sections of {rec.width} x {rec.height} are camera "
                       "frames, not a map")
    return reasons


def interpret(records: Iterable[FileRecord]) -> None:
    """Read every 3-D MRC file that is a movie by the evidence as a stack of frames."""
    for rec in records:
        reasons = movie_evidence(rec)
        if reasons:
            rec.layout = LAYOUT_STACK
            rec.extra.pop("pixel_depth", None)  # frames have no section spacing
            rec.extra[EVIDENCE_KEY] = (f"space group {rec.extra.get('space_group')} says volume, "
                                       "but " + "; ".join(reasons))


def is_read_as_movie(rec: FileRecord) -> bool:
    """True when :func:`interpret` took the file for a movie."""
    return EVIDENCE_KEY in rec.extra
