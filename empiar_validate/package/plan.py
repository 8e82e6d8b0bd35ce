"""The human side of a package: what is being deposited, how long the upload takes, and how.

``SUMMARY.md`` is what a depositor reads before a multi-hour transfer: files and bytes per image
set, the time at EMPIAR's suggested 200 Mbit/s, and the ``ascp`` and Globus commands exactly as
empiar-depositor runs them, with placeholders where the credentials EMPIAR sends must go (the
transfer password is never written to disk). No timestamps: the same dataset gives the same file.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

from empiar_validate.findings import Finding, Severity
from empiar_validate.model import ImageSet
from empiar_validate.package.inventory import DatasetFile
from empiar_validate.paths import display_path

SUGGESTED_MBIT_S = 200  # EMPIAR's transfer target rate (FAQ: 200 000 Kbps; ascp -l 200M)
ASPERA_HOST = "emp_dep@hx-fasp-1.ebi.ac.uk"  # as in empiar-depositor's aspera_upload()
GLOBUS_EMPIAR_ENDPOINT = "d50a0618-6d04-11e5-ba46-22000b92c6ec"  # empiar-depositor's target
ENTRY_DIR = "<ENTRY_DIRECTORY>"
TRANSFER_PASS = "<EMPIAR_TRANSFER_PASSWORD>"
USER_ENDPOINT = "<YOUR_GLOBUS_ENDPOINT_ID>"
MAX_ADVICE_LINES = 60


@dataclass(slots=True)
class Usage:
    """Files and bytes of one row of the summary table."""

    name: str
    directory: str
    files: int = 0
    bytes: int = 0


@dataclass(slots=True)
class TransferPlan:
    """Per-image-set usage, the rest, the totals and the top-level names an upload must send."""

    root: str
    rows: list[Usage] = field(default_factory=list)
    other: Usage = field(default_factory=lambda: Usage("(not in an image set)", ""))
    top_level: list[str] = field(default_factory=list)

    @property
    def total_files(self) -> int:
        """Files to upload."""
        return sum(r.files for r in self.rows) + self.other.files

    @property
    def total_bytes(self) -> int:
        """Bytes to upload."""
        return sum(r.bytes for r in self.rows) + self.other.bytes


def _rel_dir(s: ImageSet) -> str:
    rel = (s.rel_dir or "").strip("/")
    return "" if rel == "." else rel


def build_plan(root: str, image_sets: Sequence[ImageSet],
               files: Sequence[DatasetFile]) -> TransferPlan:
    """Assign every visible file to an image set: the one whose records or companions name it,
    else the one with the deepest directory holding it, else "not in an image set"."""
    plan = TransferPlan(root=root)
    plan.rows = [Usage(s.name, s.directory) for s in image_sets]
    members: dict[str, int] = {}
    for i, s in enumerate(image_sets):
        for rec in s.files:
            members.setdefault(rec.path, i)
        for comp in s.companions:
            members.setdefault(display_path(comp), i)
    by_dir = sorted(((_rel_dir(s), i) for i, s in enumerate(image_sets)),
                    key=lambda d: (-len(d[0]), d[1]))
    top: set[str] = set()
    for f in files:
        if f.hidden or not f.regular:
            continue
        top.add(f.rel.split("/", 1)[0])
        index = members.get(f.display)
        if index is None:
            index = next((i for d, i in by_dir if not d or f.rel.startswith(d + "/")), None)
        row = plan.other if index is None else plan.rows[index]
        row.files += 1
        row.bytes += f.size or 0
    plan.top_level = sorted(top, key=os.fsencode)
    return plan


def human_size(n: int) -> str:
    """Decimal units, as EMPIAR states dataset sizes: ``1.23 TB``.

    >>> human_size(999), human_size(1_234_000), human_size(2_500_000_000_000)
    ('999 B', '1.23 MB', '2.5 TB')
    """
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if value < 1000 or unit == "PB":
            return f"{int(value)} B" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def transfer_seconds(n_bytes: int, mbit_s: float = SUGGESTED_MBIT_S) -> float:
    """Seconds to send ``n_bytes`` at ``mbit_s`` megabits (10^6 bits) per second."""
    return n_bytes * 8 / (mbit_s * 1e6)


def format_duration(seconds: float) -> str:
    """``under a minute``, ``about 5 min``, ``about 13 h 40 min``, ``about 3 days 2 h``.

    >>> format_duration(20), format_duration(300), format_duration(49200), format_duration(266400)
    ('under a minute', 'about 5 min', 'about 13 h 40 min', 'about 3 days 2 h')
    """
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"about {hours} h {minutes} min" if minutes else f"about {hours} h"
    days, hours = divmod(hours, 24)
    return f"about {days} days {hours} h" if hours else f"about {days} days"


def _q(text: str) -> str:
    return shlex.quote(display_path(text))


def aspera_commands(plan: TransferPlan) -> list[str]:
    """``ascp`` as empiar-depositor calls it (``-QT -l 200M -P 33001 -L- -k3``), run from the
    dataset root so its top-level entries land directly in the entry's ``data`` directory."""
    names = " ".join(_q(n) for n in plan.top_level) or "."
    return [
        f"cd {_q(plan.root)}",
        f"export ASPERA_SCP_PASS={shlex.quote(TRANSFER_PASS)}",
        f"ascp -QT -l {SUGGESTED_MBIT_S}M -P 33001 -L- -k3 {names} "
        f"{ASPERA_HOST}:upload/{ENTRY_DIR}/data",
    ]


def globus_commands(plan: TransferPlan) -> list[str]:
    """globus-cli as empiar-depositor calls it: log in, activate, transfer recursively."""
    return [
        "globus login",
        f"globus endpoint activate --myproxy --myproxy-username emp_dep --myproxy-password "
        f"{shlex.quote(TRANSFER_PASS)} {shlex.quote(USER_ENDPOINT)}",
        f"globus transfer --recursive {shlex.quote(USER_ENDPOINT + ':')}{_q(plan.root)} "
        f"{GLOBUS_EMPIAR_ENDPOINT}:upload/{ENTRY_DIR}/data",
    ]


def render_summary(
    plan: TransferPlan,
    *,
    out_dir: str,
    listed: int,
    findings: Sequence[Finding],
    title: str | None = None,
    thumbnail: str | None = None,
) -> str:
    """The Markdown text of ``SUMMARY.md``; ``thumbnail`` names the entry thumbnail written
    beside it, which the empiar-depositor command passes."""
    total = plan.total_bytes
    lines = ["# EMPIAR deposition summary", ""]
    if title:
        lines += [f"Entry title: {title}", ""]
    lines += [
        f"Dataset directory: `{display_path(plan.root)}`",
        "",
        "Written by `empiar-validate package` beside:",
        "",
        "- `entry.xml`: the EMPIAR entry header, validated;",
        "- `deposition.json`: the same deposition in empiar-depositor's JSON "
        "(EMPIAR deposition API);",
        f"- `SHA256SUMS`, `MD5SUMS`: checksums of {listed} file(s), relative to the dataset "
        "directory.",
        "",
        "## Image sets",
        "",
        "| Image set | Directory | Files | Size |",
        "| --- | --- | ---: | ---: |",
    ]
    for row in plan.rows:
        lines.append(f"| {_cell(row.name)} | `{_cell(row.directory)}` | {row.files:,} | "
                     f"{human_size(row.bytes)} |")
    if plan.other.files:
        lines.append(f"| {plan.other.name} | | {plan.other.files:,} | "
                     f"{human_size(plan.other.bytes)} |")
    lines += [
        f"| **Total** | | **{plan.total_files:,}** | **{human_size(total)}** |",
        "",
        f"Total: {total:,} bytes.",
        "",
        "## Transfer",
        "",
        f"At EMPIAR's suggested rate of {SUGGESTED_MBIT_S} Mbit/s the upload takes "
        f"{format_duration(transfer_seconds(total))}. Slower links take longer; if transfers "
        "stall, lower the rate (`-l 100M`).",
        "",
        f"Replace `{ENTRY_DIR}` with the directory EMPIAR assigns when the deposition is "
        f"created, and `{TRANSFER_PASS}` with the transfer password the EMPIAR team sends you "
        "(not your API token, and never stored in a file).",
        "",
        "### Aspera (ascp)",
        "",
        "```sh",
        *aspera_commands(plan),
        "```",
        "",
        "### Globus",
        "",
        f"Share the dataset directory on your own Globus endpoint first; `{USER_ENDPOINT}` is "
        "its id.",
        "",
        "```sh",
        *globus_commands(plan),
        "```",
        "",
        "### empiar-depositor",
        "",
        "Or let EMPIAR's own tool create the deposition from `deposition.json` and upload "
        "(Aspera; `-g` for Globus):",
        "",
        "```sh",
        f"export EMPIAR_TRANSFER_PASS={TRANSFER_PASS}",
        "empiar-depositor -a \"$(command -v ascp)\""
        + (f" -e {_q(os.path.join(out_dir, thumbnail))}" if thumbnail else "")
        + f" <EMPIAR_API_TOKEN> {_q(os.path.join(out_dir, 'deposition.json'))} {_q(plan.root)}",
        "```",
        "",
        "## Checking the checksums",
        "",
        "```sh",
        f"cd {_q(plan.root)}",
        f"sha256sum -c {_q(os.path.join(out_dir, 'SHA256SUMS'))}",
        f"md5sum -c {_q(os.path.join(out_dir, 'MD5SUMS'))}",
        "```",
        "",
    ]
    lines += _advice(findings)
    return "\n".join(lines).rstrip("\n") + "\n"


def _cell(text: str) -> str:
    return display_path(text).replace("|", "\\|")


def _advice(findings: Sequence[Finding]) -> list[str]:
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    ranked = sorted(findings, key=lambda f: (order[f.severity], *f.sort_key()))
    lines = ["## Findings", ""]
    if not ranked:
        return [*lines, "None: the dataset is ready to deposit.", ""]
    for f in ranked[:MAX_ADVICE_LINES]:
        where = f" `{_cell(f.file)}`" if f.file else ""
        where += f" (image set {f.image_set!r})" if f.image_set and not f.file else ""
        lines.append(f"- {f.severity} {f.rule}{where}: {display_path(f.message)}")
    if len(ranked) > MAX_ADVICE_LINES:
        lines.append(f"- ... and {len(ranked) - MAX_ADVICE_LINES} more "
                     "(`empiar-validate package --format json` lists all).")
    return [*lines, ""]
