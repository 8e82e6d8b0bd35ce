"""The one record every format reader returns: what a file holds, read from its header alone."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field

from empiar_validate.findings import Finding, Severity

# How the images in a file are laid out; the scanner uses it to guess an EMPIAR category.
LAYOUT_IMAGE = "image"  # one 2-D image
LAYOUT_STACK = "stack"  # several 2-D images of the same kind: movie frames, particles, tilts
LAYOUT_VOLUME = "volume"  # a 3-D reconstruction / map / tomogram
LAYOUTS = (LAYOUT_IMAGE, LAYOUT_STACK, LAYOUT_VOLUME)


@dataclass(slots=True)
class FileRecord:
    """What one file holds, in EMPIAR's vocabulary.

    ``format`` is EMPIAR's data format name (``MRC``, ``MRCS``, ``TIFF``, ``EER``, ``DM3``, ``DM4``,
    ``BIG DATA VIEWER HDF5``, ``HDF5``, ``IMAGIC``, ``SPIDER``) or ``None`` when the file is not an
    image file we know. ``header_format`` differs only where EMPIAR says so (BigDataViewer:
    ``XML``).
    ``depth`` is the number of frames, sections or images in the file. Pixel sizes are in Å, or
    ``None`` when the header does not say. ``problems`` are findings about this file; a reader
    never raises for a bad file. ``extra`` holds format-specific facts (compression, MRC mode,
    extended header type, acquisition metadata) as JSON-ready values. ``companion`` holds
    what the scan's read stage parsed from a companion file (tilt angles, .mdoc).
    """

    path: str
    _: KW_ONLY  # everything but the path by keyword: a record reads the same wherever it is built
    format: str | None = None
    header_format: str | None = None
    voxel_type: str | None = None
    width: int | None = None
    height: int | None = None
    depth: int | None = None
    pixel_width: float | None = None
    pixel_height: float | None = None
    layout: str | None = None
    size: int | None = None
    problems: list[Finding] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)
    # What a companion file says (a tilt list or .mdoc, parsed once in the scan's read stage);
    # not part of the inspect output.
    companion: object | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        """True when no problem has error severity."""
        return not any(p.severity is Severity.ERROR for p in self.problems)

    def to_dict(self) -> dict[str, object]:
        """The ``inspect --format json`` shape; keys in a fixed order, extras sorted."""
        return {
            "path": self.path,
            "format": self.format,
            "header_format": self.header_format,
            "voxel_type": self.voxel_type,
            "width": self.width,
            "height": self.height,
            "depth": self.depth,
            "pixel_width": self.pixel_width,
            "pixel_height": self.pixel_height,
            "layout": self.layout,
            "size": self.size,
            "problems": [p.to_dict() for p in self.problems],
            "extra": _sorted(self.extra),
        }


_PLAIN = frozenset({str, int, float, bool, type(None)})  # JSON leaves: returned as they are


def _sorted(value: object) -> object:
    """Recursively sort dict keys so JSON output is byte-stable. Leaves are tested by exact type
    before any call (a record's extras are mostly leaves: this runs for every file listed)."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, dict):  # keys as text, sorted as text (stable for equal texts)
        return {str(k): (v if type(v := value[k]) in _PLAIN else _sorted(v))
                for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [v if type(v) in _PLAIN else _sorted(v) for v in value]
    return value
