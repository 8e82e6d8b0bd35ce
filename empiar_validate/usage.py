"""Exit codes and :class:`UsageError`, below the CLI so that commands can raise it.

The commands used to import ``UsageError`` from :mod:`empiar_validate.cli`, which imports them
(through importlib): a cycle. Both now import this module instead.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Raised by a command for a usage or environment problem (exit 2, message, no traceback)."""
