"""Shared test helpers: run the CLI in-process and capture its output."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout

import pytest

from empiar_validate.cli import main


@pytest.fixture
def run_cli() -> Callable[..., tuple[int, str, str]]:
    """Call ``empiar-validate ARGS...`` in-process; returns (exit code, stdout, stderr)."""

    def _run(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main([str(a) for a in args])
        return code, out.getvalue(), err.getvalue()

    return _run


@pytest.fixture
def python() -> str:
    """The interpreter running the tests (for subprocess tests)."""
    return sys.executable
