"""Derived values EMPIAR has no name for: say so at the source, with a fix that fits.

The XSD's enumerations are closed, so a format or voxel type the files really have (plain
HDF5, 16-bit float) fails validation with a generic X100 ("did you mean 32 BIT FLOAT?") that
would misdescribe the data if followed. This finding names the real value and the real options.
"""

from __future__ import annotations

from collections.abc import Callable

from empiar_validate import vocab
from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.model import VARIABLE, ImageSet

G_OUTSIDE = rule(
    "G115", Severity.ERROR, "the files hold a format or voxel type EMPIAR has no name for",
    "Convert the files to a format and voxel type EMPIAR lists (docs/metadata.md), or keep "
    "them and describe them in the image set's details: the deposition JSON then carries them "
    "as 'other' ('OT'), and EMPIAR's annotators decide. Never relabel them to a listed type.",
)

_FIELDS = (
    ("data_format", "dataFormat", "data format"),
    ("header_format", "headerFormat", "header format"),
    ("voxel_type", "voxelType", "voxel type"),
)


def outside_vocabulary(image_sets: list[ImageSet], show: Callable[[str], str]) -> list[Finding]:
    """One G115 per derived value that has no EMPIAR code and that EMPIAR never published."""
    out = []
    for s in image_sets:
        for attr, element, label in _FIELDS:
            value = getattr(s, attr)
            if not value or value == VARIABLE or attr not in s.derived:
                continue
            if value in vocab.PUBLISHED_VALUES.get(attr, ()):
                continue  # EMPIAR has published it (16 BIT FLOAT): the schema's S127 warns

            if vocab.encode_code(attr, value).startswith("('OT'"):
                known = ", ".join(vocab.CODE_TABLES[attr].values())
                out.append(Finding.of(
                    G_OUTSIDE, f"the files' {label} is {value}, which EMPIAR does not list "
                    f"({known})", file=show(s.rel_dir), image_set=s.name, field_name=element,
                    actual=value,
                ))
    return out
