"""Fuzz every header reader through ``inspect``: mutated files other software wrote, plain and
compressed, beside a good file. See tests/fuzzing.py for the invariants and docs/fuzzing.md for
the long run."""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzzing import (
    FORMATS,
    Case,
    budgeted,
    check_output,
    examples,
    good_neighbour,
    mutated_seed,
    reader_seeds,
    run_cli,
    snapshot,
    workdir,
    write_seed,
)
from hypothesis import example, given
from hypothesis import strategies as st


def inspect_one(case: Case, fmt: str) -> None:
    """Inspect a directory holding the mutated file (and its partners) and a good MRC file."""
    with workdir() as tmp:
        write_seed(tmp, case.seed, case.name, case.data)
        good_name, good = good_neighbour()
        (tmp / good_name).write_bytes(good)
        before = snapshot(tmp)
        run = run_cli("inspect", "--format", fmt, "-j", "1", tmp)
        doc = check_output(run, fmt)
        assert snapshot(tmp) == before, "inspect changed or added a file"
        if doc is None:
            assert good_name in run.out or fmt == "github"  # github lists findings only
            return
        # inspect names files under the path as given (here absolute): key them by the rest
        files = {f["path"][len(str(tmp)) + 1:]: f for f in doc["files"]}
        assert good_name in files and not files[good_name]["problems"], files.get(good_name)
        names = {p.name for p in Path(tmp).iterdir()}
        partners = {name for name, _ in case.seed.files}  # a BDV .xml, an IMAGIC .img...
        for path, record in files.items():
            assert path in names, f"record for {path!r}, not a file of the directory"
            for problem in record["problems"]:
                # about the file itself, or about its companion (named as such)
                named = problem.get("file", "")
                assert named == record["path"] or (
                    path in partners | {case.name}
                    and named[len(str(tmp)) + 1:] in partners
                ), problem


def _target(key: str):  # type: ignore[no-untyped-def]
    @examples(12)
    @given(case=st.deferred(lambda: mutated_seed(reader_seeds()[key])), fmt=FORMATS)
    def fuzz(case: Case, fmt: str) -> None:
        inspect_one(case, fmt)

    fuzz.__name__ = f"test_fuzz_{key}_reader"
    return budgeted(fuzz)


test_fuzz_mrc_reader = _target("mrc")
test_fuzz_tiff_eer_reader = _target("tiff")
test_fuzz_dm_reader = _target("dm")
test_fuzz_hdf5_bdv_reader = _target("hdf5")
test_fuzz_imagic_reader = _target("imagic")
test_fuzz_spider_reader = _target("spider")
test_fuzz_smv_reader = _target("smv")
test_fuzz_zip_reader = _target("zip")
test_fuzz_cbf_reader = _target("cbf")


@pytest.mark.parametrize("fmt", ["json", "text", "junit", "github"])
def test_damaged_gzip_stream_is_a_finding_and_the_rest_is_reported(fmt: str) -> None:
    """Issue 12, defect 1: ``1f 8b 08 00`` + garbage (a partly downloaded .mrc.gz) raised
    zlib.error out of inspect and lost the whole report."""
    seed = reader_seeds()["mrc"][0]
    inspect_one(Case(seed, "partial.mrc.gz", b"\x1f\x8b\x08\x00" + b"garbage" * 8), fmt)


@examples(4)
@given(data=st.binary(max_size=300))
@example(data=b"\x1f\x8b\x08\x00" + b"\xff" * 40)
@example(data=b"BZh91AY&SY" + b"\x00" * 40)
def fuzz_any_bytes_behind_any_extension(data: bytes) -> None:
    """Raw bytes under every image extension the dispatcher knows (sniffing included)."""
    for ext in (".mrc", ".tif", ".eer", ".dm4", ".h5", ".hed", ".spi", ".dat", ".mrc.gz",
                ".smv", ".img", ".zip", ".cbf"):
        seed = reader_seeds()["mrc"][0]
        inspect_one(Case(seed, "x" + ext, data), "json")


test_fuzz_any_bytes_behind_any_extension = budgeted(fuzz_any_bytes_behind_any_extension)
