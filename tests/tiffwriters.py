"""TIFF files laid out the way camera software writes them (this module holds no tests itself).

Camera software writes a movie frame by frame as the frames arrive, through libtiff: each
frame's strip data first, then its IFD (``TIFFWriteDirectory``), and the previous IFD's
next-offset is patched to point at the new one. So the IFDs of an EER or TIFF movie lie one per
frame, between the frames' data, not packed together as tifffile writes a whole array. The
frames here can be left as holes (a sparse file), so a 2,000-frame movie with realistic frame
spacing costs no disk.
"""

from __future__ import annotations

import struct
from pathlib import Path

EER_XML = (
    '<metadata><item name="commercialName">Falcon 4i</item>'
    '<item name="exposureTime" unit="s">2.5</item>'
    '<item name="numberOfFrames">{frames}</item>'
    '<item name="sensorPixelSize.height" unit="m">7.5e-11</item>'
    '<item name="sensorPixelSize.width" unit="m">7.5e-11</item>'
    '<item name="serialNumber">1234</item>'
    '<item name="totalDose" unit="e/pixel">2.25</item></metadata>'
)

SHORT, LONG, UNDEFINED = 3, 4, 7


def write_camera_tiff(
    path: Path, frames: int, *, width: int = 4096, height: int = 4096, frame_bytes: int = 65536,
    compression: int = 65002, bits: int = 1, xml: str | None = EER_XML, sparse: bool = True,
    big_endian: bool = False,
) -> Path:
    """A movie written frame by frame, libtiff style: ``strip, IFD, strip, IFD...``.

    Defaults make an EER-like file (Falcon 4: 4096 x 4096, compression 65002, the acquisition
    XML in tag 65001 of the first IFD); ``compression=1, bits=8`` with ``frame_bytes=width *
    height`` makes a plain uncompressed movie. ``sparse`` leaves the strip data as holes.
    """
    bo = ">" if big_endian else "<"
    text = xml.format(frames=frames).encode() if xml is not None else None
    with open(path, "wb") as fh:
        fh.write((b"MM\x00*" if big_endian else b"II*\x00") + struct.pack(bo + "I", 0))
        previous_next = 4  # where the pointer to the next IFD is to be patched
        for i in range(frames):
            strip = fh.tell()
            if sparse:
                fh.seek(frame_bytes, 1)
            else:
                fh.write(bytes([i & 0xFF]) * frame_bytes)
            extra = text if i == 0 else None
            entries = [
                (256, SHORT if width < 65536 else LONG, 1, width),
                (257, SHORT if height < 65536 else LONG, 1, height),
                (258, SHORT, 1, bits),
                (259, SHORT, 1, compression),
                (262, SHORT, 1, 1),
                (273, LONG, 1, strip),
                (277, SHORT, 1, 1),
                (278, LONG, 1, height),
                (279, LONG, 1, frame_bytes),
                (284, SHORT, 1, 1),
            ]
            ifd = fh.tell() + (fh.tell() & 1)  # IFDs start on a word boundary
            value_at = ifd + 2 + 12 * (len(entries) + (extra is not None)) + 4
            if extra is not None:
                entries.append((65001, UNDEFINED, len(extra), value_at))
            block = struct.pack(bo + "H", len(entries))
            for code, typ, count, value in entries:
                if typ == SHORT:
                    field = struct.pack(bo + "HH", value, 0)
                else:
                    field = struct.pack(bo + "I", value)
                block += struct.pack(bo + "HHI", code, typ, count) + field
            block += struct.pack(bo + "I", 0)
            fh.seek(ifd)
            fh.write(block + (extra or b""))
            end = fh.tell()
            fh.seek(previous_next)
            fh.write(struct.pack(bo + "I", ifd))  # TIFFWriteDirectory links the new IFD
            previous_next = ifd + 2 + 12 * len(entries)
            fh.seek(end)
        fh.truncate()
    return path


def write_tifffile_pages(path: Path, frames: int, width: int = 256, height: int = 256) -> Path:
    """A movie written with tifffile one frame per ``write()`` call, as acquisition scripts do
    (``contiguous=False``: each frame gets its own IFD, followed by its data)."""
    import numpy as np
    import tifffile

    frame = np.zeros((height, width), np.uint8)
    with tifffile.TiffWriter(path) as tw:
        for _ in range(frames):
            tw.write(frame, photometric="minisblack", contiguous=False)
    return path
