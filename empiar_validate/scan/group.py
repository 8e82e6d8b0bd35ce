"""Files -> image sets: by directory, then by kind, with every compromise reported.

EMPIAR describes a deposition as image sets, each one directory holding one kind of image
(``directory`` is unique in an entry). So the grouping is, in order (``docs/scan.md`` explains
why):

1. every image file belongs to its directory, or to the deepest directory the metadata names
   (``anchors``) that contains it;
2. sibling directories holding the same kind of image (same category, formats, voxel type,
   frames, width, height and pixel size) are merged into their parent, unless the parent is the
   dataset root or holds images itself (sessions or tilt series split into sub-directories);
3. gain references beside movies are companions of the movies, not images of the set;
4. a directory whose files differ in format, voxel type or 2-D/3-D is flagged (G104): the image
   set describes the largest kind and the others must move;
5. files of the set that disagree with it on frames are flagged (G103); differing width, height
   or pixel size become ``variable`` (G101, G102).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.model import VARIABLE, ImageSet
from empiar_validate.records import FileRecord
from empiar_validate.scan import category as cat
from empiar_validate.scan.companions import (
    companion_kind,
    has_image_extension,
    is_counted_image,
    tilt_stem,
)
from empiar_validate.scan.companions import tilt_infos as companion_tilts
from empiar_validate.scan.explain import explain_category
from empiar_validate.scan.globs import glob_escape
from empiar_validate.scan.patterns import file_ext, file_pattern, is_within
from empiar_validate.scan.processing import (
    StarInfo,
    byproducts_finding,
    is_byproduct,
    star_for,
)
from empiar_validate.scan.setvalues import (
    MAX_LISTED,
    apply_summary,
    listed_names,
    summary_findings,
)
from empiar_validate.scan.slices import slice_stack, volume_note
from empiar_validate.scan.tilts import G_TILT_COUNTS, per_tilt_series, tilt_checks, varying_tilts
from empiar_validate.scan.values import summarize

G_MIXED = rule(
    "G104", Severity.ERROR, "directory mixes kinds of image (format, voxel type or 2-D/3-D)",
    "EMPIAR describes one kind of image per directory: move the listed files into a directory "
    "of their own (it becomes its own image set).",
)
G_GAIN = rule(
    "G107", Severity.INFO, "gain reference described with the movies beside it",
    "Nothing to do; say in the metadata's details how the gain must be applied (rotation, flip).",
)
G_MERGED = rule(
    "G110", Severity.INFO, "sibling directories of the same kind merged into one image set",
    "To keep them apart, give each directory its own imagesets entry in the metadata file.",
)
G_UNCOVERED = rule(
    "G111", Severity.INFO, "files outside every image set",
    "Nothing to do if they are documentation; image files must sit in an image-set directory.",
)
G_NO_IMAGES = rule(
    "G113", Severity.ERROR, "no image files found",
    "Point scan at the directory holding the data (its contents become /data/ in the entry).",
)


@dataclass(slots=True)
class Bucket:
    """The files of one would-be image set before its values are derived."""

    rel_dir: str
    images: list[FileRecord] = field(default_factory=list)  # readable image files
    unread: list[FileRecord] = field(default_factory=list)  # image names without a readable header
    others: list[FileRecord] = field(default_factory=list)  # companions and anything else
    anchored: bool = False
    merged_from: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Grouping:
    """The outcome: image sets, findings about them, and files outside all of them."""

    image_sets: list[ImageSet]
    findings: list[Finding]
    uncovered: list[str]
    # directory (relative) -> the damaged image files in it, not counted (their errors say why)
    damaged: dict[str, list[str]] = field(default_factory=dict)


def data_directory(rel_dir: str) -> str:
    """The XML ``directory`` for a directory relative to the dataset root, in the one form scan
    writes (the released header's): ``/data/<rel>``, or ``/data`` itself for files directly in
    the data directory (as released entries 10002, 10318 and 10511 have them)."""
    return "/data/" + rel_dir if rel_dir else "/data"


def rel_directory(directory: str) -> str | None:
    """The inverse of :func:`data_directory` (``None`` when it is not ``/data`` or under it).

    The three spellings EMPIAR publishes name one directory: ``/data/x``, ``data/x`` (its
    API's) and either with a trailing slash; ``/data`` and ``data`` are the data directory.
    """
    text = directory.strip().rstrip("/")
    text = text[1:] if text.startswith("/") else text
    if text == "data":
        return ""
    if not text.startswith("data/") or text.startswith("data//"):
        return None
    return posixpath.normpath(text[len("data/"):]).lstrip("/")


def deepest(path: str, directories: Iterable[str]) -> str | None:
    """The deepest of ``directories`` containing ``path``'s directory."""
    if not directories:
        return None
    parent = path.rpartition("/")[0]
    best = None
    for d in directories:
        if is_within(parent, d) and (best is None or len(d) > len(best)):
            best = d
    return best


def group_records(
    records: list[FileRecord],
    *,
    anchors: Mapping[str, str | None] | None = None,
    show: Callable[[str], str] = str,
) -> Grouping:
    """Group walked records into image sets.

    Companions were parsed in the read stage (``record.companion``); nothing is read here.
    ``anchors`` maps the directories (relative) the metadata names to the category it gives
    them (or ``None``); ``show`` turns a relative path into the text a finding prints.
    """
    anchors = anchors or {}
    anchor_set = set(anchors)
    findings: list[Finding] = []
    buckets: dict[str, Bucket] = {}
    byproducts: list[str] = []
    damaged: dict[str, list[str]] = {}
    for rec in records:
        if not is_counted_image(rec):
            if rec.format is not None or has_image_extension(rec.path):
                home = deepest(rec.path, anchor_set) or rec.path.rpartition("/")[0]
                damaged.setdefault(home, []).append(rec.path)
            continue  # a corrupt or unreadable image file is never counted: its error says why
        home = deepest(rec.path, anchor_set)
        if home is None and is_byproduct(rec.path):
            byproducts.append(rec.path)  # power spectra, thumbnails: not an image set (G117)
            continue
        if home is None:
            home = rec.path.rpartition("/")[0]
        b = buckets.get(home)
        if b is None:
            b = buckets[home] = Bucket(home, anchored=home in anchor_set)
        (b.images if rec.format is not None else b.unread).append(rec)
    _merge_siblings(buckets)
    root_gains = _root_gains(buckets)
    # a directory the metadata names is an image-set directory even when none of its image
    # files could be counted (all damaged): what lies in it travels with it, as anywhere else
    dirs = [*buckets, *(a for a in anchor_set if a not in buckets)]
    uncovered: list[str] = []
    for rec in records:
        if rec.format is not None or has_image_extension(rec.path):
            continue
        home = deepest(rec.path, dirs)
        if home is None:
            uncovered.append(rec.path)
        elif home in buckets:
            buckets[home].others.append(rec)
    image_sets = []
    for rel in sorted(buckets):
        b = buckets[rel]
        s, found = build_image_set(b, show=show, category=anchors.get(rel))
        image_sets.append(s)
        findings.extend(found)
        if b.merged_from:
            findings.append(Finding.of(
                G_MERGED,
                f"{len(b.merged_from)} directories of the same kind described as one image set: "
                + ", ".join(b.merged_from[:MAX_LISTED])
                + (" ..." if len(b.merged_from) > MAX_LISTED else ""),
                file=show(rel), image_set=s.name,
            ))
    if root_gains:
        findings.extend(_attach_root_gains(root_gains, image_sets, show))
    if byproducts:
        findings.append(byproducts_finding(byproducts, show))
    uncovered = _link_stars(records, image_sets, uncovered)
    if not image_sets:
        findings.append(Finding.of(G_NO_IMAGES, "no image files in the dataset", file=show("")))
    if uncovered:
        by_dir: dict[str, list[str]] = {}
        for path in uncovered:
            by_dir.setdefault(posixpath.dirname(path), []).append(path)
        for d, paths in sorted(by_dir.items()):
            findings.append(Finding.of(
                G_UNCOVERED,
                f"{len(paths)} file(s) outside every image set: "
                + listed_names(paths),
                file=show(d),
            ))
    return Grouping(image_sets, findings, sorted(uncovered),
                    {d: sorted(paths) for d, paths in damaged.items()})


# --------------------------------------------------------------------------- sibling merge


def _signature(b: Bucket) -> tuple[object, ...] | None:
    """What must be equal for directories to merge; ``None`` if the bucket is not clean.

    Gain references are left out: a gain file in one of several grid squares travels with the
    movies as a companion and must not keep the squares apart (EPU puts it in one of them)."""
    if b.anchored or b.unread or not b.images:
        return None
    gains = {id(r) for r in cat.gain_references(b.images)}
    images = [r for r in b.images if id(r) not in gains]
    if not images:
        return None
    kinds = {(r.format, r.voxel_type, cat.is_volume(r)) for r in images}
    if len(kinds) != 1:
        return None
    category = cat.guess_category(images, set())
    s = summarize(category, images)
    if s.outliers or VARIABLE in (s.width, s.height, s.pixel_width, s.pixel_height):
        return None
    depth = {r.path.count("/") for r in images}
    return (category, s.frames, s.voxel_type, s.data_format, s.header_format, s.width, s.height,
            round(s.pixel_width, 4) if isinstance(s.pixel_width, float) else s.pixel_width,
            tuple(depth))


def _merge_siblings(buckets: dict[str, Bucket]) -> None:
    """Merge clean buckets of one signature into their deepest common directory that holds
    nothing else (see the module docstring); never into the dataset root."""
    for _ in range(64):  # each pass merges one directory; bounded like the walk's depth
        ancestors = {a for rel in buckets for a in _ancestors(rel)}
        for parent in sorted(ancestors, key=lambda d: (-d.count("/"), d)):
            # A parent holding only a gain reference (EPU: movies/gain.mrc beside
            # movies/GridSquare_*/Data/) still takes the movies below; the gain travels along.
            gain_parent = parent in buckets and _gain_only(buckets[parent])
            if parent in buckets and not gain_parent:
                continue
            below = sorted(d for d in buckets if d != parent and is_within(d, parent))
            if len(below) < 2:
                continue
            sigs = {_signature(buckets[d]) for d in below}
            if len(sigs) != 1 or None in sigs:
                continue
            new = buckets.pop(parent) if gain_parent else Bucket(parent)
            for d in below:
                old = buckets.pop(d)
                new.images.extend(old.images)
                new.merged_from.extend(old.merged_from or [d])
            new.images.sort(key=lambda r: r.path)
            buckets[parent] = new
            break
        else:
            return


def _link_stars(
    records: list[FileRecord], image_sets: list[ImageSet], uncovered: list[str]
) -> list[str]:
    """Particle and class sets without a STAR file of their own get the one inside their
    directory that names their stacks; it is then covered. A STAR file above the stacks (RELION
    keeps particles.star above Extract/job*/Movies/) is not linked: a file pattern starts with
    the set's directory (S122, as released headers write it), so it stays a file outside every
    image set (G111) instead of a pattern scan's own Schematron rejects."""
    stars = {r.path: r.companion for r in records if isinstance(r.companion, StarInfo)}
    if not stars:
        return uncovered
    used = set()
    for s in image_sets:
        if s.category in cat.SECTION_COUNTED and not s.picked_particles_file_pattern:
            inside = {p: i for p, i in stars.items() if is_within(p, s.rel_dir)}
            star = star_for(s.files, inside)
            if star is not None:
                s.picked_particles_file_pattern = "data/" + glob_escape(star)
                s.companions = sorted({*s.companions, star})
                used.add(star)
    return [p for p in uncovered if p not in used]


def _root_gains(buckets: dict[str, Bucket]) -> list[FileRecord]:
    """Gain references alone in the dataset root, taken out of the buckets when there are
    movies elsewhere to describe them with (a gain is not an image set of its own, and the
    root is not an image-set directory)."""
    b = buckets.get("")
    if b is None or not _gain_only(b) or len(buckets) == 1:
        return []
    del buckets[""]
    return b.images


def _attach_root_gains(
    gains: list[FileRecord], image_sets: list[ImageSet], show: Callable[[str], str]
) -> list[Finding]:
    """Root gain references described with the movie image sets (G107), as any gain is."""
    movies = [s for s in image_sets if s.category in cat.MULTI_FRAME_CATEGORIES
              or (s.category in cat.TILT_CATEGORIES and (s.frames_per_image or 1) > 1)]
    names = listed_names(_paths(gains))
    for s in movies or image_sets:
        s.companions = sorted(s.companions + _paths(gains))
        text = f"Gain reference at the dataset root (not counted): {names}."
        s.details = f"{s.details}\n\n{text}" if s.details else text
    described = ", ".join(s.name for s in (movies or image_sets)[:MAX_LISTED])
    return [Finding.of(G_GAIN, f"{names} at the dataset root treated as gain reference(s) of "
                       f"{described}", file=show(""))]


def _gain_only(b: Bucket) -> bool:
    """True when a bucket holds gain references and nothing else."""
    return bool(b.images) and not b.unread and len(cat.gain_references(b.images)) == len(b.images)


def _ancestors(rel: str) -> list[str]:
    """Proper ancestors of a relative directory, the dataset root excluded."""
    parts = rel.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


# --------------------------------------------------------------------------- one image set


def build_image_set(
    b: Bucket, *, show: Callable[[str], str] = str, category: str | None = None
) -> tuple[ImageSet, list[Finding]]:
    """Derive one image set from a bucket: gain references, kinds, category, values, pattern.

    ``category`` is the metadata's; without it the category is guessed.
    """
    gains, rest, gain_only = _split_gains(b.images, bool(b.unread))
    kinds = _split_kinds(rest, b.unread)
    members = kinds.members
    tilt_infos = companion_tilts(b.others)
    series = per_tilt_series(members, tilt_infos)
    given = category is not None
    if category is None:
        if gain_only:
            category = cat.SINGLE
        elif series is not None:
            category = cat.TILT
        elif kinds.main:
            tilt_stems = {tilt_stem(posixpath.basename(p)) for p in tilt_infos}
            category = cat.guess_category(kinds.main, tilt_stems)
        else:
            category = _absent_category(members)
    if category not in cat.TILT_CATEGORIES:
        series = None
    stack = slice_stack(members) if kinds.main and not gain_only else None
    if stack is not None and not given and category == cat.SINGLE:
        category = cat.VOLUMES  # one volume stored one slice per file (FIB-SEM, SBF-SEM)
    summary = summarize(category, members, series=series)
    notes = []
    if stack is not None and category in cat.VOLUME_CATEGORIES:
        summary.num, summary.frames = 1, stack.count
        summary.outliers.pop("framesPerImage", None)
        notes.append(volume_note(stack))
    elif category in cat.TILT_CATEGORIES and series is None:
        notes.extend(varying_tilts(summary, members))

    name = _derived_name(category, b.rel_dir, gain_only)
    s = ImageSet(name=name, directory=data_directory(b.rel_dir), rel_dir=b.rel_dir,
                 category=category, files=members)
    apply_summary(s, summary)
    s.companions = sorted(
        [r.path for r in b.others if companion_kind(r.path)] + [r.path for r in gains]
    )
    s.evidence = explain_category(category, given=given, members=members, gains=len(gains),
                                  series=series, companions=s.companions)
    findings: list[Finding] = []
    if stack is not None and category in cat.VOLUME_CATEGORIES:
        s.slices = stack.count
        s.evidence.insert(1, stack.evidence)
    if notes:
        s.details = " ".join(notes)
        if category in cat.TILT_CATEGORIES:
            findings.append(Finding.of(G_TILT_COUNTS, notes[0], file=show(b.rel_dir),
                                       image_set=name, field_name="framesPerImage"))
    if gain_only:
        s.details = "Gain reference" + ("s" if len(members) > 1 else "") + (
            " for the movies of this dataset (EMPIAR has no gain-reference category)."
        )
    elif gains:
        where = ("in this directory" if all(posixpath.dirname(r.path) == b.rel_dir for r in gains)
                 else "with these movies")
        s.details = f"Gain reference {where} (not counted): {listed_names(_paths(gains))}."
        findings.append(Finding.of(
            G_GAIN, f"{listed_names(_paths(gains))} treated as gain reference(s) of the "
            f"{len(members)} files beside it", file=show(b.rel_dir), image_set=name,
        ))
    _set_patterns(s, b, _paths(gains) + _paths(kinds.left_out))
    findings.extend(summary_findings(s, summary, show))
    if kinds.left_out:
        findings.append(_mixed_finding(s, kinds, show))
    if category in cat.TILT_CATEGORIES and series is None:
        findings.extend(tilt_checks(members, tilt_infos, show, name))
    return s, findings


def _paths(records: list[FileRecord]) -> list[str]:
    return [r.path for r in records]


def _split_gains(
    images: list[FileRecord], has_unread: bool
) -> tuple[list[FileRecord], list[FileRecord], bool]:
    """(gain references, other images, whether the directory holds gain references only)."""
    gains = cat.gain_references(images)
    gain_ids = {id(r) for r in gains}
    rest = [r for r in images if id(r) not in gain_ids]
    if not rest and not has_unread:
        return [], gains, True
    return gains, rest, False


@dataclass(slots=True)
class _Kinds:
    """The files of a directory by kind: the largest kind (``main``), the image set's
    ``members`` (main plus unreadable files with its extensions), and the files ``left_out``
    with the groups they form."""

    main: list[FileRecord]
    members: list[FileRecord]
    groups: list[list[FileRecord]]
    unread_left_out: list[FileRecord]

    @property
    def left_out(self) -> list[FileRecord]:
        return [r for g in self.groups for r in g] + self.unread_left_out


def _split_kinds(rest: list[FileRecord], unread: list[FileRecord]) -> _Kinds:
    kinds: dict[tuple[str, str, bool], list[FileRecord]] = {}
    for r in rest:
        kinds.setdefault((r.format or "", r.voxel_type or "", cat.is_volume(r)), []).append(r)
    ordered = [g for _, g in sorted(kinds.items(), key=lambda kv: (-len(kv[1]), kv[0]))]
    main = ordered[0] if ordered else []
    main_exts = {file_ext(r.path) for r in main} if unread and main else set()
    unread_main = [r for r in unread if not main or file_ext(r.path) in main_exts]
    main_ids = {id(r) for r in unread_main}
    return _Kinds(main, sorted(main + unread_main, key=lambda r: r.path), ordered[1:],
                  [r for r in unread if id(r) not in main_ids])


def _set_patterns(s: ImageSet, b: Bucket, excluded: list[str]) -> None:
    """micrographsFilePattern for micrograph-like sets, pickedParticlesFilePattern for
    particle and class sets with STAR files."""
    if s.category in cat.PATTERN_CATEGORIES and s.files:
        s.micrographs_file_pattern = file_pattern(
            b.rel_dir, _paths(s.files), _paths(b.others) + excluded
        )
    if s.category in cat.SECTION_COUNTED:
        stars = [r.path for r in b.others if r.path.lower().endswith(".star")]
        if len(stars) == 1:  # "the path to such a file if there is just one"
            s.picked_particles_file_pattern = "data/" + stars[0]
        elif stars:
            not_stars = [r.path for r in b.others if not r.path.lower().endswith(".star")]
            s.picked_particles_file_pattern = file_pattern(
                b.rel_dir, stars, not_stars + _paths(b.images + b.unread)
            )


def _mixed_finding(s: ImageSet, kinds: _Kinds, show: Callable[[str], str]) -> Finding:
    main_kind = _kind_text(kinds.main[0]) if kinds.main else "unreadable"
    parts = [f"{len(g)} {_kind_text(g[0])} ({listed_names(_paths(g))})" for g in kinds.groups]
    if kinds.unread_left_out:
        parts.append(f"{len(kinds.unread_left_out)} unreadable "
                     f"({listed_names(_paths(kinds.unread_left_out))})")
    return Finding.of(
        G_MIXED, f"the image set describes {len(kinds.members)} {main_kind} file(s); not "
        "included: " + "; ".join(parts), file=show(s.rel_dir), image_set=s.name,
    )


# --------------------------------------------------------------------------- helpers


def _kind_text(r: FileRecord) -> str:
    dims = "3-D" if cat.is_volume(r) else "2-D"
    return f"{r.format} {r.voxel_type or '?'} {dims}"


def _derived_name(category: str, rel_dir: str, gain_only: bool) -> str:
    what = "Gain reference" if gain_only else category[0].upper() + category[1:]
    return f"{what} ({rel_dir or 'data'})"


def _absent_category(members: list[FileRecord]) -> str:
    """Category for files none of which can be read: names only."""
    hints = {cat.name_hint(r.path) for r in members} - {None}
    if len(hints) == 1:
        return hints.pop()  # type: ignore[return-value]
    exts = {file_ext(r.path) for r in members}
    if exts & {".eer", ".tif", ".tiff", ".tif.bz2", ".tiff.bz2"}:
        return cat.MOVIES
    return cat.SINGLE
