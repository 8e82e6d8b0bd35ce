"""Command-line entry point: argument parsing and exit codes only.

Each sub-command lives in ``empiar_validate.commands.<name>`` with ``add_arguments(parser)`` and
``run(args) -> int``; modules are imported only when their command runs, so ``validate`` never
pays for h5py or tifffile.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from empiar_validate import __version__
from empiar_validate.usage import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError

__all__ = ["COMMANDS", "EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser",
           "main"]

COMMANDS: dict[str, str] = {
    "inspect": "read the headers of image files and report what each holds",
    "validate": "validate EMPIAR entry XML files against the XSD and the Schematron",
    "scan": "scan a dataset directory and write an EMPIAR entry XML",
    "check": "check a dataset directory against its committed EMPIAR entry XML (CI gate)",
    "package": "write a deposition bundle: entry XML, deposition JSON, checksums, upload plan",
}


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; keep that, but never print a traceback."""


def build_parser() -> argparse.ArgumentParser:
    """The full parser; sub-command modules add their own arguments lazily in :func:`main`."""
    parser = _Parser(
        prog="empiar-validate",
        description="Check cryo-EM datasets and EMPIAR entry XML before deposition.",
        epilog="Exit codes: 0 no error-severity finding, 1 findings of error severity, "
        "2 usage or environment error.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        sub.add_parser(name, help=help_text, description=help_text)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # Find the sub-command first so only its module is imported.
    name = next((a for a in argv if not a.startswith("-")), None)
    if name not in COMMANDS:
        if name is not None or not any(a in ("-h", "--help", "--version") for a in argv):
            parser.print_usage(sys.stderr)
            what = f"unknown command {name!r}" if name else "a command is required"
            print(f"empiar-validate: error: {what}; choose from {', '.join(COMMANDS)}",
                  file=sys.stderr)
            return EXIT_USAGE
        try:
            parser.parse_args(argv)
        except SystemExit as exc:
            return int(exc.code or 0)
        return EXIT_OK
    module = importlib.import_module(f"empiar_validate.commands.{name}")
    sub_action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    module.add_arguments(sub_action.choices[name])
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        from empiar_validate.commands.common import resolve_selection

        resolve_selection(args)
        return int(module.run(args))
    except KeyboardInterrupt:
        print("empiar-validate: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except UsageError as exc:
        print(f"empiar-validate {name}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE

