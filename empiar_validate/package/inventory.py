"""Every file a transfer of the dataset directory would send, with the facts package needs.

The scan's records name files by their printable path; checksums need the exact bytes of each
name and advice needs hidden files and links too, so package walks the tree once more, cheaply
(``stat`` only, no reads), including hidden entries.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from empiar_validate.paths import display_path, is_inside
from empiar_validate.walk import walk


@dataclass(frozen=True, slots=True)
class DatasetFile:
    """One walked entry. ``rel`` is relative to the root with ``/`` separators and keeps
    undecodable bytes as surrogates; ``size`` is ``None`` when ``stat`` failed; ``regular`` is
    true for regular files (after following links); ``hidden`` when any component starts with a
    dot."""

    path: str
    rel: str
    size: int | None
    regular: bool
    hidden: bool

    @property
    def display(self) -> str:
        """Printable relative path, as findings show it."""
        return display_path(self.rel)


def inventory(root: str, *, exclude: str | None = None) -> list[DatasetFile]:
    """Walk ``root`` (hidden entries included), skipping the ``exclude`` subtree if given."""
    skip = os.path.realpath(exclude) if exclude else None
    out = []
    for entry in walk(root, include_hidden=True):
        if skip and is_inside(os.path.realpath(entry.path), skip, resolve=False):
            continue
        try:
            st = os.stat(entry.path)
            size: int | None = st.st_size
            regular = stat.S_ISREG(st.st_mode)
        except OSError:
            size, regular = None, False
        hidden = any(part.startswith(".") for part in entry.rel.split("/"))
        out.append(DatasetFile(entry.path, entry.rel, size, regular, hidden))
    return out
