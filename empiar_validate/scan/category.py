"""Guess an image set's EMPIAR category, spot gain references, and say how a category counts.

A header says "96 x 80 x 8, uint8"; only the context says whether that is a movie, a tilt
series or a particle stack. The guess uses, in order: 3-D layout (volumes), tilt-series
companions and extensions, names (``particles``, ``class``, ``subtomo``, ``gain``...), then
shape. It is a guess: the metadata file overrides it, and ``docs/scan.md`` lists every rule.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Iterable

from empiar_validate.formats import split_extension
from empiar_validate.records import LAYOUT_IMAGE, LAYOUT_STACK, LAYOUT_VOLUME, FileRecord
from empiar_validate.scan.evidence import is_read_as_movie

SINGLE = "micrographs - single frame"
MOVIES = "micrographs - multiframe"
TILT_MICROGRAPHS = "micrographs - tilt series"
FOCAL_UNPROCESSED = "micrographs - focal pairs - unprocessed"
FOCAL_INVERTED = "micrographs - focal pairs - contrast inverted"
PARTICLES_SF_UNPROCESSED = "picked particles - single frame - unprocessed"
PARTICLES_MF_UNPROCESSED = "picked particles - multiframe - unprocessed"
PARTICLES = "picked particles - single frame - processed"
PARTICLES_MF = "picked particles - multiframe - processed"
TILT = "tilt series"
CLASSES = "class averages"
STITCHED = "stitched maps"
DIFFRACTION = "diffraction images"
VOLUMES = "reconstructed volumes"
SUBTOMOGRAMS = "subtomograms"

# Categories whose numImagesOrTiltSeries counts 2-D images inside files (every section of a
# stack is one particle or one class), not files; their framesPerImage is 1.
SECTION_COUNTED = frozenset({PARTICLES_SF_UNPROCESSED, PARTICLES, CLASSES})
# Categories whose files are 3-D volumes; everything else except tilt series is 2-D.
VOLUME_CATEGORIES = frozenset({VOLUMES, SUBTOMOGRAMS})
TILT_CATEGORIES = frozenset({TILT, TILT_MICROGRAPHS})
SINGLE_FRAME_CATEGORIES = frozenset({SINGLE, PARTICLES_SF_UNPROCESSED, PARTICLES})
MULTI_FRAME_CATEGORIES = frozenset({MOVIES, PARTICLES_MF_UNPROCESSED, PARTICLES_MF})
# Categories EMPIAR users identify by a micrographsFilePattern (as released headers do).
PATTERN_CATEGORIES = frozenset({
    SINGLE, MOVIES, TILT_MICROGRAPHS, FOCAL_UNPROCESSED, FOCAL_INVERTED, TILT, STITCHED,
    DIFFRACTION,
})

# Extensions IMOD gives tilt-series image stacks (raw, aligned, pre-aligned); not companions.
TILT_STACK_EXTENSIONS = (".st", ".ali", ".preali")
PARTICLE_BOX_MAX = 1024  # square stacks up to this size, not named otherwise, are particles

_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (SUBTOMOGRAMS, re.compile(r"subtomo")),
    (CLASSES, re.compile(r"class")),
    (PARTICLES, re.compile(r"particle|extract|ptcl|polish")),
    (TILT, re.compile(r"tilt|(^|[/_.\-])ts[_\-]?\d")),
)
_GAIN = re.compile(r"gain")
_ANY_HINT = re.compile(r"subtomo|class|particle|extract|ptcl|polish|tilt|ts[_\-]?\d")


def name_hint(rel_path: str) -> str | None:
    """The category a path's words suggest (``particles/`` -> particles, ``run_classes`` ->
    class averages), from the path relative to the dataset root, case-insensitive."""
    lower = rel_path.lower()
    if not _ANY_HINT.search(lower):  # the common case, one regex instead of four
        return None
    for category, pattern in _HINTS:
        if pattern.search(lower):
            return category
    return None


def is_volume(rec: FileRecord) -> bool:
    """A 3-D volume: layout says so, or a BigDataViewer dataset (always 3-D)."""
    return rec.layout == LAYOUT_VOLUME or rec.format == "BIG DATA VIEWER HDF5"


def frames_of(rec: FileRecord) -> int | None:
    """Sections in a file: movie frames, tilts, volume sections, particles; ``None`` when the
    reader could not establish them (a compressed movie whose IFD chain runs past the
    decompression budget). Unknown is never taken for 1: it is not compared and it never
    makes a file a single-frame micrograph."""
    return rec.depth if rec.depth and rec.depth > 0 else None


def _many(frames: int | None) -> bool:
    """More than one section, or not known (a partly walked stack has at least two)."""
    return frames is None or frames > 1


def file_category(rec: FileRecord, *, tilt_companion: bool = False) -> str | None:
    """The category one readable image file suggests on its own (see the module docstring),
    or ``None`` when it has no say: its frame count is unknown and nothing else decides."""
    ext = _plain_ext(rec.path)
    hint = name_hint(rec.path)
    frames = frames_of(rec)
    if is_volume(rec):
        return SUBTOMOGRAMS if hint == SUBTOMOGRAMS else VOLUMES
    if rec.format in ("SMV", "CBF") or rec.extra.get("series_frames"):
        return DIFFRACTION  # SMV frames and ZIP series of them: EMPIAR's diffraction images
    if tilt_companion or ext in TILT_STACK_EXTENSIONS or (hint == TILT and _many(frames)):
        return TILT
    if hint in (CLASSES, PARTICLES):
        return hint
    if rec.format == "EER":
        return MOVIES
    if rec.layout == LAYOUT_STACK and _many(frames):
        square_box = rec.width == rec.height and (rec.width or 0) <= PARTICLE_BOX_MAX
        if square_box and ext == ".mrcs":
            return PARTICLES
        return MOVIES
    if frames is None:
        return None  # unknown frames decide nothing (never "single frame")
    return SINGLE


def guess_category(records: Iterable[FileRecord], tilt_stems: set[str]) -> str:
    """The category of a group of files: the most common per-file guess (ties go to the first
    in EMPIAR's own order, which puts micrographs before particles)."""
    votes: Counter[str] = Counter()
    cache: dict[tuple[object, ...], str | None] = {}
    for rec in records:
        companion = bool(tilt_stems) and _stem(posixpath.basename(rec.path)) in tilt_stems
        # the guess depends on the path only through its hint and extension: one call per kind
        frames = frames_of(rec)
        key = (name_hint(rec.path), _plain_ext(rec.path), rec.format, rec.layout,
               frames if frames is None else frames > 1,
               rec.width == rec.height and (rec.width or 0) <= PARTICLE_BOX_MAX,
               companion, bool(rec.extra.get("series_frames")))
        if key in cache:
            guess = cache[key]
        else:
            guess = cache[key] = file_category(rec, tilt_companion=companion)
        if guess is not None:
            votes[guess] += 1
    if not votes:
        return SINGLE
    order = [SINGLE, MOVIES, TILT, PARTICLES, CLASSES, VOLUMES, SUBTOMOGRAMS, DIFFRACTION]
    return max(votes, key=lambda c: (votes[c], -order.index(c)))


def _plain_ext(path: str) -> str:
    """Lower-case extension without a compression suffix (cheaper than split_extension)."""
    lower = path.lower()
    if lower.endswith((".gz", ".bz2")):
        lower = lower.rpartition(".")[0]
    name = lower.rpartition("/")[2]
    dot = name.rfind(".")
    return name[dot:] if dot > 0 else ""


def _stem(name: str) -> str:
    from empiar_validate.scan.companions import tilt_stem

    return tilt_stem(name)


def gain_references(images: list[FileRecord]) -> list[FileRecord]:
    """The gain references among readable ``images`` (scan and check use the same rule):
    every file named like one, plus a single unnamed look-alike of the movies' shape (several
    look-alikes are sums or averages, not gains)."""
    movie_shapes = {(r.width or 0, r.height or 0) for r in images
                    if not is_volume(r) and (frames_of(r) or 0) > 1}
    named = [r for r in images if is_gain_reference(r, set())]
    named_ids = {id(r) for r in named}
    shaped = [r for r in images
              if id(r) not in named_ids and is_gain_reference(r, movie_shapes)]
    return named + (shaped if len(shaped) == 1 else [])


def gain_named(path: str) -> bool:
    """True for a name that says gain reference (``*gain*``, ``.gain``): all ``check`` can go
    by when the file's content is not present (an LFS pointer, an annex link)."""
    name = posixpath.basename(path).lower()
    return bool(_GAIN.search(name)) or split_extension(name)[0] == ".gain"


def is_gain_reference(rec: FileRecord, movie_shapes: set[tuple[int, int]]) -> bool:
    """A gain reference: a single 2-D image named ``*gain*`` (or ``.gain``), or an unnamed
    single float32 image with the movies' width and height (either orientation).

    ``movie_shapes`` holds (width, height) of multi-frame files in the same directory; the
    unnamed rule applies only when there are some (a float image among micrographs is not a
    gain reference).
    """
    if rec.format is None or is_volume(rec) or frames_of(rec) != 1:
        return False
    name = posixpath.basename(rec.path).lower()
    if _GAIN.search(name) or split_extension(name)[0] == ".gain":
        return True
    if rec.voxel_type != "32 BIT FLOAT" or not movie_shapes:
        return False
    shape = (rec.width or 0, rec.height or 0)
    return shape in movie_shapes or shape[::-1] in movie_shapes


def category_conflict(category: str, records: Iterable[FileRecord]) -> str | None:
    """Why ``category`` cannot describe these files (3-D files in a 2-D category, movies in a
    single-frame one...), or ``None``. Used to question a category the metadata gives."""
    recs = [r for r in records if r.format is not None]
    if not recs:
        return None
    volumes = sum(1 for r in recs if is_volume(r))
    if category in VOLUME_CATEGORIES and volumes == 0:
        from empiar_validate.scan.slices import slice_stack

        if slice_stack(recs) is not None:
            return None  # one volume stored one slice per file
        return "the files are 2-D images, not volumes"
    if category not in VOLUME_CATEGORIES and category not in TILT_CATEGORIES and volumes:
        return f"{volumes} of {len(recs)} files are 3-D volumes"
    movies = [r for r in recs if r.format == "EER" or is_read_as_movie(r)]
    if category in SECTION_COUNTED and movies:
        return f"{len(movies)} of {len(recs)} files are multi-frame movies"
    frames = Counter(f for r in recs if not is_volume(r) and (f := frames_of(r)) is not None)
    if category in MULTI_FRAME_CATEGORIES and frames and max(frames) == 1:
        return "every file holds a single frame"
    if category == SINGLE and frames and min(frames) > 1 and all(
        r.layout == LAYOUT_STACK for r in recs
    ):
        return f"the files are stacks of {min(frames)} or more frames"
    return None


def is_single_image(rec: FileRecord) -> bool:
    """A 2-D file with one section."""
    return rec.format is not None and not is_volume(rec) and (
        rec.layout == LAYOUT_IMAGE or frames_of(rec) == 1
    )
