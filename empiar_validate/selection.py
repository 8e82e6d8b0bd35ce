"""Which rules a run reports: ``--select``/``--ignore`` and the repository's configuration.

Like the linters people know: ``--select RULE[,RULE]`` keeps only those rules, ``--ignore``
drops some, and the same keys in a ``[tool.empiar-validate]`` table of ``pyproject.toml`` or in
an ``.empiar-validate.toml`` let a lab silence a rule in CI once. A RULE is an id (``S109``), a
readable name (``pixel-size-implausible``) or an id prefix (``S1``, ``P``). Unknown rules are a
usage error (exit 2): a typo must not silently select nothing.

In ``.empiar-validate.toml`` the keys are at the top level. The configuration is looked for
from the current directory upwards, stopping at the repository
root (the first directory holding ``.git``); the first ``.empiar-validate.toml``, or
``pyproject.toml`` with a ``[tool.empiar-validate]`` table, wins. On the command line
``--select`` replaces the configured ``select`` and ``--ignore`` adds to the configured
``ignore``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from empiar_validate.findings import RULES, Finding
from empiar_validate.rule_names import NAMES
from empiar_validate.usage import UsageError

CONFIG_FILE = ".empiar-validate.toml"
TABLE = "empiar-validate"


@dataclass(frozen=True, slots=True)
class Selection:
    """Rule ids to keep (``None``: all) and to drop; ``source`` names the config file used."""

    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    source: str | None = None

    def keeps(self, rule_id: str) -> bool:
        """True when a finding of ``rule_id`` is reported."""
        if rule_id in self.ignore:
            return False
        return self.select is None or rule_id in self.select

    def apply(self, findings: Iterable[Finding]) -> list[Finding]:
        """The findings this selection reports, in their order."""
        return [f for f in findings if self.keeps(f.rule)]


def _known_ids() -> set[str]:
    """Every rule id the tool can report: the names table lists them all (a test checks it),
    whether or not the module that registers a rule has been imported in this run."""
    return set(RULES) | set(NAMES)


def resolve(items: Iterable[str], origin: str) -> frozenset[str]:
    """Rule ids for ids, names and id prefixes; raises :class:`UsageError` for an unknown one."""
    by_name = {name: rule_id for rule_id, name in NAMES.items()}
    known = _known_ids()
    out: set[str] = set()
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        if item.upper() in known:
            out.add(item.upper())
        elif item.lower() in by_name:
            out.add(by_name[item.lower()])
        elif item[:1].isalpha() and (item[1:].isdigit() or len(item) == 1) and len(item) < 4 \
                and any(r.startswith(item.upper()) for r in known):  # "S1", and "P" alone
            out.update(r for r in known if r.startswith(item.upper()))
        else:
            raise UsageError(f"{origin}: unknown rule {item!r} (give an id such as S109, a name "
                             "such as pixel-size-implausible, or an id prefix; see docs/rules.md)")
    return frozenset(out)


def split(values: Sequence[str] | None) -> list[str]:
    """``["S109,M115", "P"]`` -> ``["S109", "M115", "P"]`` (the flags may be repeated)."""
    return [part for value in values or () for part in value.split(",")]


def find_config(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The configuration file that applies from ``start`` (default: the current directory)."""
    here = Path(start or os.getcwd()).resolve()
    for directory in (here, *here.parents):
        own = directory / CONFIG_FILE
        if own.is_file():
            return own
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _table(pyproject) is not None:
            return pyproject
        if (directory / ".git").exists():
            return None
    return None


def _table(path: Path) -> dict[str, object] | None:
    """The ``[tool.empiar-validate]`` table (or the whole ``.empiar-validate.toml``)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    if path.name == CONFIG_FILE:
        return data
    tool = data.get("tool")
    table = tool.get(TABLE) if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else None


def _list(table: dict[str, object], key: str, origin: str) -> list[str] | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return split([value])
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return split(value)
    raise UsageError(f"{origin}: {key} must be a list of rule ids or names")


def selection(select: Sequence[str] | None, ignore: Sequence[str] | None,
              *, config: Path | bool | None = True) -> Selection:
    """The selection of a run: the configuration (found with :func:`find_config` unless
    ``config`` is a path, or ``False`` for none) overridden by the command-line values."""
    path = find_config() if config is True else (config or None)
    conf_select: list[str] | None = None
    conf_ignore: list[str] = []
    if path is not None:
        table = _table(path) or {}
        origin = str(path)
        unknown = sorted(set(table) - {"select", "ignore"})
        if unknown:
            where = "" if path.name == CONFIG_FILE else f" in [tool.{TABLE}]"
            raise UsageError(f"{origin}: unknown key(s) {', '.join(unknown)}{where} "
                             "(known: select, ignore)")
        conf_select = _list(table, "select", origin)
        conf_ignore = _list(table, "ignore", origin) or []
        conf_select_ids = resolve(conf_select, origin) if conf_select is not None else None
        conf_ignore_ids = resolve(conf_ignore, origin)
    else:
        conf_select_ids, conf_ignore_ids = None, frozenset()
    cli_select = split(select) if select else None
    chosen = resolve(cli_select, "--select") if cli_select is not None else conf_select_ids
    ignored = conf_ignore_ids | resolve(split(ignore), "--ignore")
    return Selection(chosen, ignored, str(path) if path else None)
