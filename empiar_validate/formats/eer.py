"""EER (Falcon electron-event) movies: TIFF containers whose pages are event lists.

Recognised by the compression codes 65000-65002 or the acquisition XML in tag 65001; that XML
(``<metadata><item name=.. unit=..>``) gives the pixel size, dose and frame count, which is
checked against the IFD chain.
"""

from __future__ import annotations

import contextlib
import math

from empiar_validate.findings import Severity, rule
from empiar_validate.formats.tiff_ifd import Chain
from empiar_validate.formats.units import round6
from empiar_validate.records import LAYOUT_STACK, FileRecord

EER_COMPRESSIONS = {65000: "EER_V0", 65001: "EER_V1", 65002: "EER_V2"}

F_EER_METADATA = rule(
    "F211", Severity.WARNING, "EER acquisition metadata is malformed",
    "The file may be corrupt; check it with the Falcon/EPU software.",
)
F_EER_FRAMES = rule(
    "F212", Severity.WARNING, "EER frame count differs from its acquisition metadata",
    "The file may be truncated; copy it again from the original.",
)


def is_eer_xml(value: object) -> bool:
    return isinstance(value, bytes) and value.lstrip()[:10] == b"<metadata>"


def fill_eer(record: FileRecord, chain: Chain, problem) -> None:  # type: ignore[no-untyped-def]
    """EER: format, voxel type BIT (electron events), and the acquisition XML of tag 65001."""
    record.format = record.header_format = "EER"
    # EMPIAR added EER and the voxel type BIT together (schema 0.46): an EER frame records
    # single electron events, whatever container bits the TIFF tags claim.
    record.voxel_type = "BIT"
    record.layout = LAYOUT_STACK
    xml = chain.first.get(65001)
    if not is_eer_xml(xml):
        return
    items = _eer_items(xml, problem)  # type: ignore[arg-type]
    if not items:
        return
    acq: dict[str, object] = {}
    pixel_m = _eer_number(items, "sensorPixelSize.width", "m")
    pixel_h_m = _eer_number(items, "sensorPixelSize.height", "m")
    if pixel_m and pixel_m > 0:
        acq["pixel_size_a"] = round6(pixel_m * 1e10)
        record.pixel_width = acq["pixel_size_a"]  # type: ignore[assignment]
        record.pixel_height = round6((pixel_h_m if pixel_h_m and pixel_h_m > 0 else pixel_m) * 1e10)
        record.extra["pixel_size_source"] = "eer"
    exposure = _eer_number(items, "exposureTime", "s")
    if exposure is not None:
        acq["exposure_s"] = exposure
    frames = _eer_number(items, "numberOfFrames", None)
    if frames is not None and frames == int(frames):
        acq["frames"] = int(frames)
        if record.depth is not None and int(frames) != record.depth:
            problem(
                F_EER_FRAMES,
                f"the metadata says {int(frames)} frames but the file has {record.depth}",
            )
    dose = _eer_number(items, "totalDose", None)
    dose_unit = items.get("totalDose", ("", None))[1]
    if dose is not None:
        unit = (dose_unit or "").replace(" ", "").lower()
        if "pixel" in unit or unit in ("e", "e-", ""):
            acq["dose_e_per_pixel"] = dose
            if pixel_m and pixel_h_m:
                acq["dose_e_per_a2"] = round6(dose / (pixel_m * 1e10 * pixel_h_m * 1e10))
            elif pixel_m:
                acq["dose_e_per_a2"] = round6(dose / (pixel_m * 1e10) ** 2)
        elif "å" in unit or "a^2" in unit or "a2" in unit:
            acq["dose_e_per_a2"] = dose
    rate = _eer_number(items, "meanDoseRate", None)
    if rate is not None:
        acq["dose_rate_e_per_pixel_per_s"] = rate
    camera = items.get("commercialName", items.get("cameraName", ("", None)))[0]
    if camera:
        acq["camera"] = camera
    serial = items.get("serialNumber", ("", None))[0]
    if serial:
        acq["camera_serial"] = serial
    if acq:
        record.extra["acquisition"] = acq


def _eer_items(xml: bytes, problem) -> dict[str, tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    """``<item name=.. unit=..>value</item>`` entries; no DTDs or entities are accepted."""
    from xml.etree import ElementTree

    if b"<!" in xml:
        problem(F_EER_METADATA, "acquisition XML contains a DTD or entity declaration; ignored")
        return {}
    try:
        root = ElementTree.fromstring(xml.rstrip(b"\x00"))
    except ElementTree.ParseError as exc:
        problem(F_EER_METADATA, f"acquisition XML does not parse: {exc}")
        return {}
    out: dict[str, tuple[str, str | None]] = {}
    for item in root.iter("item"):
        name = item.get("name")
        text = (item.text or "").strip()
        if name and text:
            out[name] = (text, item.get("unit"))
    return out


def _eer_number(
    items: dict[str, tuple[str, str | None]], name: str, unit: str | None
) -> float | None:
    """A finite number, only when its unit is the one expected (or absent)."""
    text, got = items.get(name, ("", None))
    value = math.nan
    with contextlib.suppress(ValueError):
        value = float(text)
    if not math.isfinite(value):
        return None
    if unit is not None and got is not None and got.strip() != unit:
        return None
    return value
