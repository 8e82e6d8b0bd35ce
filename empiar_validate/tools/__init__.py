"""Maintainer tools run with ``python -m empiar_validate.tools.<name>`` (not part of the CLI)."""
