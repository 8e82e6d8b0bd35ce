"""Fuzz ``validate``: entry XML from the fixtures and from ``scan``, mutated byte by byte and with
hostile constructs (entities, XInclude, DTDs, control characters, character references to
surrogates, huge numbers, duplicated image sets). See tests/fuzzing.py for the invariants."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from fuzzing import (
    FIXTURES,
    FORMATS,
    budgeted,
    check_output,
    examples,
    mutate,
    run_cli,
    snapshot,
    workdir,
)
from hypothesis import given
from hypothesis import strategies as st

HOSTILE = [
    b'<!DOCTYPE entry [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>',
    b'<!DOCTYPE entry SYSTEM "http://127.0.0.1:9/x.dtd">',
    b'<!DOCTYPE entry [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd" parse="text"/>',
    b"&#xD800;", b"&#1;", b"\x00", b"\x1b[31m", b"\xed\xa0\x80", b"\xff\xfe",
    b"9" * 5000, b"-1e999", b"NaN", b"<name>\xe2\x80\xae</name>",
    b"<imageSet><name>x</name></imageSet>", b"]]>", b"<?xml-stylesheet href='x'?>",
    b"<!-- -- -->", b"<a>" * 300,
]


@functools.cache
def xml_seeds() -> tuple[tuple[str, bytes], ...]:
    """The fixtures' entries and the entry ``scan`` writes for the sample dataset."""
    seeds = [(p.name, p.read_bytes()) for p in sorted((FIXTURES / "xml").rglob("*.xml"))]
    with workdir() as tmp:
        out = tmp / "entry.xml"
        run_cli("scan", FIXTURES / "dataset", "--metadata", FIXTURES / "metadata.json",
                "-o", out, "-q", "--deposition-date", "2026-01-02")
        if out.exists():
            seeds.append(("scanned.xml", out.read_bytes()))
    return tuple(seeds)


@st.composite
def hostile_xml(draw: st.DrawFn) -> tuple[str, bytes]:
    """An entry seed with byte mutations and hostile snippets spliced in."""
    name, data = draw(st.sampled_from(xml_seeds()))
    data = draw(mutate(data, hot=len(data)))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(HOSTILE)) + data[at:]
    if draw(st.booleans()) and b"</imageSet>" in data:  # many image sets, some duplicated
        start = data.find(b"<imageSet>")
        end = data.find(b"</imageSet>") + len(b"</imageSet>")
        if 0 <= start < end:
            data = data[:end] + data[start:end] * draw(st.integers(1, 40)) + data[end:]
    return name, data


def validate_one(name: str, data: bytes, fmt: str) -> None:
    """validate the mutated entry: exit 0/1, every finding names the file, nothing written."""
    with workdir() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        before = snapshot(tmp)
        run = run_cli("validate", "--format", fmt, path)
        doc = check_output(run, fmt)
        assert snapshot(tmp) == before, "validate changed or added a file"
        if doc is not None:
            shown = {f["file"] for f in doc["files"]}
            assert len(shown) == 1 and os.path.basename(shown.pop()) == name
            for finding in doc["findings"]:
                assert finding.get("file") == doc["files"][0]["file"], finding


@examples(25)
@given(case=hostile_xml(), fmt=FORMATS)
def fuzz_validate(case: tuple[str, bytes], fmt: str) -> None:
    """validate on mutated and hostile entry XML."""
    validate_one(*case, fmt)


test_fuzz_validate = budgeted(fuzz_validate)
