"""Paths as users see them: printable, JSON-safe, and stable across runs."""

from __future__ import annotations

import os

# Opening user data to read it: read-only, and never blocking (a FIFO swapped in for a file),
# never becoming a controlling terminal, never inherited by a child process.
READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def display_path(path: str | bytes | os.PathLike[str]) -> str:
    """A printable form of ``path``: undecodable bytes become ``\\xNN``, control characters are
    escaped (a newline in a filename must not break a report line), everything else is kept."""
    if isinstance(path, str) and path.isprintable():
        return path  # the common case; undecodable bytes are surrogates, which are not printable
    try:
        text = os.fsencode(path).decode("utf-8", errors="backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate no file name decodes to (metadata text):
        text = os.fspath(path)  # type: ignore[assignment]  # escaped below as \uXXXX
    out = []
    for ch in text:
        if ch == "\\" or ch.isprintable():
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        else:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}")
    return "".join(out)


def is_inside(path: str, directory: str, *, resolve: bool = True) -> bool:
    """True when ``path`` is ``directory`` or lies below it.

    With ``resolve`` (the default) both are resolved first (links followed, ``..`` removed), so a
    link pointing out of ``directory`` is outside it; pass ``resolve=False`` for paths that are
    already real. Compares whole components: ``/data/ab`` is not inside ``/data/a``.
    """
    if resolve:
        path, directory = os.path.realpath(path), os.path.realpath(directory)
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def is_safe_name(name: str) -> bool:
    """True when ``name`` round-trips through UTF-8 and has no control characters."""
    return display_path(name) == name
