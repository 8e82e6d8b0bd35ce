"""Entry roots and directories that match nothing: where the data really are.

EMPIAR stores an entry as ``EMPIAR-NNNNN/data/...`` (the header and metadata beside ``data/``),
and headers say ``/data/<path under data/>``. A user may point the tool at either the entry root
or its ``data/`` directory; both must give the same image sets, never ``/data/data/...``. And
a metadata ``directory`` that matches nothing usually has a near twin that does (another case,
one level up or down, a ``data/`` too many, a typo): saying which is the fix, and every value the
mismatch leaves missing follows from it.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable

from empiar_validate.findings import Finding, Severity, rule

ENTRY_NAME = re.compile(r"EMPIAR-\d{5,}", re.IGNORECASE)

G_ENTRY_ROOT = rule(
    "G118", Severity.INFO, "entry root given: its data/ directory is the dataset",
    "Nothing to do: the image sets are /data/<path under data/>, as in the released entry.",
)


def data_root(path: str) -> str:
    """``path`` itself, or ``path/data`` when ``path`` is an entry root: it holds ``data/`` and
    is named ``EMPIAR-NNNNN`` or holds nothing else but files that are not images (the header,
    the metadata, a README)."""
    from empiar_validate.scan.companions import has_image_extension

    data = os.path.join(path, "data")
    if not os.path.isdir(data):
        return path
    if ENTRY_NAME.fullmatch(os.path.basename(os.path.abspath(path))):
        return data
    try:
        names = os.listdir(path)
    except OSError:
        return path
    for name in names:
        if name == "data" or name.startswith("."):
            continue
        full = os.path.join(path, name)
        if os.path.isdir(full) or has_image_extension(name):
            return path
    return data


def entry_root_finding(given: str, root: str) -> list[Finding]:
    """G118 when :func:`data_root` chose ``data/`` inside what the user gave."""
    if os.path.normpath(root) == os.path.normpath(given):
        return []
    from empiar_validate.paths import display_path

    return [Finding.of(G_ENTRY_ROOT, f"{display_path(given)} is an entry root: scanning "
                       f"{display_path(root)} (its contents are /data/)",
                       file=display_path(given))]


def near_directory(rel: str, known: Iterable[str]) -> tuple[str, str] | None:
    """The directory (relative) holding images that ``rel`` most likely means, and how it
    differs: another case, one level up or down, a ``data/`` too many, or a near spelling."""
    dirs = set(known)
    if rel.startswith("data/") and rel[5:] in dirs:
        return rel[5:], "without the extra data/ (the directory is relative to data/)"
    lower = rel.lower()
    same_case = sorted(d for d in dirs if d.lower() == lower and d != rel)
    if same_case:
        return same_case[0], "the case differs"
    below = sorted(d for d in dirs if posixpath.dirname(d) == rel)
    if len(below) == 1:
        return below[0], "one level down"
    parent = posixpath.dirname(rel)
    if parent in dirs and parent:
        return parent, "one level up"
    return _misspelt(rel, dirs)


def _misspelt(rel: str, dirs: set[str]) -> tuple[str, str] | None:
    """The one directory whose name is a near spelling of ``rel``'s (``movis`` for ``Movies``,
    same parent): a typo is the commonest mismatch, and naming the directory is its fix. Two
    equally near candidates are a guess, so none is named then."""
    from difflib import SequenceMatcher

    parent, name = posixpath.split(rel.lower())
    scored = sorted(
        (-SequenceMatcher(None, name, posixpath.basename(d).lower()).ratio(), d)
        for d in dirs if d and posixpath.dirname(d).lower() == parent
    )
    if not scored or -scored[0][0] < 0.8 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return scored[0][1], "the spelling differs"
