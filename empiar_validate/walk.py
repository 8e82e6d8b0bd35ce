"""Walk dataset directories safely and deterministically.

Hidden files and directories are skipped, directory symlinks are followed once (a loop is a
finding, never a hang), special files are yielded so the reader can report them without opening
them, and entries come out sorted by their byte names so every run sees the same order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import attrgetter

from empiar_validate.findings import Finding, Rule, Severity, rule
from empiar_validate.formats import F_LINK_LOOP, F_UNREADABLE
from empiar_validate.paths import display_path, is_inside

MAX_DEPTH = 64  # deeper trees are almost certainly loops through bind mounts
_NAME = attrgetter("name")

W_TOO_DEEP = rule(
    "F011", Severity.ERROR, "directory tree deeper than the walk limit",
    f"Flatten the layout; directories deeper than {MAX_DEPTH} levels are not walked.",
)
W_DUPLICATE_DIR = rule(
    "F013", Severity.WARNING, "directory reached twice through links",
    "Remove the extra link so each directory is deposited once.",
)
W_NOT_FOUND = rule(
    "F012", Severity.ERROR, "path given on the command line does not exist",
    "Check the path.",
)


@dataclass(slots=True)
class WalkEntry:
    """One file found by the walk: its path, its path relative to the walk root, any problem the
    walk itself found (for directories it could not enter), and whether the directory listing
    showed a regular file (not a link: then the header reader can skip a ``stat``)."""

    path: str
    rel: str
    problems: list[Finding] = field(default_factory=list)
    regular: bool = False

    @property
    def display(self) -> str:
        """Printable relative path."""
        return display_path(self.rel)


def walk(root: str, *, include_hidden: bool = False) -> Iterator[WalkEntry]:
    """Yield every non-directory entry under ``root`` (or ``root`` itself if it is a file).

    Directory read errors and loops come out as entries carrying a problem, so the caller sees
    them in the same stream as files.
    """
    root = os.fspath(root)
    if not os.path.lexists(root):
        shown = display_path(root)
        yield WalkEntry(root, root, [Finding.of(W_NOT_FOUND, "no such file or directory",
                                                file=shown)])
        return
    if not os.path.isdir(root):
        yield WalkEntry(root, os.path.basename(root) or root)
        return
    try:
        st = os.stat(root)
    except OSError as exc:
        yield _problem(root, root, F_UNREADABLE, exc.strerror or str(exc))
        return
    visited = {(st.st_dev, st.st_ino)}
    pending: list[tuple[str, str, int]] = []
    yield from _walk_dir(root, "", visited, pending, 0, include_hidden)
    # Linked directories come last, so a directory reached both directly and through a link is
    # walked under its real path. Each is walked at most once (visited), so this ends.
    while pending:
        path, rel, depth = pending.pop(0)
        try:
            st = os.stat(path)
        except OSError as exc:
            yield _problem(path, rel, F_UNREADABLE, exc.strerror or str(exc))
            continue
        key = (st.st_dev, st.st_ino)
        if key in visited:
            real = os.path.realpath(path)
            parent = os.path.realpath(os.path.dirname(path))
            if is_inside(parent, real, resolve=False):
                yield _problem(path, rel, F_LINK_LOOP,
                               "directory link leads back to its own parent; not followed")
            else:
                yield _problem(path, rel, W_DUPLICATE_DIR,
                               "directory already walked through another path; not walked again")
            continue
        visited.add(key)
        yield from _walk_dir(path, rel, visited, pending, depth + 1, include_hidden)


def _problem(path: str, rel: str, r: Rule, text: str) -> WalkEntry:
    shown = display_path(rel or path)
    return WalkEntry(path, rel, [Finding.of(r, text, file=shown)])


def _walk_dir(
    path: str,
    rel: str,
    visited: set[tuple[int, int]],
    pending: list[tuple[str, str, int]],
    depth: int,
    include_hidden: bool,
) -> Iterator[WalkEntry]:
    if depth > MAX_DEPTH:
        yield _problem(path, rel, W_TOO_DEEP, f"deeper than {MAX_DEPTH} levels; not walked")
        return
    try:
        with os.scandir(path) as it:
            entries = list(it)
    except OSError as exc:
        yield _problem(path, rel, F_UNREADABLE, f"cannot list directory: {exc.strerror}")
        return
    if "".join([e.name for e in entries]).isascii():
        entries.sort(key=_NAME)  # ASCII: code point order is byte order, compared in C
    else:
        entries.sort(key=lambda e: os.fsencode(e.name))
    for entry in entries:
        if not include_hidden and entry.name.startswith("."):
            continue
        child_rel = f"{rel}/{entry.name}" if rel else entry.name
        try:
            is_dir = entry.is_dir(follow_symlinks=True)
        except OSError:
            is_dir = False  # broken or looping link: reported when the file is read
        if not is_dir:
            try:
                regular = entry.is_file(follow_symlinks=False)  # d_type: no system call
            except OSError:
                regular = False
            yield WalkEntry(entry.path, child_rel, [], regular)
        elif entry.is_symlink():
            pending.append((entry.path, child_rel, depth))
        else:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                yield _problem(entry.path, child_rel, F_UNREADABLE, exc.strerror or str(exc))
                continue
            visited.add((st.st_dev, st.st_ino))
            yield from _walk_dir(entry.path, child_rel, visited, pending, depth + 1,
                                 include_hidden)
