"""Safe XML parsing for the whole project: bounded size, no DTDs, no entities, no network.

Entry headers come from users and CI checkouts, so they are untrusted input. A document type
declaration is the door to external-entity reads (``<!ENTITY x SYSTEM "file:///etc/passwd">``) and
to entity-expansion bombs ("billion laughs"); EMPIAR headers never need one. So a DOCTYPE is
refused *before* libxml2 sees the bytes, and the parser is configured so that even if one slipped
through (an unusual encoding) nothing is resolved, loaded or fetched.

Every problem comes back as a :class:`~empiar_validate.findings.Finding`, never as an exception:

    tree, findings = parse_xml_file("10917.xml")
    if tree is None:
        ...  # findings say why (X001-X004), with a line number where there is one
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import threading

from lxml import etree

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.paths import display_path

MAX_XML_BYTES = 64 * 1024 * 1024
"""Largest XML file we parse. Real headers are a few kB; 1,000 image sets is about 1 MB."""

NOT_WELL_FORMED = rule(
    "X001", Severity.ERROR, "XML is not well-formed",
    "Fix the XML syntax at the reported line (unclosed or mismatched tag, a bare '&' that should "
    "be '&amp;', a '<' in text that should be '&lt;', or a file that is not UTF-8).",
)
DOCTYPE_REFUSED = rule(
    "X002", Severity.ERROR, "DOCTYPE declarations are refused",
    "Remove the <!DOCTYPE ...> declaration: EMPIAR headers need no DTD, and DTD entities can read "
    "local files or expand without bound, so they are never processed.",
)
TOO_LARGE = rule(
    "X003", Severity.ERROR, "XML file too large",
    f"An EMPIAR header is a few kB; files over {MAX_XML_BYTES // (1024 * 1024)} MiB are refused "
    "unparsed. Check that you passed the entry XML and not a data file.",
)
UNREADABLE = rule(
    "X004", Severity.ERROR, "XML file cannot be read",
    "Check that the path exists, is a regular file and is readable.",
)


def _parser(*, remove_comments: bool = False) -> etree.XMLParser:
    """A fresh parser (lxml parsers are not thread-safe) that resolves and loads nothing."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        collect_ids=False,
        remove_comments=remove_comments,
    )


_PARSERS = threading.local()


def _thread_parser(*, remove_comments: bool = False) -> etree.XMLParser:
    """This thread's parser of that configuration, built once: building one costs as much as
    parsing a small companion file. Reusing it in sequence is safe (lxml keeps no document
    state between parses; its error log is per parse); sharing it between threads is not, so
    each thread has its own. Same settings as :func:`_parser`, so the same safety."""
    key = "comments_removed" if remove_comments else "plain"
    parser = getattr(_PARSERS, key, None)
    if parser is None:
        parser = _parser(remove_comments=remove_comments)
        setattr(_PARSERS, key, parser)
    return parser


def parse_xml_bytes(
    data: bytes, name: str, *, max_bytes: int = MAX_XML_BYTES, remove_comments: bool = False
) -> tuple[etree._ElementTree | None, list[Finding]]:
    """Parse ``data`` (reported as ``name``) safely.

    Returns ``(tree, [])`` on success, or ``(None, findings)`` when the document is too large,
    declares a DOCTYPE, or is not well-formed. ``remove_comments`` is for schema files, whose
    comments some Schematron parsers mistake for content.
    """
    if len(data) > max_bytes:
        return None, [Finding.of(
            TOO_LARGE, f"file is {len(data):,} bytes, more than the limit of {max_bytes:,}",
            file=name,
        )]
    head = prolog_text(data)
    offset = scan_prolog(head)[0]
    if offset is not None:
        return None, [_doctype_finding(name, head[:offset].count("\n") + 1)]
    try:
        root = etree.fromstring(data, _thread_parser(remove_comments=remove_comments))
    except etree.XMLSyntaxError as exc:
        return None, [_syntax_finding(name, exc)]
    except (etree.ParserError, ValueError) as exc:  # e.g. an unsupported encoding declaration
        return None, [Finding.of(NOT_WELL_FORMED, f"not well-formed XML: {exc}", file=name)]
    tree = root.getroottree()
    # Belt and braces: an encoding the prolog scan cannot read (UTF-32, EBCDIC) still must not
    # smuggle a DTD through. Nothing in it was resolved or loaded, but the document is refused.
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        return None, [_doctype_finding(name, 1)]
    return tree, []


def parse_xml_file(
    path: str | os.PathLike[str], *, name: str | None = None, max_bytes: int = MAX_XML_BYTES,
    remove_comments: bool = False,
) -> tuple[etree._ElementTree | None, list[Finding]]:
    """Read and parse the XML file at ``path`` safely; see :func:`parse_xml_bytes`.

    Only regular files are opened (a FIFO without a writer would block forever). The size is
    checked before reading, and reading stops one byte past the limit, so a huge file costs
    nothing. ``name`` is how findings refer to the file (default: the path as given).
    """
    shown = name if name is not None else display_path(os.fspath(path))
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            return None, [Finding.of(UNREADABLE, f"{kind}; not opened", file=shown)]
        size = info.st_size
        if size > max_bytes:
            return None, [Finding.of(
                TOO_LARGE, f"file is {size:,} bytes, more than the limit of {max_bytes:,}",
                file=shown,
            )]
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        return None, [Finding.of(UNREADABLE, f"cannot read file: {exc.strerror or exc}",
                                 file=shown)]
    return parse_xml_bytes(data, shown, max_bytes=max_bytes, remove_comments=remove_comments)


def has_doctype(data: bytes) -> bool:
    """True when the prolog of ``data`` declares a DOCTYPE (refused by :func:`parse_xml_bytes`)."""
    return scan_prolog(prolog_text(data))[0] is not None


_PROLOG_WINDOW = 1 << 20
"""Bytes of the document start scanned for a DOCTYPE; a longer prolog is refused by the
post-parse check instead (nothing is resolved either way)."""


def prolog_text(data: bytes) -> str:
    """The document start as text with offsets kept: UTF-16 is decoded, anything else is read
    as Latin-1 (one character per byte), which is exact for the ASCII markup we look for."""
    window = data[:_PROLOG_WINDOW]
    if window.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return window.decode("utf-16", errors="replace")
    if len(window) > 1 and (window[0] == 0) != (window[1] == 0):
        return window.decode("utf-16-be" if window[0] == 0 else "utf-16-le", errors="replace")
    return window.decode("latin-1")


def scan_prolog(text: str) -> tuple[int | None, int | None]:
    """``(offset of <!DOCTYPE, offset of the root start tag)`` in ``text``, looking only past
    the XML declaration, comments, processing instructions and whitespace (the word DOCTYPE in
    a comment or in text does not count); ``None`` for what is not found. Each step moves
    forward, so the loop ends."""
    doctype = None
    pos = 1 if text.startswith("\ufeff") else 3 if text.startswith("\xef\xbb\xbf") else 0
    n = len(text)
    while pos < n:
        while pos < n and text[pos] in " \t\r\n":
            pos += 1
        if text.startswith("<?", pos):
            end, step = text.find("?>", pos + 2), 2
        elif text.startswith("<!--", pos):
            end, step = text.find("-->", pos + 4), 3
        elif text.startswith("<!DOCTYPE", pos):
            doctype = pos if doctype is None else doctype
            close, bracket = text.find(">", pos), text.find("[", pos)
            if 0 <= bracket < close:  # an internal subset: up to "]", then ">"
                subset_end = text.find("]", bracket)
                close = text.find(">", subset_end) if subset_end >= 0 else -1
            end, step = close, 1
        elif text.startswith("<", pos):
            return doctype, pos
        else:
            return doctype, None
        if end < 0:
            return doctype, None  # unterminated: the parser reports it as not well-formed
        pos = end + step
    return doctype, None


def _doctype_finding(name: str, line: int) -> Finding:
    return Finding.of(
        DOCTYPE_REFUSED,
        "the document has a <!DOCTYPE> declaration; DTDs and entities are refused and the "
        "document was not parsed",
        file=name, line=line,
    )


def _syntax_finding(name: str, exc: etree.XMLSyntaxError) -> Finding:
    message = str(exc.msg or exc).strip()
    # libxml2 appends ", line N, column M"; the line is a field of its own.
    match = re.search(r",? line \d+, column (\d+)$", message)
    if match:
        message = f"{message[: match.start()]} (column {match.group(1)})"
    return Finding.of(
        NOT_WELL_FORMED, f"not well-formed XML: {message}", file=name, line=exc.lineno or None,
    )
