"""Entry headers carrying the values EMPIAR has published for released entries.

Built from ``fixtures/xml/valid/real-header-like.xml`` (a released public header) by replacing
its image sets, so everything but the image sets is a header EMPIAR released. The values of the
entries below are the ones EMPIAR's API returns for them (empiar-data-model.md, section 10).
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "fixtures" / "xml" / "valid" / "real-header-like.xml"

# Every value of category / voxelType EMPIAR has published outside the 0.48 enumerations.
PUBLISHED_CATEGORIES = (
    "micrographs - single frame - non-dose-weighted",
    "micrographs - single frame - no-doseweighted",
    "micrographs - focal pairs - processed",
    "Other",
)
PUBLISHED_VOXEL_TYPES = ("16 BIT FLOAT", "Other")

# The released image sets of the entries the layout tests rebuild (counts scaled down in tests).
ENTRY_10511 = {  # GMS mode-0 MRC movies directly in data/
    "name": "GMS movies", "directory": "/data", "category": "micrographs - multiframe",
    "headerFormat": "MRC", "dataFormat": "MRC", "numImagesOrTiltSeries": 3,
    "framesPerImage": 6, "voxelType": "UNSIGNED BYTE", "imageWidth": 64, "imageHeight": 48,
    "pixelWidth": 1.1, "pixelHeight": 1.1, "micrographsFilePattern": "data/*.mrc",
}
ENTRY_10318 = {  # MicroED: one ZIP of SMV frames per continuous-rotation series
    "name": "MicroED diffraction series", "directory": "data", "category": "diffraction images",
    "headerFormat": "SMV", "dataFormat": "SMV", "numImagesOrTiltSeries": 8,
    "framesPerImage": 1, "voxelType": "UNSIGNED 16 BIT INTEGER", "imageWidth": 32,
    "imageHeight": 32, "pixelWidth": 51.0, "pixelHeight": 51.0,
    "micrographsFilePattern": "data/*.zip",
}
ENTRY_10934 = {  # EPU K3 movies as .tiff.bz2 across grid squares
    "name": "EPU K3 movies", "directory": "/data/CL44-1_session",
    "category": "micrographs - multiframe", "headerFormat": "TIFF", "dataFormat": "TIFF",
    "numImagesOrTiltSeries": 6, "framesPerImage": 45, "voxelType": "UNSIGNED BYTE",
    "imageWidth": 46, "imageHeight": 32, "pixelWidth": 0.834, "pixelHeight": 0.834,
    "micrographsFilePattern":
        "data/CL44-1_session/Images-Disc1/GridSquare_*/Data/FoilHole_*_fractions.tiff.bz2",
}

_ORDER = ("name", "directory", "category", "headerFormat", "dataFormat",
          "numImagesOrTiltSeries", "framesPerImage", "voxelType")


def image_set_xml(values: dict[str, object]) -> str:
    """One ``<imageSet>`` in schema order from a flat dict of element values."""
    v = {k: escape(str(x)) for k, x in values.items()}
    lines = ["    <imageSet>"]
    lines += [f"        <{k}>{v[k]}</{k}>" for k in _ORDER]
    lines += [
        "        <dimensions>",
        f"            <imageWidth>{v['imageWidth']}</imageWidth>",
        f"            <pixelWidth>{v['pixelWidth']}</pixelWidth>",
        f"            <imageHeight>{v['imageHeight']}</imageHeight>",
        f"            <pixelHeight>{v['pixelHeight']}</pixelHeight>",
        "        </dimensions>",
        f"        <details>{v.get('details', 'As released.')}</details>",
        "        <segmentationList/>",
        f"        <micrographsFilePattern>{v.get('micrographsFilePattern', '')}"
        "</micrographsFilePattern>",
        "        <pickedParticlesFilePattern></pickedParticlesFilePattern>",
        "        <pickedParticlesDirectory></pickedParticlesDirectory>",
        "    </imageSet>",
    ]
    return "\n".join(lines)


def header(*image_sets: dict[str, object], experiment: str = "EMDB") -> str:
    """The released base header with ``image_sets`` instead of its own."""
    text = BASE.read_text(encoding="utf-8")
    sets = "\n".join(image_set_xml(s) for s in image_sets)
    text = re.sub(r"    <imageSet>.*</imageSet>", lambda _m: sets, text, flags=re.DOTALL)
    if experiment != "EMDB":
        text = text.replace("<experimentType>EMDB</experimentType>",
                            f"<experimentType>{experiment}</experimentType>")
    return text


def write_header(path: Path, *image_sets: dict[str, object], experiment: str = "EMDB") -> Path:
    """Write :func:`header` to ``path`` and return it."""
    path.write_text(header(*image_sets, experiment=experiment), encoding="utf-8")
    return path
