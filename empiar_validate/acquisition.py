"""Acquisition metadata into an image set's ``details``: what EMPIAR asks for and forms omit.

EMPIAR's FAQ asks depositors to give, in each image set's details, the parameters needed for
reprocessing: dose per frame, accelerating voltage, Cs, pixel size, camera. The readers already
pull them from MRC FEI extended headers, DM4 tags and EER/TIFF metadata into
``record.extra["acquisition"]``; SerialEM ``.mdoc`` companions add tilt angles and doses. This
module turns those per-image facts into one labelled sentence, so a reader of the entry can tell
measured values from typed ones, and merges it after the depositor's own text.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.model import ImageSet
from empiar_validate.paths import display_path

if TYPE_CHECKING:
    from empiar_validate.scan.companions import TiltInfo

MAX_MDOCS = 20_000  # per image set; beyond that the first ones (sorted) are representative
MARKER = "by empiar-validate:"  # every extracted paragraph carries it, so re-runs replace it

P_MDOC_UNREADABLE = rule(
    "P140", Severity.WARNING, "SerialEM .mdoc file cannot be read",
    "Replace it with the .mdoc SerialEM wrote, or remove it; its values are not used.",
)


@dataclass(slots=True)
class Acquisition:
    """Per-image acquisition dicts of one image set, where they came from, and read problems."""

    from_headers: list[dict[str, object]] = field(default_factory=list)
    from_mdoc: list[list[dict[str, object]]] = field(default_factory=list)  # one list per mdoc
    findings: list[Finding] = field(default_factory=list)

    @property
    def observations(self) -> list[dict[str, object]]:
        """Every per-image dict, headers first."""
        return self.from_headers + [o for doc in self.from_mdoc for o in doc]


def collect_acquisition(
    image_set: ImageSet, *, root: str | None = None,
    companions: Mapping[str, TiltInfo] | None = None,
) -> Acquisition:
    """Gather the readers' acquisition dicts and the image set's ``.mdoc`` companions.

    ``companions`` holds the .mdoc files the scan's read stage already parsed, by path; the
    scan always passes it, so nothing is read twice. Without it (a caller holding only an
    image set) the .mdoc files are read here, from ``root`` (the current directory when
    ``None``).
    """
    from empiar_validate.scan.companions import read_tilt_info

    acq = Acquisition()
    for rec in image_set.files:
        values = rec.extra.get("acquisition")
        if isinstance(values, dict) and values:
            acq.from_headers.append(_normalised(values))
    mdocs = sorted(c for c in image_set.companions if c.lower().endswith(".mdoc"))
    for rel in mdocs[:MAX_MDOCS]:
        if companions is not None:
            info = companions.get(rel)
            if info is None:
                continue
        else:
            info = read_tilt_info(os.path.join(root, rel) if root else rel)
        if info.error is not None:
            acq.findings.append(Finding.of(P_MDOC_UNREADABLE, info.error,
                                           file=display_path(rel)))
            continue
        if info.acquisition:
            acq.from_mdoc.append(info.acquisition)
    return acq


def summarise_acquisition(image_set: ImageSet, *, root: str | None = None) -> str | None:
    """The labelled sentence for ``image_set``'s details, or ``None`` when nothing was found.

    >>> from empiar_validate.records import FileRecord
    >>> rec = FileRecord("a.eer", extra={"acquisition": {"voltage_kv": 300.0, "frames": 40}})
    >>> summarise_acquisition(ImageSet("m", "/data/m", "m", files=[rec]))
    'Extracted from file headers by empiar-validate: 300 kV, 40 frames per image.'
    """
    return describe_acquisition(collect_acquisition(image_set, root=root))


# Reader keys that name the same quantity differently (MRC FEI headers use the long forms).
_ALIASES = {"exposure_time_s": "exposure_s", "tilt_angle_deg": "tilt_deg"}


def _normalised(values: dict[str, object]) -> dict[str, object]:
    out = dict(values)
    for alias, key in _ALIASES.items():
        if alias in out and key not in out:
            out[key] = out.pop(alias)
    return out


def describe_acquisition(acq: Acquisition) -> str | None:
    """The sentence for already collected values (see :func:`summarise_acquisition`)."""
    obs = acq.observations
    parts = _parts(obs)
    tilt = _tilt_part(acq.from_mdoc)
    if tilt:
        parts.append(tilt)
    if not parts:
        return None
    sources = []
    if acq.from_headers:
        sources.append("file headers")
    if acq.from_mdoc:
        sources.append("SerialEM .mdoc files")
    label = f"Extracted from {' and '.join(sources)} {MARKER}"
    return f"{label} {', '.join(parts)}."


def merge_details(given: str | None, extracted: str | None) -> str | None:
    """The depositor's text first, then the extracted sentence; idempotent across re-runs.

    A paragraph written by an earlier run (it carries :data:`MARKER`) is replaced, not repeated.

    >>> merge_details("Gain flipped.", "Extracted from file headers by empiar-validate: 300 kV.")
    'Gain flipped.\\n\\nExtracted from file headers by empiar-validate: 300 kV.'
    """
    kept = [p for p in (given or "").split("\n\n")
            if p.strip() and not (p.lstrip().startswith("Extracted from") and MARKER in p)]
    if extracted:
        kept.append(extracted)
    text = "\n\n".join(p.strip("\n") for p in kept)
    return text or None


def _num(x: float) -> str:
    """Short, stable number text: 300, 2.7, 0.83, 105000."""
    if abs(x) >= 1e4:
        return f"{x:.0f}"
    text = f"{x:.4g}"
    return "0" if text == "-0" else text


def _span(values: Iterable[float], unit: str = "") -> str | None:
    vals = sorted(set(values))
    if not vals:
        return None
    sep = "" if unit in ("°", "x") else " "
    if len(vals) == 1:
        return f"{_num(vals[0])}{sep}{unit}".rstrip()
    return f"{_num(vals[0])} to {_num(vals[-1])}{sep}{unit}".rstrip()


def _floats(obs: list[dict[str, object]], key: str) -> list[float]:
    out = []
    for o in obs:
        v = o.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool):
            out.append(float(v))
    return out


def _per_frame_doses(obs: list[dict[str, object]]) -> list[float]:
    out = []
    for o in obs:
        direct = o.get("dose_per_frame_e_per_a2")
        dose, frames = o.get("dose_e_per_a2"), o.get("frames")
        if isinstance(direct, int | float) and direct > 0:
            out.append(float(direct))
        elif (isinstance(dose, int | float) and isinstance(frames, int) and frames > 1
              and dose > 0):
            out.append(float(dose) / frames)
    return out


def _parts(obs: list[dict[str, object]]) -> list[str]:
    parts: list[str] = []

    def add(template: str, span: str | None) -> None:
        if span:
            parts.append(template.format(span))

    microscopes = sorted({str(o["microscope"]) for o in obs
                          if isinstance(o.get("microscope"), str) and o["microscope"]})
    if microscopes:
        parts.append(f"microscope {' / '.join(microscopes[:3])}")
    add("{}", _span(_floats(obs, "voltage_kv"), "kV"))
    add("Cs {}", _span(_floats(obs, "cs_mm"), "mm"))
    add("pixel size {}", _span(_floats(obs, "pixel_size_a"), "Å"))
    cameras = sorted({str(o["camera"]) for o in obs
                      if isinstance(o.get("camera"), str) and o["camera"]})
    if cameras:
        more = f" and {len(cameras) - 3} more" if len(cameras) > 3 else ""
        parts.append(f"camera {' / '.join(cameras[:3])}{more}")
    elif _floats(obs, "camera_index"):
        add("SerialEM camera index {}", _span(_floats(obs, "camera_index")))
    add("nominal magnification {}", _span(_floats(obs, "magnification"), "x"))
    add("exposure {}", _span(_floats(obs, "exposure_s"), "s"))
    frames = [f for f in _floats(obs, "frames") if f >= 1]
    add("{} frames per image", _span(frames))
    add("dose {} per image", _span(_floats(obs, "dose_e_per_a2"), "e/Å²"))
    add("dose {} per frame", _span(_per_frame_doses(obs), "e/Å²"))
    add("defocus {}", _span(_floats(obs, "defocus_um"), "µm"))
    add("target defocus {}", _span(_floats(obs, "target_defocus_um"), "µm"))
    return parts


def _tilt_part(docs: list[list[dict[str, object]]]) -> str | None:
    """Tilt series from mdocs: tilts per series, the angular range, total dose per series."""
    series = [d for d in docs if len(_floats(d, "tilt_deg")) >= 2]
    if not series:
        return None
    counts = [len(_floats(d, "tilt_deg")) for d in series]
    low = min(min(_floats(d, "tilt_deg")) for d in series)
    high = max(max(_floats(d, "tilt_deg")) for d in series)
    text = (f"{len(series)} tilt series of {_span(counts)} tilts from {_num(low)}° to "
            f"{_num(high)}°")
    totals = [sum(_floats(d, "dose_e_per_a2")) for d in series if _floats(d, "dose_e_per_a2")]
    if totals:
        text += f", total dose {_span([round(t, 3) for t in totals], 'e/Å²')} per tilt series"
    return text
