"""SerialEM .mdoc parsing: real layouts, and hostile or damaged files that must not hang."""

from __future__ import annotations

import os
import threading

import pytest

from empiar_validate import mdoc
from empiar_validate.mdoc import MdocError, mdoc_acquisition, numbers, parse_mdoc, read_mdoc

TILT_MDOC = """\
PixelSpacing = 2.13
Voltage = 300
ImageFile = TS_01.mrc
ImageSize = 3838 3710
DataMode = 1

[T = SerialEM: Digitized on EMBL Krios                      04-Feb-19  10:13:35    ]

[T =     Tilt axis angle = 85.3, binning = 1  spot = 8  camera = 0]

[ZValue = 0]
TiltAngle = 0.000999877
StagePosition = 226.577 -154.623
Magnification = 42000
ExposureDose = 3.5
PixelSpacing = 2.13
ExposureTime = 0.8
CameraIndex = 0
TargetDefocus = -3.5
NumSubFrames = 8
FrameDosesAndNumber = 0.4375 8
SubFramePath = X:\\data\\TS_01_000_0.0.tif

[ZValue = 1]
TiltAngle = 3.00
ExposureDose = 3.5
NumSubFrames = 8

[ZValue = 2]
TiltAngle = -3.00
ExposureDose = 3.5
NumSubFrames = 8
"""


def test_parses_header_titles_and_sections():
    doc = parse_mdoc(TILT_MDOC)
    assert doc.header["Voltage"] == "300"
    assert doc.header["ImageSize"] == "3838 3710"
    assert len(doc.titles) == 2 and doc.titles[1].startswith("Tilt axis angle = 85.3")
    assert [s.index for s in doc.images] == ["0", "1", "2"]
    assert doc.images[0].values["SubFramePath"] == "X:\\data\\TS_01_000_0.0.tif"
    assert doc.images[2].values["TiltAngle"] == "-3.00"


def test_acquisition_per_section_with_header_fallback():
    acq = mdoc_acquisition(parse_mdoc(TILT_MDOC))
    assert len(acq) == 3
    first = acq[0]
    assert first["voltage_kv"] == 300.0 and first["pixel_size_a"] == 2.13
    assert first["dose_e_per_a2"] == 3.5 and first["frames"] == 8
    assert first["dose_per_frame_e_per_a2"] == 0.4375
    assert first["magnification"] == 42000.0 and first["exposure_s"] == 0.8
    assert first["camera_index"] == 0 and first["target_defocus_um"] == -3.5
    assert [a["tilt_deg"] for a in acq] == [0.000999877, 3.0, -3.0]
    # the global PixelSpacing and Voltage fill sections that do not repeat them
    assert acq[2]["pixel_size_a"] == 2.13 and acq[2]["voltage_kv"] == 300.0


def test_frame_mdoc_uses_frameset_sections():
    doc = parse_mdoc("Voltage = 200\n[FrameSet = 0]\nExposureDose = 40\nNumSubFrames = 40\n")
    assert [s.kind for s in doc.images] == ["FrameSet"]
    (acq,) = mdoc_acquisition(doc)
    assert acq == {"voltage_kv": 200.0, "dose_e_per_a2": 40.0, "frames": 40}


def test_nonsense_values_are_dropped():
    doc = parse_mdoc("[ZValue = 0]\nVoltage = nan\nPixelSpacing = -1\nTiltAngle = 1e9\n"
                     "NumSubFrames = 2.5\nExposureDose = abc\nCameraIndex = 0\n")
    assert mdoc_acquisition(doc) == [{"camera_index": 0}]
    assert numbers("1 inf") == [] and numbers("") == []


@pytest.mark.parametrize("text", ["", "\n\n", "just some words\nno pairs here\n",
                                  "= 3\n== x\n", "a\x00b = c\n"])
def test_not_an_mdoc_is_an_error(text):
    with pytest.raises(MdocError):
        parse_mdoc(text)


def test_read_rejects_binary_empty_and_oversized(tmp_path):
    binary = tmp_path / "bin.mdoc"
    binary.write_bytes(os.urandom(2048) + b"\x00")
    empty = tmp_path / "empty.mdoc"
    empty.write_bytes(b"")
    big = tmp_path / "big.mdoc"
    big.write_bytes(b"Voltage = 300\n" * 100)
    for path in (binary, empty):
        with pytest.raises(MdocError):
            read_mdoc(path)
    with pytest.raises(MdocError, match="larger than"):
        read_mdoc(big, max_bytes=100)
    assert read_mdoc(big).header["Voltage"] == "300"


def test_read_decodes_latin1(tmp_path):
    path = tmp_path / "win.mdoc"
    path.write_bytes("[T = Mag 42000 \u00d7 at 300 kV]\nVoltage = 300\n".encode("latin-1"))
    doc = read_mdoc(path)
    assert "\u00d7" in doc.titles[0] and doc.header["Voltage"] == "300"


def test_fifo_named_mdoc_does_not_hang(tmp_path):
    fifo = tmp_path / "x.mdoc"
    os.mkfifo(fifo)
    outcome: list[object] = []

    def target() -> None:
        try:
            read_mdoc(fifo)
        except MdocError as exc:
            outcome.append(exc)

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(5)
    assert not t.is_alive() and isinstance(outcome[0], MdocError)


def test_section_count_is_bounded(monkeypatch):
    monkeypatch.setattr(mdoc, "MAX_SECTIONS", 10)
    with pytest.raises(MdocError, match="more than 10 sections"):
        parse_mdoc("".join(f"[ZValue = {i}]\nTiltAngle = 0\n" for i in range(11)))


def test_long_values_are_truncated():
    doc = parse_mdoc("ImageFile = " + "x" * 100_000 + "\n")
    assert len(doc.header["ImageFile"]) == mdoc.MAX_VALUE_CHARS
