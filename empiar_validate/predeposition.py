"""Before deposition is a state, not a warning.

A private header without accession code, entry DOI and deposition date is how every header
starts: EMPIAR assigns them at deposition. Three layers notice it (the metadata, M115; the
Schematron, S124 and S125), and each used to warn, on every run and in every CI log. This module
turns them into one info line (R101) while no accession code is given. Once one is given the
entry is being deposited, and what EMPIAR then requires (the entry DOI, the deposition date) is
required: the same findings apply as errors, once each (the metadata's M115 when there is one,
else the Schematron's).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from empiar_validate.findings import Finding, Severity, rule

PRE_DEPOSITION = rule(
    "R101", Severity.INFO, "pre-deposition header: no accession code yet",
    "Nothing to do before deposition: EMPIAR assigns the accession code, the entry DOI and the "
    "deposition date. Once known, give them (--accession-code, --deposition-date or the "
    "metadata keys); from then on a missing one is an error.",
)

METADATA_RULES = frozenset({"M115"})
XML_RULES = frozenset({"S124", "S125"})


def settle(findings: Sequence[Finding], *, accession_code: bool) -> list[Finding]:
    """``findings`` with the pre-deposition findings replaced (see the module docstring).

    ``accession_code`` says whether the entry has one (given on the command line, in the
    metadata, or in the XML). Findings are grouped per file so that ``validate a.xml b.xml``
    settles each file on its own; callers with several files call this once per file.
    """
    state = [f for f in findings if f.rule in METADATA_RULES | XML_RULES]
    if not state:
        return list(findings)
    rest = [f for f in findings if f.rule not in METADATA_RULES | XML_RULES]
    if not accession_code:
        first = min(state, key=Finding.sort_key)
        note = Finding.of(
            PRE_DEPOSITION,
            "not deposited yet: EMPIAR assigns the accession code, entry DOI and deposition "
            "date at deposition",
            file=first.file,
        )
        return [*rest, note]
    metadata = [f for f in state if f.rule in METADATA_RULES]
    kept = metadata or [f for f in state if f.rule in XML_RULES]
    return [*rest, *(dataclasses.replace(f, severity=Severity.ERROR) for f in kept)]
