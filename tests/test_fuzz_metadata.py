"""Fuzz the metadata loader end to end through ``scan``: empiar-depositor's working example and
the fixture metadata, as JSON and YAML, mutated byte by byte and with hostile values spliced in
(integers over 4,300 digits, non-string YAML keys, lone surrogates, control characters, NaN,
deep nesting). See tests/fuzzing.py for the invariants."""

from __future__ import annotations

import functools
import json
import re

import yaml
from fuzzing import (
    FIXTURES,
    FORMATS,
    budgeted,
    check_output,
    examples,
    good_neighbour,
    mutate,
    run_cli,
    snapshot,
    workdir,
)
from hypothesis import example, given
from hypothesis import strategies as st

# rules that are always about the metadata file itself
ABOUT_THE_FILE = {"M101", "M102", "M103", "M105", "M111", "M113", "M114", "M115"}
HUGE = "1" + "0" * 5000  # over CPython's 4,300-digit limit for int <-> str
HOSTILE_VALUES = [
    HUGE, "-" + HUGE, "1e400", "NaN", "-Infinity", '"\\ud800"', '"a\\udfffb"', '"\\u001b[2J"',
    '"\\u0000"', "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "{}", "[]",
    "true", "null", '"' + "x" * 5000 + '"', "-1", "0", "2147483648",
]
# YAML only: keys that are not strings, tags, sexagesimal and hex integers, a set
HOSTILE_YAML_LINES = [
    "null: 1", "1.5: x", "~: y", "true: z", "2024-01-01: d", "3: three",
    "experiment_type: 0x" + "f" * 4000, "experiment_type: 1:2:3:4:5:6:7:8:9",
    "title: !!binary aGVsbG8=", "? [a, b]\n: 1", "? {a: 1}\n: 2",
    "imagesets:\n  - {null: 1, 1.5: x, details: \"\\ud800\", name: ok}",
    "authors:\n  - name: \"('A', 'B')\"\n    order_id: " + HUGE,
    "title: \"\\ud83d\"", "release_date: !!set {a, b}",
]


@functools.cache
def metadata_seeds() -> tuple[tuple[str, str], ...]:
    """(file name, text): the fixture metadata and empiar-depositor's working example, as
    JSON and as YAML (yaml.safe_dump, as a lab would convert it)."""
    from pathlib import Path

    import empiar_depositor

    depositor = Path(empiar_depositor.__file__).parent / "tests" / "deposition_json"
    docs = [json.loads((FIXTURES / "metadata.json").read_text(encoding="utf-8"))]
    example_file = depositor / "working_example.json"
    if example_file.exists():
        docs.append(json.loads(example_file.read_text(encoding="utf-8")))
    out = []
    for i, doc in enumerate(docs):
        out.append((f"meta{i}.json", json.dumps(doc, indent=2)))
        out.append((f"meta{i}.yaml", yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)))
    return tuple(out)


@st.composite
def hostile_metadata(draw: st.DrawFn) -> tuple[str, bytes]:
    """A seed with hostile values put in place of existing ones, hostile YAML lines added,
    and byte mutations."""
    name, text = draw(st.sampled_from(metadata_seeds()))
    is_yaml = name.endswith(".yaml")
    for _ in range(draw(st.integers(0, 3))):
        if is_yaml and draw(st.booleans()):
            text = text.rstrip("\n") + "\n" + draw(st.sampled_from(HOSTILE_YAML_LINES)) + "\n"
            continue
        # replace the value after the n-th "key": (JSON) or "key: " (YAML)
        spots = list(re.finditer(r'": ' if not is_yaml else r"^\s*[\w-]+: (?=\S)", text, re.M))
        if not spots:
            continue
        spot = draw(st.sampled_from(spots))
        rest = text[spot.end():]
        end = re.search(r",\n|\n", rest)
        stop = spot.end() + (end.start() if end else len(rest))
        value = draw(st.sampled_from(HOSTILE_VALUES))
        text = text[:spot.end()] + value + text[stop:]
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 3)) == 0:
        data = draw(mutate(data, hot=len(data)))
    return name, data


def scan_with(name: str, data: bytes, fmt: str) -> None:
    """scan a one-file dataset with this metadata: exit 0/1, metadata findings name the
    metadata file, nothing in the dataset or the metadata file changes."""
    with workdir() as tmp:
        dataset = tmp / "dataset"
        (dataset / "micrographs").mkdir(parents=True)
        good_name, good = good_neighbour()
        (dataset / "micrographs" / good_name).write_bytes(good)
        meta = tmp / "in" / name
        meta.parent.mkdir()
        meta.write_bytes(data)
        (tmp / "out").mkdir()
        before = snapshot(dataset), snapshot(meta.parent)
        run = run_cli("scan", dataset, "--metadata", meta, "-o", tmp / "out" / "entry.xml",
                      "--format", fmt, "-q", "-j", "1")
        doc = check_output(run, fmt)
        assert (snapshot(dataset), snapshot(meta.parent)) == before, "scan changed an input"
        if doc is None:
            return
        for finding in doc["findings"]:
            if finding["rule"] in ABOUT_THE_FILE:
                assert finding.get("file", "").endswith(name), finding


@examples(15)
@given(case=hostile_metadata(), fmt=FORMATS)
@example(case=("m.json", b'{"experiment_type": ' + HUGE.encode() + b"}"), fmt="json")
@example(case=("m.yaml", b"experiment_type: " + HUGE.encode() + b"\n"), fmt="json")
@example(case=("m.yaml", b"null: 1\n1.5: x\ntitle: A title long enough\n"), fmt="json")
@example(case=("m.json", b'{"imagesets": [{"name": "a", "details": "\\ud800"}]}'), fmt="json")
def fuzz_scan_metadata(case: tuple[str, bytes], fmt: str) -> None:
    """scan with mutated and hostile metadata."""
    scan_with(*case, fmt)


test_fuzz_scan_metadata = budgeted(fuzz_scan_metadata)
