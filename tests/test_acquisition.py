"""Acquisition metadata from readers and .mdoc files, summarised into image set details."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from empiar_validate.acquisition import (
    P_MDOC_UNREADABLE,
    collect_acquisition,
    merge_details,
    summarise_acquisition,
)
from empiar_validate.formats import read_header
from empiar_validate.model import ImageSet
from empiar_validate.records import FileRecord


def _set(*acqs: dict[str, object], companions: list[str] | None = None) -> ImageSet:
    files = [FileRecord(f"m{i}.tif", extra={"acquisition": a}) for i, a in enumerate(acqs)]
    return ImageSet("movies", "/data/movies", "movies", files=files,
                    companions=companions or [])


def test_summary_labels_and_orders_the_values():
    s = _set({"voltage_kv": 300.0, "cs_mm": 2.7, "pixel_size_a": 0.83, "camera": "Falcon 4i",
              "exposure_s": 2.5, "frames": 40, "dose_e_per_a2": 40.0})
    assert summarise_acquisition(s) == (
        "Extracted from file headers by empiar-validate: 300 kV, Cs 2.7 mm, pixel size 0.83 Å, "
        "camera Falcon 4i, exposure 2.5 s, 40 frames per image, dose 40 e/Å² per image, "
        "dose 1 e/Å² per frame."
    )


def test_values_that_differ_become_ranges_and_aliases_are_merged():
    s = _set({"voltage_kv": 300, "dose_e_per_a2": 38.0, "exposure_time_s": 2.0,
              "microscope": "TITAN KRIOS"},
             {"voltage_kv": 300, "dose_e_per_a2": 42.5, "exposure_time_s": 3.0},
             {"camera": ""})
    text = summarise_acquisition(s)
    assert text == ("Extracted from file headers by empiar-validate: microscope TITAN KRIOS, "
                    "300 kV, exposure 2 to 3 s, dose 38 to 42.5 e/Å² per image.")


def test_nothing_known_gives_none():
    assert summarise_acquisition(_set()) is None
    assert summarise_acquisition(_set({"unknown_key": 1, "voltage_kv": "n/a"})) is None


def test_mrc_fei_extended_header_reaches_the_summary(tmp_path):
    """Integration with the MRC reader: mrcfile writes an EPU-like FEI1 movie."""
    import mrcfile
    from mrcfile.dtypes import get_ext_header_dtype

    path = tmp_path / "movie.mrc"
    dtype = get_ext_header_dtype(b"FEI1", "<")
    ext = np.zeros(2, dtype=dtype)
    ext["Metadata size"] = dtype.itemsize
    ext["HT"] = 200000.0
    ext["Pixel size X"] = ext["Pixel size Y"] = 1.1e-10
    ext["Camera name"] = b"BM-Falcon"
    ext["Bitmask 1"] = (1 << 5) | (1 << 14) | (1 << 15)
    ext["Bitmask 2"] = 1 << 19
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mrcfile.new(path, data=np.zeros((2, 8, 6), dtype=np.uint16)) as m:
            m.set_image_stack()
            m.header.exttyp = b"FEI1"
            m.set_extended_header(ext)
    rec = read_header(path, "movie.mrc")
    text = summarise_acquisition(ImageSet("m", "/data/m", "m", files=[rec]))
    assert text == ("Extracted from file headers by empiar-validate: 200 kV, pixel size 1.1 Å, "
                    "camera BM-Falcon.")


def test_eer_metadata_reaches_the_summary(tmp_path):
    """Integration with the TIFF reader: tifffile writes an EER-like file with its XML tag."""
    import tifffile

    xml = (b"<metadata><item name=\"exposureTime\" unit=\"s\">4.0</item>"
           b"<item name=\"numberOfFrames\">3</item>"
           b"<item name=\"sensorPixelSize.width\" unit=\"m\">1.0e-10</item>"
           b"<item name=\"sensorPixelSize.height\" unit=\"m\">1.0e-10</item>"
           b"<item name=\"totalDose\" unit=\"e/pixel\">0.3</item>"
           b"<item name=\"commercialName\">Falcon 4i</item></metadata>")
    path = tmp_path / "movie.eer"
    tifffile.imwrite(path, np.zeros((3, 16, 16), np.uint8), photometric="minisblack",
                     extratags=[(65001, "B", len(xml), xml, True)])
    rec = read_header(path, "movie.eer")
    text = summarise_acquisition(ImageSet("m", "/data/m", "m", files=[rec]))
    assert text == ("Extracted from file headers by empiar-validate: pixel size 1 Å, "
                    "camera Falcon 4i, exposure 4 s, 3 frames per image, dose 0.3 e/Å² per "
                    "image, dose 0.1 e/Å² per frame.")


def test_dm4_tags_reach_the_summary(tmp_path):
    """Integration with the DM reader: a DM4 written by the tests' DigitalMicrograph writer."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from dmwriter import write_simple

    path = write_simple(tmp_path / "image.dm4", np.zeros((16, 16), np.float32), scale=0.1)
    rec = read_header(path, "image.dm4")
    text = summarise_acquisition(ImageSet("m", "/data/m", "m", files=[rec]))
    assert text == ("Extracted from file headers by empiar-validate: microscope Titan Krios, "
                    "300 kV, Cs 2.7 mm, camera K3, nominal magnification 105000x, "
                    "exposure 2.5 s.")


MDOC = """PixelSpacing = 2.13
Voltage = 300
[ZValue = 0]
TiltAngle = -60
ExposureDose = 2.5
NumSubFrames = 5
[ZValue = 1]
TiltAngle = 0.0
ExposureDose = 2.5
NumSubFrames = 5
[ZValue = 2]
TiltAngle = 60.02
ExposureDose = 2.5
NumSubFrames = 5
"""


def test_mdoc_companions_add_tilts_and_doses(tmp_path):
    (tmp_path / "ts").mkdir()
    (tmp_path / "ts" / "TS_01.mrc.mdoc").write_text(MDOC)
    (tmp_path / "ts" / "TS_02.mrc.mdoc").write_text(MDOC.replace("60.02", "58"))
    s = ImageSet("ts", "/data/ts", "ts", category="tilt series",
                 files=[FileRecord("ts/TS_01.mrc", extra={"acquisition": {"cs_mm": 2.7}})],
                 companions=["ts/TS_01.mrc.mdoc", "ts/TS_02.mrc.mdoc", "ts/TS_01.rawtlt"])
    text = summarise_acquisition(s, root=str(tmp_path))
    assert text == (
        "Extracted from file headers and SerialEM .mdoc files by empiar-validate: 300 kV, "
        "Cs 2.7 mm, pixel size 2.13 Å, 5 frames per image, dose 2.5 e/Å² per image, "
        "dose 0.5 e/Å² per frame, 2 tilt series of 3 tilts from -60° to 60.02°, "
        "total dose 7.5 e/Å² per tilt series."
    )


def test_unreadable_mdoc_is_a_finding_and_headers_still_count(tmp_path):
    (tmp_path / "bad.mdoc").write_bytes(b"\x00\x01binary")
    s = _set({"voltage_kv": 300}, companions=["bad.mdoc", "missing.mdoc"])
    acq = collect_acquisition(s, root=str(tmp_path))
    assert [(f.rule, f.file) for f in acq.findings] == [
        (P_MDOC_UNREADABLE.id, "bad.mdoc"), (P_MDOC_UNREADABLE.id, "missing.mdoc")]
    assert summarise_acquisition(s, root=str(tmp_path)) == (
        "Extracted from file headers by empiar-validate: 300 kV.")


@pytest.mark.parametrize(("given", "extracted", "expected"), [
    (None, None, None),
    ("Gain flipped in Y.", None, "Gain flipped in Y."),
    (None, "Extracted from file headers by empiar-validate: 300 kV.",
     "Extracted from file headers by empiar-validate: 300 kV."),
    ("Gain flipped in Y.", "Extracted from file headers by empiar-validate: 300 kV.",
     "Gain flipped in Y.\n\nExtracted from file headers by empiar-validate: 300 kV."),
    # an older run's paragraph is replaced, the user's text kept first
    ("Gain flipped in Y.\n\nExtracted from file headers by empiar-validate: 200 kV.",
     "Extracted from file headers by empiar-validate: 300 kV.",
     "Gain flipped in Y.\n\nExtracted from file headers by empiar-validate: 300 kV."),
])
def test_merge_details(given, extracted, expected):
    assert merge_details(given, extracted) == expected
    assert merge_details(merge_details(given, extracted), extracted) == expected
