"""The reporter registry: one row per output format, each reporter in a module of its own.

A reporter module has ``render(report, stream)`` and a docstring; it is imported only when its
format is asked for. Adding a format is one new module here plus one row in :data:`REPORTERS`
(see docs/reporters.md); ``--format`` offers every row.
"""

from __future__ import annotations

import importlib
from typing import TextIO

from empiar_validate.reporting import Report

# format name -> (module under empiar_validate.reporters, one-line help for --format)
REPORTERS: dict[str, tuple[str, str]] = {
    "text": ("text", "text for people"),
    "json": ("json_doc", "json for scripts"),
    "junit": ("junit", "junit for CI test views"),
    "github": ("github", "github for GitHub Actions annotations"),
}

FORMATS = tuple(REPORTERS)


def format_help() -> str:
    """The ``--format`` help text, built from the table."""
    return "report format: " + ", ".join(h for _, h in REPORTERS.values()) + " (default: text)"


def render(report: Report, fmt: str, stream: TextIO) -> None:
    """Write ``report`` to ``stream`` in format ``fmt`` (a key of :data:`REPORTERS`)."""
    module_name, _ = REPORTERS[fmt]
    module = importlib.import_module(f"empiar_validate.reporters.{module_name}")
    module.render(report, stream)
