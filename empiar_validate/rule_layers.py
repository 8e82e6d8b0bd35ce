"""Which layer of the pipeline owns which rule ids: one row per layer, in pipeline order.

A rule id is a letter and three digits; each layer owns ranges of them, so the id alone says who
raises a finding (``F1xx`` the MRC reader, ``S1xx`` the Schematron...). ``docs/rules.md`` is
generated section by section from this table (``python -m empiar_validate.tools.rulesdoc``), and
``tests/test_rules_doc.py`` checks that every registered rule falls in exactly one range and is
registered by a module of that layer. A new rule takes the next free id of its layer's range; a
new layer adds a row with ranges that overlap no other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Layer:
    """A part of the pipeline that raises findings.

    ``ranges`` are ``(letter, first, last)`` id ranges; ``modules`` are the module-name prefixes
    allowed to register rules of the layer; ``intro`` is the section text of docs/rules.md.
    """

    key: str
    title: str
    ranges: tuple[tuple[str, int, int], ...]
    modules: tuple[str, ...]
    intro: str


_P = "empiar_validate."

LAYERS: tuple[Layer, ...] = (
    Layer(
        "files", "Files and walking", (("F", 0, 99),),
        (_P + "formats", _P + "walk", _P + "lfs", _P + "remote"),
        "Reported by the dispatcher (`formats/__init__.py`) and the directory walk (`walk.py`) "
        "before any format reader runs. Special files are never opened; links are followed once. "
        "Objects of a dataset given as a URL that cannot be read are F031-F034 "
        "(`remote/objects.py`; see [remote.md](remote.md)).",
    ),
    Layer(
        "mrc", "MRC", (("F", 100, 199),), (_P + "formats.mrc",),
        "Reader: `formats/mrc.py`; details in [formats/mrc.md](formats/mrc.md). The reader also "
        "reports F007 for a file with an MRC extension whose header has neither the `MAP ` "
        "identifier nor plausible dimensions and mode.",
    ),
    Layer(
        "tiff", "TIFF and EER", (("F", 200, 299),),
        (_P + "formats.tiff", _P + "formats.eer", _P + "formats.vendor"),
        "Reader: `formats/tiff.py`; details in [formats/tiff.md](formats/tiff.md). The IFD chain "
        "is walked by a bounded walker (loops, offsets past the end, absurd tag counts and page "
        "counts are findings); tifffile parses the first page's vendor metadata only.",
    ),
    Layer(
        "dm", "DM3 and DM4", (("F", 300, 399),), (_P + "formats.dm",),
        "Reader: `formats/dm.py` with the bounded tag-tree parser `formats/dmtags.py`; details in "
        "[formats/dm.md](formats/dm.md). Pixel data is never read: the parser seeks past the "
        "image's `Data` array.",
    ),
    Layer(
        "hdf5", "HDF5", (("F", 400, 419),),
        (_P + "formats.hdf5", _P + "formats.h5", _P + "formats.eman2"),
        "Reader: `formats/hdf5.py`; details in [formats/hdf5.md](formats/hdf5.md).",
    ),
    Layer(
        "bdv", "BigDataViewer", (("F", 420, 499),), (_P + "formats.bdv",),
        "Reader: `formats/bdv.py`; details in [formats/hdf5.md](formats/hdf5.md). The companion "
        "XML of a BigDataViewer file is parsed with `xmlsafe` (X001–X004).",
    ),
    Layer(
        "imagic", "IMAGIC", (("F", 500, 599),), (_P + "formats.imagic",),
        "Reader: `formats/imagic.py`; details in [formats/imagic-spider.md]"
        "(formats/imagic-spider.md). Findings about a `.hed`/`.img` pair are reported once, on "
        "the `.hed`.",
    ),
    Layer(
        "spider", "SPIDER", (("F", 600, 699),), (_P + "formats.spider",),
        "Reader: `formats/spider.py`; details in [formats/imagic-spider.md]"
        "(formats/imagic-spider.md).",
    ),
    Layer(
        "diffraction", "SMV and CBF diffraction frames, ZIP series", (("F", 700, 799),),
        (_P + "formats.smv", _P + "formats.archive", _P + "formats.cbf"),
        "Readers: `formats/smv.py` (F700–F709), `formats/archive.py` (F710–F719) and "
        "`formats/cbf.py` (F720–F729); details in "
        "[formats/smv-zip.md](formats/smv-zip.md). SMV is recognised by its text header before "
        "`.img` is taken for IMAGIC; a `.zip` of frames is one series, read from its central "
        "directory and its first member's header, never extracted.",
    ),
    Layer(
        "grouping", "Scan: grouping files into image sets", (("G", 100, 199),),
        (_P + "scan",),
        "Reported by `scan` (and by `package`, which scans too) while grouping files into image "
        "sets. Details in [scan.md](scan.md).",
    ),
    Layer(
        "metadata", "Scan: metadata", (("M", 100, 199),), (_P + "scan",),
        "Reported by `scan` (and `package`) about the metadata file and its merge with what the "
        "headers say. Details in [metadata.md](metadata.md).",
    ),
    Layer(
        "package", "Package and deposition advice", (("P", 100, 199),),
        (_P + "package", _P + "acquisition", _P + "mdoc"),
        "Reported by `package` and, for P140, by the acquisition reader; details in "
        "[package.md](package.md). P101–P106 are about layout, P110–P114 follow EMPIAR's FAQ for "
        "cryo-EM/ET data (experiment type 3, or image sets that look like cryo-EM), P120–P121 "
        "about `deposition.json`, P130–P132 about checksums.",
    ),
    Layer(
        "check", "Check (drift)", (("C", 100, 199),),
        (_P + "scan.drift", _P + "scan.strict", _P + "check"),
        "Reported by `check` when the entry XML and the data disagree; each finding names the "
        "image set, the field, the XML value (expected) and the disk value (actual), at the XML "
        "element's line. Details in [check.md](check.md).",
    ),
    Layer(
        "xml", "XML parsing and XML Schema", (("X", 0, 99), ("X", 100, 199)),
        (_P + "xmlsafe", _P + "validation"),
        "Reported by `validate` (and by every command that reads XML through `xmlsafe`): X0xx "
        "come from safe parsing (`xmlsafe.py`), X1xx from the XML Schema (`validation/xsd.py`, "
        "`schemas/empiar.xsd`). Every finding carries the source line and the element's path "
        "(`/entry/imageSet[2]/directory`). Details in [validate.md](validate.md); each rule has a "
        "fixture `fixtures/xml/invalid/<id>-*.xml` (except X003 and X004, tested in code).",
    ),
    Layer(
        "schematron", "Schematron", (("S", 100, 199),), (_P + "validation.schematron",),
        "The asserts and reports of `schemas/empiar.sch`: each one's `id` is the rule id, its "
        "`role` the severity, its pattern's title and paragraph the title and fix below. "
        "Schematron messages name the values involved and end with \"Fix: ...\". Each rule has "
        "a fixture `fixtures/xml/invalid/<id>-*.xml`.",
    ),
)


LAYERS = (*LAYERS, Layer(
    "report", "Reporting", (("R", 100, 199),), (_P + "predeposition", _P + "reporting"),
    "Raised while a command assembles its report from what the layers above found: R101 "
    "stands for the pre-deposition findings (M115, S124, S125) of a header that has no "
    "accession code yet, said once; with an accession code those findings are errors.",
),)


def layer_of(rule_id: str) -> Layer | None:
    """The layer whose ranges contain ``rule_id`` (``None`` when no range does)."""
    letter, digits = rule_id[:1], rule_id[1:]
    if not digits.isdigit():
        return None
    number = int(digits)
    for layer in LAYERS:
        if any(letter == p and lo <= number <= hi for p, lo, hi in layer.ranges):
            return layer
    return None
