"""Progress a person reads, on a terminal only: never in CI logs, pipes or with --quiet.

Checksums count bytes (``12.3/50.0 GiB  410 MiB/s  ETA 1:23:45``), header reads count files
(``1,234/20,000 files  5,432 files/s  ETA 0:03``). The bar goes to standard error and only when
standard error is a terminal, ``CI`` is not set (GitHub Actions and GitLab CI set ``CI=true``
and may give jobs a pseudo-terminal, whose redraws would fill the log) and ``TERM`` is not
``dumb``. rich is imported only when a bar is drawn.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Literal, Protocol, TextIO

Unit = Literal["files", "bytes"]
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


class Tick(Protocol):
    """Advance the bar by ``n`` units."""

    def __call__(self, n: int = 1) -> None: ...


def progress_enabled(stream: TextIO | None = None,
                     environ: Mapping[str, str] | None = None) -> bool:
    """True when a bar should be drawn on ``stream`` (standard error by default)."""
    env = os.environ if environ is None else environ
    if env.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return False
    if env.get("TERM") == "dumb":
        return False
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced by something without isatty
        return False


def _scale(value: float) -> tuple[float, str]:
    """``value`` bytes as a number below 1024 and its binary unit."""
    i = 0
    while abs(value) >= 1024 and i < len(_BINARY) - 1:
        value /= 1024
        i += 1
    return value, _BINARY[i]


def human_bytes(n: float) -> str:
    """``0 B``, ``999 B``, ``1.0 KiB``, ``1.5 GiB``: binary units, one decimal above bytes.

    >>> human_bytes(1536), human_bytes(3 << 30)
    ('1.5 KiB', '3.0 GiB')
    """
    value, unit = _scale(n)
    return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"


def human_rate(per_second: float | None, unit: Unit) -> str:
    """``410 MiB/s``, ``1.2 GiB/s`` or ``5,432 files/s``; a dash while the rate is unknown."""
    if per_second is None:
        return "-- " + ("B/s" if unit == "bytes" else "files/s")
    if unit == "files":
        return f"{per_second:,.0f} files/s"
    value, name = _scale(per_second)
    digits = 0 if value >= 100 or name == "B" else 1
    return f"{value:.{digits}f} {name}/s"


def format_eta(seconds: float | None) -> str:
    """``0:07``, ``12:34``, ``1:02:03``; ``--:--`` when unknown.

    >>> format_eta(7), format_eta(3723)
    ('0:07', '1:02:03')
    """
    if seconds is None or seconds != seconds or seconds < 0 or seconds > 1e8:
        return "--:--"
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def describe(done: float, total: float | None, rate: float | None, unit: Unit) -> str:
    """The text beside the bar: amount done of total, rate and time left.

    >>> describe(3 << 30, 10 << 30, 512 << 20, "bytes")
    '3.0/10.0 GiB  512 MiB/s  ETA 0:14'
    >>> describe(1234, 20000, 5432.1, "files")
    '1,234/20,000 files  5,432 files/s  ETA 0:03'
    """
    if unit == "bytes":
        scale_of = total if total else done
        _, name = _scale(scale_of)
        factor = 1024 ** _BINARY.index(name)
        if name == "B":
            amount = f"{done:.0f}" + (f"/{total:.0f}" if total is not None else "") + " B"
        else:
            amount = (f"{done / factor:.1f}" + (f"/{total / factor:.1f}" if total is not None
                                                 else "") + f" {name}")
    else:
        amount = f"{done:,.0f}" + (f"/{total:,.0f}" if total is not None else "") + " files"
    eta = (total - done) / rate if total is not None and rate else None
    return f"{amount}  {human_rate(rate, unit)}  ETA {format_eta(eta)}"


@contextlib.contextmanager
def progress(description: str, total: int | None, *, quiet: bool = False,
             unit: Unit = "files") -> Iterator[Tick]:
    """Yield a ``tick`` callable; draws a bar on standard error when :func:`progress_enabled`.

    ``unit`` says what ``total`` and the ticks count: ``"files"`` or ``"bytes"``.
    """
    if quiet or not progress_enabled():
        yield lambda n=1: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn
    from rich.text import Text

    class HumanColumn(ProgressColumn):
        """Amount, rate and ETA in the units a person reads (see :func:`describe`)."""

        def render(self, task: Task) -> Text:
            return Text(describe(task.completed, task.total, task.speed, unit))

    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(bar_width=20), HumanColumn(),
        console=Console(stderr=True), transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)
