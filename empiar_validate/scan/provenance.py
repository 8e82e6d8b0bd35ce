"""Which values of an entry XML ``scan`` derived from the files, recorded in the XML itself.

``check`` is strict about what came from the files (a changed header is drift, an error) and
lenient about what a person typed (a pixel size that differs from the headers may be a
calibration). To know which is which, ``scan`` writes, as the first child of every
``imageSet``, one processing instruction::

    <?empiar-validate derived="numImagesOrTiltSeries framesPerImage voxelType ..."
      layouts="stack" files="3" bytes="55296"?>

- ``derived``: the XML elements whose value came from the headers (not from the metadata);
- ``layouts``: the layouts of the files (image, stack, volume: what MRC's space group and the
  TIFF page count say the set is);
- ``files``/``bytes``: the number of image files the values were derived from and their total
  size (gain references left out, as ``check`` leaves them out).

A processing instruction is invisible to the XSD, to Schematron and to EMPIAR's own tools, so
the XML stays valid EMPIAR XML; it holds no time or path, so it is byte-identical across runs. An
XML without it (a released header, one written by hand) gets the lenient policy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from empiar_validate.model import ImageSet
from empiar_validate.records import FileRecord

TARGET = "empiar-validate"
# ImageSet attribute -> XML element, in the XML's order
ELEMENTS = {
    "header_format": "headerFormat", "data_format": "dataFormat",
    "num_images_or_tilt_series": "numImagesOrTiltSeries", "frames_per_image": "framesPerImage",
    "voxel_type": "voxelType", "image_width": "imageWidth", "pixel_width": "pixelWidth",
    "image_height": "imageHeight", "pixel_height": "pixelHeight",
}
_PSEUDO_ATTR = re.compile(r'([a-z]+)="([^"]*)"')


@dataclass(frozen=True, slots=True)
class Provenance:
    """What the processing instruction of one ``imageSet`` says."""

    derived: frozenset[str]
    layouts: tuple[str, ...]
    files: int | None
    bytes: int | None


def counted(files: Iterable[FileRecord]) -> list[FileRecord]:
    """The files whose sizes and layouts the record covers: gain references left out, as
    ``check`` leaves them out of an image set's members."""
    from empiar_validate.scan import category as cat

    files = list(files)
    gains = {id(r) for r in cat.gain_references([r for r in files if r.format is not None])}
    if len(gains) == len(files):
        return files  # the set is the gain reference
    return [r for r in files if id(r) not in gains]


def instruction_text(s: ImageSet) -> str:
    """The processing instruction's text for one image set (deterministic)."""
    derived = " ".join(el for attr, el in ELEMENTS.items() if attr in s.derived)
    files = counted(s.files)
    layouts = " ".join(sorted({r.layout for r in files if r.layout}))
    size = sum(r.size or 0 for r in files)
    return f'derived="{derived}" layouts="{layouts}" files="{len(files)}" bytes="{size}"'


def add_instruction(image_set_el: Any, s: ImageSet) -> None:
    """Put the record first in the ``imageSet`` element (lxml)."""
    from lxml import etree

    image_set_el.insert(0, etree.ProcessingInstruction(TARGET, instruction_text(s)))


def read_instruction(image_set_el: Any) -> Provenance | None:
    """The record of a parsed ``imageSet`` element, or ``None`` when the XML has none."""
    from lxml import etree

    for child in image_set_el:
        if isinstance(child, etree._ProcessingInstruction) and child.target == TARGET:
            fields = dict(_PSEUDO_ATTR.findall(child.text or ""))
            return Provenance(
                frozenset(fields.get("derived", "").split()),
                tuple(fields.get("layouts", "").split()),
                _int(fields.get("files")), _int(fields.get("bytes")),
            )
    return None


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None
