"""Layout and deposition advice: what makes a transfer fail, and what EMPIAR's FAQ asks for.

Two kinds of finding. Layout: names Aspera, Globus and EMPIAR's file browser handle badly,
empty files, links out of the dataset, hidden files, files too large for EMPIAR's HTTP
tarballs. Content, after the FAQ's "What cryo-EM data to deposit?": raw movies, a gain
reference with its orientation described, particle stacks and STAR files. Mostly warnings and
information: the depositor decides, the tool makes sure the decision is not an accident.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.model import ImageSet
from empiar_validate.package.inventory import DatasetFile
from empiar_validate.package.plan import human_size
from empiar_validate.paths import display_path, is_inside

HTTP_TARBALL_LIMIT = 1_500_000_000  # EMPIAR's FAQ: http tarballs only work below 1.5 GB
SAFE_NAME = re.compile(r"[A-Za-z0-9._-]+")

P_UNSAFE_NAME = rule(
    "P101", Severity.WARNING, "name unsafe for Aspera/Globus transfers",
    "Rename it using only letters, digits, '.', '_' and '-' (no spaces); update any file that "
    "refers to it (STAR files, metadata).",
)
P_UNPRINTABLE_NAME = rule(
    "P102", Severity.ERROR, "name has control characters or bytes that are not UTF-8",
    "Rename it: such names break transfers, checksum lists and the entry XML.",
)
P_EMPTY = rule(
    "P103", Severity.WARNING, "empty file",
    "Remove it, or replace it with the file it should be (an interrupted copy?).",
)
P_LINK_OUTSIDE = rule(
    "P104", Severity.WARNING, "symbolic link leads outside the dataset directory",
    "Copy the target into the dataset (or deposit it separately): transfer tools may copy, "
    "skip or refuse links.",
)
P_LARGE = rule(
    "P105", Severity.INFO, "files over 1.5 GB",
    "Nothing to fix: EMPIAR serves such files by Aspera, Globus and FTP, but its HTTP tarball "
    "download only works below 1.5 GB.",
)
P_HIDDEN = rule(
    "P106", Severity.INFO, "hidden files are not checked or checksummed",
    "Remove them before the upload (ascp and Globus send them too), or rename them if they "
    "belong to the deposition.",
)
P_NO_MOVIES = rule(
    "P110", Severity.WARNING, "no raw movies (multi-frame micrographs)",
    "EMPIAR recommends depositing the rawest form of the data: unaligned multi-frame movies "
    "give the best chance of re-processing. Add them, or say in the details why not.",
)
P_NO_GAIN = rule(
    "P111", Severity.WARNING, "movies look uncorrected but no gain reference was found",
    "Deposit the gain reference (e.g. CountRef*.dm4, *gain*.mrc, EER .gain) with the movies "
    "and describe its orientation in the image set's details.",
)
P_GAIN_ORIENTATION = rule(
    "P112", Severity.WARNING, "gain reference orientation not described",
    "Say in the movies' image set details how the gain reference must be rotated or flipped "
    "to match the movies (e.g. 'rotate 90° clockwise, flip in Y', or 'applies as is').",
)
P_NO_PARTICLES = rule(
    "P113", Severity.INFO, "no particle stacks",
    "Consider adding the particle stacks: they allow the closest reproduction and suit "
    "flexibility analysis.",
)
P_NO_STAR = rule(
    "P114", Severity.INFO, "no STAR files",
    "Consider adding STAR files for all reasonable particles and the final STAR file of each "
    "class (with angles and alignments).",
)

_GAIN_NAME = re.compile(r"gain|countref|superref", re.IGNORECASE)
_GAIN_EXT = (".mrc", ".tif", ".tiff", ".dm4", ".dm3", ".gain", ".mrcs")
_ORIENTATION = re.compile(r"orient|rotat|flip|mirror|transpos|as[ -]is", re.IGNORECASE)
_GAIN_APPLIED = re.compile(r"gain[- ]?(corrected|normali[sz]ed|applied)", re.IGNORECASE)
_UNCORRECTED_TYPES = {"BIT", "4 BIT INTEGER", "UNSIGNED BYTE", "SIGNED BYTE",
                      "UNSIGNED 16 BIT INTEGER", "SIGNED 16 BIT INTEGER"}
_CRYO_CATEGORY = re.compile(r"^(micrographs|picked particles|tilt series|class averages)")
_EXTRACTED = "by empiar-validate:"


# --- layout ----------------------------------------------------------------------------------

def name_problem(name: str) -> tuple[object, str] | None:
    """The rule and message for one path component, or ``None`` when it is safe."""
    raw = os.fsencode(name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return P_UNPRINTABLE_NAME, "name is not valid UTF-8"
    bad = sorted({ch for ch in text if not ch.isprintable()})
    if bad:
        shown = ", ".join(f"U+{ord(c):04X}" for c in bad)
        return P_UNPRINTABLE_NAME, f"name has control characters ({shown})"
    if SAFE_NAME.fullmatch(text):
        return None
    odd = sorted({ch for ch in text if not SAFE_NAME.fullmatch(ch)})
    shown = ", ".join("space" if c == " " else repr(c) for c in odd[:10])
    return P_UNSAFE_NAME, f"name has characters outside A-Z a-z 0-9 . _ - ({shown})"


def layout_advice(
    root: str, files: Sequence[DatasetFile], *, scanned: Collection[str] = frozenset(),
) -> list[Finding]:
    """Names, empty files, outward links, large files and hidden files (one finding per name).

    ``scanned`` holds the (display) paths the scan's read stage already read: an empty one
    among them is the scan's to report (F005), so it is not reported again here (P103 is for
    the files only the bundle sees)."""
    findings: list[Finding] = []
    seen_dirs: set[str] = set()
    hidden: dict[str, int] = defaultdict(int)
    hidden_dirs: set[str] = set()
    large: dict[str, list[DatasetFile]] = defaultdict(list)
    real_root = os.path.realpath(root)
    link_cache: dict[str, str | None] = {}
    for f in files:
        parts = f.rel.split("/")
        if f.hidden:
            first = next(i for i, p in enumerate(parts) if p.startswith("."))
            hidden["/".join(parts[: first + 1])] += 1
            if first < len(parts) - 1:
                hidden_dirs.add("/".join(parts[: first + 1]))
            continue
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            if prefix not in seen_dirs:
                seen_dirs.add(prefix)
                found = name_problem(parts[depth - 1])
                if found:
                    findings.append(Finding.of(found[0], found[1], file=display_path(prefix)))  # type: ignore[arg-type]
        found = name_problem(parts[-1])
        if found:
            findings.append(Finding.of(found[0], found[1], file=f.display))  # type: ignore[arg-type]
        outside = _outward_link(root, real_root, parts, link_cache)
        if outside is not None:
            link, target = outside
            findings.append(Finding.of(
                P_LINK_OUTSIDE, f"link to {display_path(target)}", file=display_path(link)))
        if f.regular and f.size == 0 and f.display not in scanned:
            findings.append(Finding.of(P_EMPTY, "file is empty", file=f.display))
        if f.size is not None and f.size > HTTP_TARBALL_LIMIT:
            large["/".join(parts[:-1]) or "."].append(f)
    for directory, group in sorted(large.items()):
        biggest = max(group, key=lambda g: (g.size or 0, g.rel))
        findings.append(Finding.of(
            P_LARGE, f"{len(group)} file(s) over 1.5 GB (largest {human_size(biggest.size or 0)}: "
                     f"{display_path(os.path.basename(biggest.rel))}); downloaders will need "
                     "Aspera, Globus or FTP for them", file=display_path(directory)))
    for prefix, count in sorted(hidden.items()):
        findings.append(Finding.of(
            P_HIDDEN, f"hidden directory with {count} file(s) is left out of the checks and "
                      "checksum lists" if prefix in hidden_dirs else
                      "hidden file is left out of the checks and checksum lists",
            file=display_path(prefix)))
    # one finding per link: a linked directory's files all report the same link
    unique: dict[tuple[str, str | None], Finding] = {}
    for f_ in findings:
        unique.setdefault((f_.rule, f_.file), f_)
    return list(unique.values())


def _outward_link(
    root: str, real_root: str, parts: list[str], cache: dict[str, str | None]
) -> tuple[str, str] | None:
    """The outermost link component of a path whose target leaves the root, with its target."""
    for depth in range(1, len(parts) + 1):
        prefix = "/".join(parts[:depth])
        if prefix not in cache:
            path = os.path.join(root, *parts[:depth])
            target = None
            if os.path.islink(path):
                real = os.path.realpath(path)
                if not is_inside(real, real_root, resolve=False):
                    target = real
            cache[prefix] = target
        if cache[prefix] is not None:
            return prefix, cache[prefix]  # type: ignore[return-value]
    return None


# --- deposition content (EMPIAR FAQ) -----------------------------------------------------------

def _experiment_type(metadata: Mapping[str, object]) -> int | None:
    value = metadata.get("experiment_type")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _is_movie_set(s: ImageSet) -> bool:
    category = s.category or ""
    frames = s.frames_per_image if isinstance(s.frames_per_image, int) else 1
    return (category == "micrographs - multiframe" or s.data_format == "EER"
            or (category.startswith(("micrographs", "tilt series")) and frames > 1))


def _user_details(s: ImageSet) -> str:
    """The image set's details without paragraphs empiar-validate wrote itself."""
    return "\n\n".join(p for p in (s.details or "").split("\n\n") if _EXTRACTED not in p)


def is_gain_reference(rel: str) -> bool:
    """True for names gain references go by (``CountRef_*.dm4``, ``*gain*.mrc``, ``*.gain``)."""
    name = os.path.basename(rel).lower()
    return name.endswith(_GAIN_EXT) and bool(_GAIN_NAME.search(name))


def deposition_advice(
    image_sets: Sequence[ImageSet], files: Sequence[DatasetFile],
    metadata: Mapping[str, object],
) -> list[Finding]:
    """The FAQ's advice for cryo-EM/ET data; other modalities have other requirements."""
    exp = _experiment_type(metadata)
    cryo = exp == 3 or (exp is None and any(_CRYO_CATEGORY.match(s.category or "")
                                            for s in image_sets))
    if not cryo:
        return []
    findings: list[Finding] = []
    visible = [f for f in files if not f.hidden]
    tomo = any((s.category or "").endswith("tilt series") for s in image_sets)
    movies = [s for s in image_sets if _is_movie_set(s)]
    gains = sorted((f for f in visible if f.regular and is_gain_reference(f.rel)),
                   key=lambda f: os.fsencode(f.rel))
    if not movies:
        what = "tilt series movies (frames)" if tomo else "multi-frame micrographs"
        findings.append(Finding.of(P_NO_MOVIES, f"no image set holds {what}"))
    uncorrected = [s for s in movies
                   if (s.data_format == "EER" or (s.voxel_type or "") in _UNCORRECTED_TYPES)
                   and not _GAIN_APPLIED.search(_user_details(s))]
    if uncorrected and not gains:
        names = ", ".join(repr(s.name) for s in uncorrected[:3])
        findings.append(Finding.of(
            P_NO_GAIN, f"image set(s) {names} hold integer counts (not gain-normalised) and no "
                       "gain reference file is in the dataset",
            file=uncorrected[0].rel_dir or ".", image_set=uncorrected[0].name))
    if gains:
        described = any(_ORIENTATION.search(_user_details(s)) for s in image_sets)
        if not described:
            findings.append(Finding.of(
                P_GAIN_ORIENTATION, "gain reference present but no image set's details say how "
                                    "it is oriented relative to the movies",
                file=gains[0].display))
    if not tomo:
        if not any((s.category or "").startswith("picked particles") for s in image_sets):
            findings.append(Finding.of(P_NO_PARTICLES, "no image set holds picked particles"))
        if not any(f.rel.lower().endswith(".star") for f in visible):
            findings.append(Finding.of(P_NO_STAR, "no .star file in the dataset"))
    return findings
