"""Make any text encodable before it leaves the program (reports, JSON files).

User-controlled text reaches every output: metadata values (a lone surrogate from a JSON
``"\\ud800"`` escape or a YAML one), file names (``os.fsdecode`` turns undecodable bytes into
lone surrogates), XML content quoted in Schematron messages. A lone surrogate cannot be encoded
as UTF-8, so writing it raised ``UnicodeEncodeError`` half-way through the JSON report (issue 12);
a control character is invalid in XML 1.0 (JUnit) and rewrites a terminal (text). So every
rendered output passes through one of these functions, once, as a whole:

- :func:`json_text` for JSON: a lone surrogate becomes its JSON escape ``\\udXXX`` (JSON
  escapes control characters itself), so the document is valid UTF-8 and parses back to the
  same Python string;
- :func:`visible_text` for text, JUnit, GitHub annotations and HTML: lone surrogates, C0/C1
  controls (except newline and tab), DEL and the XML non-characters U+FFFE/U+FFFF become visible
  Python-style escapes (``\\x1b``, ``\\ud800``), so nothing is lost and nothing is interpreted.

Both leave every other character alone, so outputs without such characters are unchanged
byte for byte.
"""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def json_text(text: str) -> str:
    """``text`` (a rendered JSON document) with each lone surrogate as a JSON ``\\u`` escape.

    Lone surrogates can only occur inside JSON strings, where ``\\udXXX`` is a valid escape.
    """
    if not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def visible_text(text: str) -> str:
    """``text`` with unencodable and control characters (other than ``\\n``, ``\\t``) shown as
    escapes instead of written raw."""
    if not _INVISIBLE.search(text):
        return text
    return _INVISIBLE.sub(_escape, text)
