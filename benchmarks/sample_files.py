"""Sample files the benchmarks share, written the way the field's software writes them (the
suite's DigitalMicrograph writer, pybdv), so that every benchmark times the same files."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # dmwriter


def dm4(path: Path) -> None:
    """A 256 x 256 uint16 DM4 image with a 0.5 nm pixel size."""
    import dmwriter
    import numpy as np

    dmwriter.write_dm(path, np.zeros((256, 256), dtype=np.uint16), version=4,
                      scale=(0.5, 0.5), unit="nm")


def bdv(path: Path) -> None:
    """A BigDataViewer ``.h5`` + ``.xml`` pair from pybdv: one 8 x 64 x 64 uint16 setup."""
    import numpy as np
    import pybdv

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        pybdv.make_bdv(np.zeros((8, 64, 64), dtype=np.uint16), str(path),
                       resolution=[1.0, 0.5, 0.5], unit="micrometer")
