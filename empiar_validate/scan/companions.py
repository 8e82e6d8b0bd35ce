"""Files that travel with image files: tilt angles, SerialEM .mdoc, STAR, XML, DVC pointers.

They are not images, but they say things the images do not: how many tilts a series has (to
check against the stack), which files a DVC repository tracks but has not fetched, which files
git-annex holds and how big they are. Every reader here is bounded (files larger than
:data:`MAX_TEXT_BYTES` are not parsed) and returns problems instead of raising.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.formats import EXTENSIONS, F_NOT_PRESENT, split_extension
from empiar_validate.paths import READ_FLAGS
from empiar_validate.records import FileRecord

MAX_TEXT_BYTES = 4 << 20  # a 4 MiB .mdoc is ~30,000 tilts; anything larger is not a companion

COMPANION_KINDS: dict[str, str] = {
    ".mdoc": "mdoc",
    ".rawtlt": "tilt angles",
    ".tlt": "tilt angles",
    ".star": "star",
    ".xml": "xml",
    ".dvc": "dvc",
}
# Companion files that list a tilt series' tilts (SerialEM .mdoc, IMOD .rawtlt/.tlt).
TILT_COMPANION_EXTENSIONS = (".mdoc", ".rawtlt", ".tlt")

G_DVC_BAD = rule(
    "G108", Severity.WARNING, "DVC pointer file cannot be read",
    "Fix the .dvc file (YAML with `outs: [{md5, size, path}]`) or regenerate it with `dvc add`.",
)
G_DVC_DIR = rule(
    "G109", Severity.WARNING, "DVC-tracked directory not present: its files cannot be counted",
    "Run `dvc pull` so the directory's files can be checked.",
)


@dataclass(slots=True)
class DvcOut:
    """One ``outs`` entry of a ``.dvc`` pointer: the tracked path (relative to the dataset root),
    its size in bytes if recorded, and whether it is a directory (md5 ending in ``.dir``)."""

    path: str
    size: int | None
    is_dir: bool


@dataclass(slots=True)
class TiltInfo:
    """What a tilt companion says, read once in the read stage: the number of tilts (angles or
    ``[ZValue]`` sections), for per-tilt layouts the frame files an .mdoc names
    (``SubFramePath`` basenames), the .mdoc's per-tilt acquisition values, and why an .mdoc
    could not be read (``error``; the scan reports it where the values would be used)."""

    tilts: int | None = None
    subframes: list[str] = field(default_factory=list)
    acquisition: list[dict[str, object]] = field(default_factory=list)
    error: str | None = None


def companion_kind(name: str) -> str | None:
    """``mdoc``, ``tilt angles``, ``star``, ``xml`` or ``dvc`` for a companion file name."""
    ext, _ = split_extension(name)
    return COMPANION_KINDS.get(ext)


def has_image_extension(name: str) -> bool:
    """True when the name says image file (``.mrc``, ``.tiff.bz2``...)."""
    ext, _ = split_extension(name)
    return ext in EXTENSIONS


def _read_text(path: str) -> str | None:
    """UTF-8 text of a small regular file; ``None`` if it is not one (a FIFO must not block)."""
    try:
        fd = os.open(path, READ_FLAGS)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None
            data = fh.read(MAX_TEXT_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_TEXT_BYTES:
        return None
    return data.decode("utf-8", errors="replace")


def read_tilt_info(path: str) -> TiltInfo:
    """Tilts in a ``.mdoc`` (its image sections) or ``.rawtlt``/``.tlt`` (one angle per
    non-empty line). Unreadable or oversized files give an empty :class:`TiltInfo`."""
    if path.lower().endswith(".mdoc"):
        from empiar_validate.mdoc import MdocError, mdoc_acquisition, read_mdoc

        try:
            doc = read_mdoc(path)
        except (OSError, MdocError) as exc:
            text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return TiltInfo(error=text)
        frames = []
        for section in doc.images:
            sub = section.values.get("SubFramePath")
            if sub:
                frames.append(sub.replace("\\", "/").rsplit("/", 1)[-1])
        return TiltInfo(len(doc.images), sorted(frames), mdoc_acquisition(doc))
    text = _read_text(path)
    if text is None:
        return TiltInfo()
    count = 0
    for line in text.splitlines():
        token = line.strip()
        if not token:
            continue
        try:
            float(token.split()[0])
        except ValueError:
            return TiltInfo()  # not a tilt file after all
        count += 1
    return TiltInfo(count)


_STEM_SUFFIXES = frozenset((*TILT_COMPANION_EXTENSIONS, *EXTENSIONS, ".gz", ".bz2"))


def read_companions(root: str, records: list[FileRecord]) -> None:
    """The read stage for companions: parse every tilt companion and STAR file once into its
    record (``record.companion``), so grouping, acquisition details and ``check`` never open it
    again; EPU .xml sidecars give their movies a pixel size the movie header lacks."""
    from empiar_validate.scan.epu import fill_from_sidecars
    from empiar_validate.scan.processing import read_star

    for rec in records:
        lower = rec.path.lower()
        if lower.endswith(TILT_COMPANION_EXTENSIONS):
            rec.companion = read_tilt_info(os.path.join(root, rec.path))
        elif lower.endswith(".star"):
            rec.companion = read_star(os.path.join(root, rec.path))
    fill_from_sidecars(root, records)  # EPU .xml: pixel size for movies that lack one


def tilt_infos(records: list[FileRecord]) -> dict[str, TiltInfo]:
    """The parsed tilt companions among ``records``, by path."""
    return {r.path: r.companion for r in records if isinstance(r.companion, TiltInfo)}


def tilt_stem(name: str) -> str:
    """The image name a tilt companion belongs to: ``TS_01.mrc.mdoc`` and ``TS_01.rawtlt``
    both give ``TS_01``."""
    base = name
    for _ in range(3):  # strip at most companion + image + compression suffixes
        stem, ext = posixpath.splitext(base)
        if not ext or ext.lower() not in _STEM_SUFFIXES:
            break
        base = stem
    return base


def read_dvc(path: str, rel: str, shown: str) -> tuple[list[DvcOut], list[Finding]]:
    """The outputs a ``.dvc`` pointer tracks, as paths relative to the dataset root.

    ``rel`` is the pointer's own path relative to the root (outputs are relative to its
    directory); outputs that would leave the dataset are ignored with a finding.
    """
    import yaml

    text = _read_text(path)
    if text is None:
        return [], [Finding.of(G_DVC_BAD, "unreadable or larger than 4 MiB", file=shown)]
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [], [Finding.of(G_DVC_BAD, f"not valid YAML: {getattr(exc, 'problem', exc)}",
                               file=shown, line=mark.line + 1 if mark else None)]
    outs = doc.get("outs") if isinstance(doc, dict) else None
    if not isinstance(outs, list):
        return [], [Finding.of(G_DVC_BAD, "no `outs` list", file=shown)]
    found: list[DvcOut] = []
    problems: list[Finding] = []
    base = posixpath.dirname(rel)
    for out in outs[:10000]:
        if not isinstance(out, dict) or not isinstance(out.get("path"), str):
            problems.append(Finding.of(G_DVC_BAD, "an `outs` entry has no `path`", file=shown))
            continue
        target = posixpath.normpath(posixpath.join(base, out["path"]))
        if target.startswith("../") or target == ".." or posixpath.isabs(target):
            problems.append(Finding.of(
                G_DVC_BAD, f"output {out['path']!r} lies outside the dataset; ignored", file=shown
            ))
            continue
        size = out.get("size")
        md5 = str(out.get("md5") or "")
        found.append(DvcOut(
            target, size if isinstance(size, int) and size >= 0 else None,
            md5.endswith(".dir") or bool(out.get("nfiles")),
        ))
    return found, problems


def dvc_placeholders(
    root: str, records: list[FileRecord], show: Callable[[str], str]
) -> tuple[list[FileRecord], list[Finding]]:
    """Records for files a ``.dvc`` pointer tracks but the working tree lacks.

    A placeholder has ``format=None``, the recorded size, and an F008 "content not present"
    problem, exactly like a git-annex link whose object is missing, so grouping and ``check``
    count it by name. ``show`` turns a relative path into the path findings print.
    """
    present = {r.path for r in records}
    out: list[FileRecord] = []
    findings: list[Finding] = []
    for rec in records:
        if not rec.path.lower().endswith(".dvc") or rec.problems:
            continue
        outs, problems = read_dvc(os.path.join(root, rec.path), rec.path, show(rec.path))
        findings.extend(problems)
        for dvc in outs:
            if dvc.path in present or os.path.lexists(os.path.join(root, dvc.path)):
                continue
            display = show(dvc.path)
            if dvc.is_dir:
                findings.append(Finding.of(
                    G_DVC_DIR, f"directory tracked by {posixpath.basename(rec.path)} is absent",
                    file=display,
                ))
                continue
            present.add(dvc.path)
            out.append(FileRecord(
                path=dvc.path, size=dvc.size,
                problems=[Finding.of(
                    F_NOT_PRESENT,
                    f"DVC content not present (tracked by {posixpath.basename(rec.path)})",
                    file=display,
                )],
                extra={"dvc": True},
            ))
    return sorted(out, key=lambda r: r.path), findings


_ANNEX_SIZE = re.compile(r"-s(\d+)(?:-|--)")


def annex_size(path: str) -> int | None:
    """The size recorded in a git-annex key (``SHA256E-s1234--...``) a link points to."""
    try:
        target = os.readlink(path)
    except OSError:
        return None
    if "annex/objects/" not in target:
        return None
    m = _ANNEX_SIZE.search(posixpath.basename(target))
    return int(m.group(1)) if m else None


def is_not_present(record: FileRecord) -> bool:
    """True for a git-annex/DataLad/DVC placeholder whose content has not been fetched."""
    return any(p.rule == F_NOT_PRESENT.id for p in record.problems)


def is_counted_image(record: FileRecord) -> bool:
    """True for an image file scan and check count: a readable image, or an absent annex/DVC
    placeholder. A file whose header could not be read (an error, and no image size: a
    truncated MRC) is never counted, so it is neither a second kind of image (G104) nor an
    uncovered one (C117): its own error (F100...) says why, once."""
    if record.format is None:
        return has_image_extension(record.path) and is_not_present(record)
    return record.ok or record.width is not None
