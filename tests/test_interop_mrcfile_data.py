"""Our MRC records for files written by other software agree with what mrcfile reads.

The files (EMDB maps, plain/gzip/bzip2, and EPU movies with FEI1/FEI2 extended headers) ship in
mrcfile's sdist; ``bash tools/fetch-interop-data`` puts them in ``.interop/mrcfile/``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from empiar_validate.formats import read_header
from empiar_validate.formats.voxel import voxel_type_of_dtype

DATA = Path(__file__).resolve().parent.parent / ".interop" / "mrcfile"
FILES = [
    "EMD-3001.map", "EMD-3001.map.bz2", "emd_3001.map.gz",
    "EMD-3197.map", "EMD-3197.map.bz2", "emd_3197.map.gz",
    "fei-extended.mrc", "epu2.9_example.mrc",
]

pytestmark = pytest.mark.skipif(
    not DATA.is_dir(),
    reason="interop data absent: run `bash tools/fetch-interop-data` to download it",
)


def mrcfile_view(path: Path, *, header_only: bool = True) -> dict[str, object]:
    """What mrcfile itself says about the file."""
    import mrcfile
    from mrcfile.utils import data_dtype_from_header

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # mmap when the data block is needed (for the layout), so nothing large is read
        handle = (mrcfile.open(path, header_only=True, permissive=True) if header_only
                  else mrcfile.mmap(path, permissive=True))
        with handle as m:
            h = m.header
            out: dict[str, object] = {
                "width": int(h.nx), "height": int(h.ny), "depth": int(h.nz),
                "voxel_type": voxel_type_of_dtype(data_dtype_from_header(h)),
                "pixel": (float(m.voxel_size.x), float(m.voxel_size.y)),
            }
            if not header_only:
                out["layout"] = ("image" if m.is_single_image() else
                                 "stack" if m.is_image_stack() else "volume")
                if bytes(h.exttyp) in (b"FEI1", b"FEI2"):
                    out["fei"] = m.indexed_extended_header[0]
            return out


@pytest.mark.parametrize("name", FILES)
def test_record_matches_mrcfile(name: str) -> None:
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"{name} is not in {DATA}")
    rec = read_header(path)
    theirs = mrcfile_view(path)
    assert (rec.width, rec.height, rec.depth, rec.voxel_type) == (
        theirs["width"], theirs["height"], theirs["depth"], theirs["voxel_type"])
    assert (rec.pixel_width, rec.pixel_height) == pytest.approx(theirs["pixel"], rel=1e-6)
    assert rec.ok, rec.problems
    assert [p.rule for p in rec.problems] == []


@pytest.mark.parametrize("name", ["EMD-3001.map", "EMD-3197.map"])
def test_layout_matches_mrcfile(name: str) -> None:
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"{name} is not in {DATA}")
    assert read_header(path).layout == mrcfile_view(path, header_only=False)["layout"]


@pytest.mark.parametrize(("name", "exttyp"), [
    ("fei-extended.mrc", "FEI1"), ("epu2.9_example.mrc", "FEI2"),
])
def test_fei_acquisition_matches_mrcfile(name: str, exttyp: str) -> None:
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"{name} is not in {DATA}")
    rec = read_header(path)
    fei: Any = mrcfile_view(path, header_only=False)["fei"]
    acquisition: Any = rec.extra["acquisition"]
    assert rec.extra["extended_header_type"] == exttyp
    assert acquisition["voltage_kv"] == pytest.approx(fei["HT"] / 1000)
    assert acquisition["dose_e_per_a2"] == pytest.approx(fei["Dose"] * 1e-20, rel=1e-6)
    assert acquisition["pixel_size_a"] == pytest.approx(fei["Pixel size X"] * 1e10, rel=1e-6)
    assert acquisition["pixel_size_a"] == pytest.approx(rec.pixel_width, rel=1e-6)
    assert acquisition["camera"] == fei["Camera name"].decode()
