"""Safe XML parsing: bounded, no DTD, no entities, no network, findings instead of tracebacks."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from lxml import etree

from empiar_validate import xmlsafe
from empiar_validate.xmlsafe import MAX_XML_BYTES, parse_xml_bytes, parse_xml_file

ROOT = Path(__file__).resolve().parent.parent
VALID = ROOT / "fixtures" / "xml" / "valid" / "real-header-like.xml"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz a="&lol9;">&lol9;</lolz>
"""


def xxe_document(secret: Path) -> bytes:
    """An entry whose title is an external entity pointing at a local file."""
    header = VALID.read_text(encoding="utf-8")
    body = header.replace(
        "<title>Cryo-EM of the human", "<title>&secret; Cryo-EM of the human", 1
    )
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE entry [\n'
        f'  <!ENTITY secret SYSTEM "{secret.as_uri()}">\n]>\n{body}'
    ).encode()


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-7d1f0c", encoding="utf-8")
    return path


def test_valid_file_parses_without_findings():
    tree, findings = parse_xml_file(VALID)
    assert findings == []
    assert tree is not None
    assert etree.QName(tree.getroot()).localname == "entry"


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"", 1, "empty"),
        (b"<entry>\n<admin>\n</entry>\n", 3, "mismatch"),
        (b"<entry>\n  <title>A & B</title>\n</entry>", 2, "entityref"),
        (b"<entry><a/></entry>\n<entry/>", 2, "extra content"),
        (b"<entry>\n" + b"<a>" * 300 + b"</entry>", 2, ""),  # too deep (huge_tree=False)
    ],
)
def test_not_well_formed_gives_x001_with_line(data: bytes, line: int, words: str):
    tree, findings = parse_xml_bytes(data, "bad.xml")
    assert tree is None
    assert [(f.rule, f.line, f.file) for f in findings] == [("X001", line, "bad.xml")]
    assert words in findings[0].message.lower()


def test_undefined_entity_is_not_well_formed():
    tree, findings = parse_xml_bytes(b"<entry>&nbsp;</entry>", "x.xml")
    assert tree is None and findings[0].rule == "X001"


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b'<!DOCTYPE entry SYSTEM "entry.dtd">\n<entry/>', 1),
        (b'<?xml version="1.0"?>\n<!-- c\n -->\n<!DOCTYPE entry [<!ENTITY a "b">]>\n<entry/>', 4),
        (b"\xef\xbb\xbf<!DOCTYPE entry><entry/>", 1),
        ('<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE e>\n<e/>'.encode("utf-16"), 2),
        ('<?xml version="1.0" encoding="UTF-16BE"?>\n<!DOCTYPE e><e/>'.encode("utf-16-be"), 2),
    ],
)
def test_doctype_is_refused_with_its_line(data: bytes, line: int):
    tree, findings = parse_xml_bytes(data, "d.xml")
    assert tree is None
    assert [(f.rule, f.line) for f in findings] == [("X002", line)]


def test_doctype_word_in_a_comment_or_text_is_fine():
    tree, findings = parse_xml_bytes(b"<!-- <!DOCTYPE x> --><e>&lt;!DOCTYPE</e>", "ok.xml")
    assert findings == [] and tree is not None


def test_billion_laughs_is_refused_fast():
    start = time.perf_counter()
    tree, findings = parse_xml_bytes(BILLION_LAUGHS, "lol.xml")
    assert time.perf_counter() - start < 5  # hang guard only: expansion would never end
    assert tree is None and [f.rule for f in findings] == ["X002"]


def test_billion_laughs_fixture_is_refused_fast(run_cli):
    fixture = ROOT / "fixtures" / "xml" / "invalid" / "X002-doctype-entities.xml"
    start = time.perf_counter()
    code, out, err = run_cli("validate", fixture)
    assert time.perf_counter() - start < 5  # hang guard only: expansion would never end
    assert code == 1 and "X002" in out and "lol" not in out and err == ""


def test_external_entity_is_refused_and_nothing_leaks(tmp_path, secret_file, run_cli):
    doc = tmp_path / "xxe.xml"
    doc.write_bytes(xxe_document(secret_file))
    tree, findings = parse_xml_file(doc)
    assert tree is None and [f.rule for f in findings] == ["X002"]
    for fmt in ("text", "json", "junit", "github"):
        start = time.perf_counter()
        code, out, err = run_cli("validate", "--format", fmt, doc)
        assert time.perf_counter() - start < 5  # hang guard only: expansion would never end
        assert code == 1
        assert "TOP-SECRET" not in out + err


def test_parser_resolves_nothing_even_without_the_prolog_scan(secret_file):
    """Belt and braces: the parser itself never reads the entity (e.g. an encoding the scan
    cannot read), and the post-parse DOCTYPE check still refuses the document."""
    data = xxe_document(secret_file)
    root = etree.fromstring(data, xmlsafe._parser())
    assert b"TOP-SECRET" not in etree.tostring(root)
    tree = root.getroottree()
    assert tree.docinfo.internalDTD is not None  # which parse_xml_bytes refuses (X002)


def test_reused_thread_parser_still_resolves_nothing(secret_file):
    """The per-thread parser is built once and reused: after ordinary parses it still reads no
    entity, and another thread gets a parser of its own (lxml parsers are not thread-safe)."""
    parser = xmlsafe._thread_parser()
    for _ in range(3):
        assert parse_xml_bytes(b"<r><a>1</a></r>", "ok.xml")[0] is not None
    assert xmlsafe._thread_parser() is parser
    root = etree.fromstring(xxe_document(secret_file), parser)
    assert b"TOP-SECRET" not in etree.tostring(root)
    assert root.getroottree().docinfo.internalDTD is not None
    assert parse_xml_bytes(xxe_document(secret_file), "x.xml")[0] is None  # still refused
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(xmlsafe._thread_parser()))
    thread.start()
    thread.join()
    assert other and other[0] is not parser
    assert xmlsafe._thread_parser(remove_comments=True) is not parser


def test_utf32_doctype_is_refused_by_the_post_parse_check():
    data = '<?xml version="1.0" encoding="UTF-32"?><!DOCTYPE e><e/>'.encode("utf-32")
    tree, findings = parse_xml_bytes(data, "u32.xml")
    assert tree is None and [f.rule for f in findings] in (["X002"], ["X001"])


def test_too_large_bytes_give_x003():
    tree, findings = parse_xml_bytes(b"<e>" + b" " * 100 + b"</e>", "big.xml", max_bytes=50)
    assert tree is None and [f.rule for f in findings] == ["X003"]


def test_too_large_file_is_refused_without_reading_it(tmp_path, monkeypatch):
    big = tmp_path / "huge.xml"
    with open(big, "wb") as fh:  # sparse: costs no disk and must not be read
        fh.truncate(MAX_XML_BYTES + 1)
    opened: list[object] = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    tree, findings = parse_xml_file(big)
    monkeypatch.undo()
    assert opened == []  # refused from its size alone
    assert tree is None and [f.rule for f in findings] == ["X003"]
    assert f"{MAX_XML_BYTES:,}" in findings[0].message


@pytest.mark.parametrize("kind", ["missing", "directory", "fifo", "unreadable"])
def test_unreadable_file_gives_x004(tmp_path, kind):
    path = tmp_path / "entry.xml"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)  # never opened: with no writer, open() would block forever
    elif kind == "unreadable":
        if os.geteuid() == 0:
            pytest.skip("root can read anything")
        path.write_bytes(b"<e/>")
        path.chmod(0)
    tree, findings = parse_xml_file(path)
    assert tree is None and [f.rule for f in findings] == ["X004"]
    assert findings[0].file == str(path)


def test_findings_name_the_file_as_given(tmp_path):
    path = tmp_path / "bad.xml"
    path.write_bytes(b"<e>")
    _, findings = parse_xml_file(path, name="shown/as.xml")
    assert findings[0].file == "shown/as.xml"


def test_has_doctype_helper():
    assert xmlsafe.has_doctype(BILLION_LAUGHS)
    assert not xmlsafe.has_doctype(VALID.read_bytes())
