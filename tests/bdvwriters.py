"""BigDataViewer files written by hand with h5py, the way BigDataViewer lays them out, for the
HDF5 reader's tests and the pure-Python reader's agreement with libhdf5 (tests/test_h5meta.py)."""

from __future__ import annotations

import h5py
import numpy as np


def write_bdv(path, setups, timepoints=(0,), levels=1, data_type=None, res_rows=None,
              subdivisions=True):
    """A BDV file by hand: ``setups`` maps setup id -> (zyx shape, stored dtype)."""
    with h5py.File(path, "w") as f:
        for sid, (shape, dtype) in setups.items():
            g = f.create_group(f"s{sid:02d}")
            rows = res_rows or levels
            g["resolutions"] = np.ones((rows, 3))
            if subdivisions:
                g["subdivisions"] = np.full((rows, 3), 16, dtype="int32")
            if data_type is not None:
                g.attrs["dataType"] = data_type
            for t in timepoints:
                for lev in range(levels):
                    s = tuple(max(1, n >> lev) for n in shape)
                    f.create_dataset(f"t{t:05d}/s{sid:02d}/{lev}/cells", shape=s, dtype=dtype)


def write_xml(path, h5name, setups, unit="nm", voxel="1.5 1.5 3", extra=""):
    """A BigDataViewer XML: ``setups`` maps setup id -> "x y z" size text."""
    views = "".join(
        f"<ViewSetup><id>{sid}</id><name>s{sid}</name><size>{size}</size>"
        f"<voxelSize><unit>{unit}</unit><size>{voxel}</size></voxelSize></ViewSetup>\n"
        for sid, size in setups.items()
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<SpimData version="0.2">\n'
        '<BasePath type="relative">.</BasePath>\n'
        "<SequenceDescription>\n"
        f'<ImageLoader format="bdv.hdf5"><hdf5 type="relative">{h5name}</hdf5>{extra}'
        "</ImageLoader>\n"
        f"<ViewSetups>\n{views}</ViewSetups>\n"
        '<Timepoints type="range"><first>0</first><last>0</last></Timepoints>\n'
        "</SequenceDescription>\n"
        "</SpimData>\n",
        encoding="utf-8",
    )
