"""JSON for scripts: ``command``, the command's own keys, ``counts``, then ``findings``.

(Named ``json_doc`` so that it never shadows the standard library's ``json``.)
"""

from __future__ import annotations

import json
from typing import TextIO

from empiar_validate.reporting import Report, counts
from empiar_validate.textsafe import json_text as make_encodable  # surrogates as \u escapes

__all__ = ["make_encodable", "render"]


def render(report: Report, out: TextIO) -> None:
    """One indented JSON document; key order fixed so output is byte-identical across runs."""
    if report.bare_json:
        doc: dict[str, object] = dict(report.data)
    else:
        doc = {"command": report.command}
        doc.update(report.data)
        doc["counts"] = counts(report.findings)
        doc["findings"] = [f.to_dict() for f in report.sorted_findings()]
    # dumps, not dump: the same text, but encoded in one pass (json.dump streams through the
    # pure-Python encoder and one write per token: ≈ 5x slower on inspect's records)
    out.write(json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n")
