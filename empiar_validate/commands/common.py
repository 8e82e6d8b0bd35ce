"""Arguments and output plumbing shared by the sub-commands."""

from __future__ import annotations

import argparse
import sys

from empiar_validate.reporting import FORMATS, Report, render


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """``--format`` and ``--quiet``, the same on every command."""
    parser.add_argument(
        "--format", choices=FORMATS, default="text",
        help="report format: text for people, json for scripts, junit for CI test views, "
        "github for GitHub Actions annotations (default: text)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true",
        help="no progress bar and, in text format, only findings and the verdict",
    )


def emit(report: Report, fmt: str) -> int:
    """Render the report to stdout and return the exit code it implies (0 or 1)."""
    render(report, fmt, sys.stdout)
    sys.stdout.flush()
    return 1 if report.has_errors else 0
