"""The strict half of ``check``'s drift policy: what changed in values derived from the files.

``scan`` records, per image set, which XML values it derived from the headers, the files'
layouts and their total size (:mod:`empiar_validate.scan.provenance`). Against that record:

- a pixel size derived from the headers that the headers no longer give is an error (C114); one
  typed into the metadata stays the warning C103 (the depositor may have calibrated);
- a file whose layout changed (a stack became a volume: MRC's space group) is an error (C115);
- image files that changed size while their headers still give every value the XML states
  mean the content changed: an error (C116) naming the files whose size differs from files
  with the same header (a file with an error of its own, e.g. a truncated TIFF, is not
  blamed again);
- image files no image set covers are an error (C117), or the warning C104 with
  ``--allow-uncovered``.

Each function returns ``(rule, element, message, actual)`` tuples; :mod:`.drift` turns them into
findings located at the image set's element.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from empiar_validate.findings import Rule, Severity, rule
from empiar_validate.records import FileRecord
from empiar_validate.scan.provenance import Provenance

C_PIXEL_DERIVED = rule(
    "C114", Severity.ERROR, "pixel size derived from the headers changed",
    "The headers changed since `empiar-validate scan` wrote the XML: restore the files, or "
    "re-run scan and commit the new XML.",
)
C_LAYOUT = rule(
    "C115", Severity.ERROR, "image files changed layout (stack, volume, single image)",
    "A header now says the file is something else (MRC space group, page count): restore the "
    "files, or re-run scan and commit the new XML.",
)
C_CONTENT_SIZE = rule(
    "C116", Severity.ERROR, "image files changed size while their headers did not: content changed",
    "The data were rewritten, truncated or appended to: restore them from the original, or "
    "re-run scan and commit the new XML if the change is intended.",
)
C_UNCOVERED_ERROR = rule(
    "C117", Severity.ERROR, "image files not covered by any image set",
    "Describe them in the XML (re-run `empiar-validate scan`), move them out of the dataset, or "
    "pass --allow-uncovered where work in progress is kept beside the described data.",
)

Issue = tuple[Rule, str, str, "str | None"]


def pixel_rule(prov: Provenance | None, element: str, fallback: Rule) -> Rule:
    """C114 when the XML's pixel size came from the headers, else ``fallback`` (C103)."""
    return C_PIXEL_DERIVED if prov is not None and element in prov.derived else fallback


def layout_issues(prov: Provenance | None, present: list[FileRecord],
                  listed: Callable[[list[str]], str]) -> list[Issue]:
    """Files whose layout is none of those the set had when scanned."""
    if prov is None or not prov.layouts:
        return []
    changed: dict[str, list[str]] = {}
    for r in present:
        if r.layout and r.layout not in prov.layouts:
            changed.setdefault(r.layout, []).append(r.path)
    return [(C_LAYOUT, "category",
             f"the files were {' / '.join(prov.layouts)} when scanned, but {len(paths)} are now "
             f"{layout}: " + listed(paths), layout)
            for layout, paths in sorted(changed.items())]


def size_issues(prov: Provenance | None, members: list[FileRecord], other_drift: bool,
                listed: Callable[[list[str]], str]) -> list[Issue]:
    """An error when the set's files add up to another size than when scanned although the
    count and every header value still agree (``other_drift`` false): the content changed.
    Names the files whose size differs from the files with the same header."""
    if prov is None or prov.bytes is None or other_drift or prov.files != len(members):
        return []
    total = sum(r.size or 0 for r in members)
    if total == prov.bytes:
        return []
    # a file with an error of its own (a truncated TIFF: F202) already says what is wrong with
    # it; its headers are not "the same", so C116 blames only the files that read cleanly
    broken = {r.path for r in members if not r.ok}
    odd = [p for p in _odd_sizes(members) if p not in broken]
    if broken and not odd:
        return []
    who = (listed(odd) if odd else f"the {len(members)} files together")
    return [(C_CONTENT_SIZE, "numImagesOrTiltSeries",
             f"same headers, but {total} bytes instead of the {prov.bytes} scanned: " + who,
             str(total))]


def _odd_sizes(members: list[FileRecord]) -> list[str]:
    """Files whose size is not the most common size of files with the same header."""
    groups: dict[tuple[object, ...], list[FileRecord]] = {}
    for r in members:
        key = (r.format, r.voxel_type, r.width, r.height, r.depth, r.layout)
        groups.setdefault(key, []).append(r)
    odd = []
    for files in groups.values():
        common = Counter(r.size for r in files).most_common(1)[0][0] if len(files) > 1 else None
        odd += [r.path for r in files if common is not None and r.size != common]
    return sorted(odd)


def uncovered_rule(allow: bool, warning: Rule) -> Rule:
    """C117 (error), or ``warning`` (C104) with ``--allow-uncovered``."""
    return warning if allow else C_UNCOVERED_ERROR
