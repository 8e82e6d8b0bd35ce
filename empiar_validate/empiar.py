"""Facts EMPIAR defines that several layers need: the namespace, the accession code, dates.

Each used to be written out where it was needed (the namespace three times, the accession
pattern twice, two date parsers that disagreed); every layer now asks this module.
"""

from __future__ import annotations

import datetime
import re

EMPIAR_NS = "http://pdbe.org/empiar"
"""The namespace of an EMPIAR entry's elements (``{http://pdbe.org/empiar}entry``)."""

ACCESSION_CODE = re.compile(r"EMPIAR-\d{5}")
"""An EMPIAR accession code; use ``fullmatch``."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value: object) -> datetime.date | None:
    """A date written ``YYYY-MM-DD`` (or a ``datetime.date``, as YAML gives it), else ``None``.

    Only the extended form is accepted, the form ``xs:date`` and EMPIAR use:
    ``date.fromisoformat`` alone also takes ``20240502``, ``2024-W18-4`` or ``2024123``, which in
    a deposition form are more likely typing mistakes than dates. The CLI's ``--deposition-date``
    and the metadata's ``deposition_date`` both go through here, so they give the same answer.
    """
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:  # 2024-02-30
        return None
