"""The reporter registry: one row per output format, each reporter in a module of its own.

A reporter module has ``render(report, stream)``, a docstring, and optionally
``make_encodable(text)`` (how its output is made encodable; :mod:`empiar_validate.textsafe`);
it is imported only when its
format is asked for. Adding a format is one new module here plus one row in :data:`REPORTERS`
(see docs/reporters.md); ``--format`` offers every row.
"""

from __future__ import annotations

import importlib
import io
from typing import TextIO

from empiar_validate.reporting import Report
from empiar_validate.textsafe import visible_text

# format name -> (module under empiar_validate.reporters, one-line help for --format)
REPORTERS: dict[str, tuple[str, str]] = {
    "text": ("text", "text for people"),
    "json": ("json_doc", "json for scripts"),
    "junit": ("junit", "junit for CI test views"),
    "github": ("github", "github for GitHub Actions annotations"),
    "html": ("html", "html for one self-contained page (image sets, findings, thumbnails)"),
}

FORMATS = tuple(REPORTERS)


def format_help() -> str:
    """The ``--format`` help text, built from the table."""
    return "report format: " + ", ".join(h for _, h in REPORTERS.values()) + " (default: text)"


def render(report: Report, fmt: str, stream: TextIO) -> None:
    """Write ``report`` to ``stream`` in format ``fmt`` (a key of :data:`REPORTERS`).

    The report is rendered whole, then made encodable by the reporter's ``make_encodable``
    (default :func:`~empiar_validate.textsafe.visible_text`; JSON's is ``json_text``): a lone
    surrogate or a control character from user data never breaks an output half-way (issue 12).
    """
    module_name, _ = REPORTERS[fmt]
    module = importlib.import_module(f"empiar_validate.reporters.{module_name}")
    buffer = io.StringIO()
    module.render(report, buffer)
    stream.write(getattr(module, "make_encodable", visible_text)(buffer.getvalue()))
