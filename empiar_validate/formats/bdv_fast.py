"""BigDataViewer files read in the main process, without libhdf5, when they are plain.

The HDF5 reader runs in worker processes (:mod:`empiar_validate.formats.isolation`) because
libhdf5 may crash on hostile bytes. A BigDataViewer file written by h5py, pybdv or
BigDataViewer itself is read here first by :class:`~empiar_validate.formats.h5meta.PureHdf5`,
in pure Python, through the same :func:`empiar_validate.formats.bdv.gather` as libhdf5 uses:
same record, same findings, a fraction of the cost (docs/performance.md). Anything the pure
reader does not cover (newer file format versions, soft or external links, odd types, damage,
a file that is not BigDataViewer at all) returns ``False`` with the record untouched, and the
registry hands the file to the libhdf5 reader as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from empiar_validate.formats import bdv
from empiar_validate.formats.h5meta import PARSE_ERRORS, PureHdf5
from empiar_validate.formats.h5model import Budget

if TYPE_CHECKING:
    from empiar_validate.formats.base import Source
    from empiar_validate.records import FileRecord


def read_fast(source: Source, record: FileRecord) -> bool:
    """Fill ``record`` and return True when ``source`` is a BigDataViewer file the pure reader
    reads completely; otherwise return False and leave ``record`` as it was."""
    if source.compression:
        return False
    try:
        with PureHdf5(source.path) as f:
            budget = Budget()
            links, _ = f.list_links(f.root, budget)
            if not bdv.looks_like_bdv(f, f.root, links):
                return False
            layout = bdv.gather(f, f.root, links, budget)
    except PARSE_ERRORS:
        return False
    if budget.exhausted:
        return False  # libhdf5's partial listing and its F403 are the report for such files
    bdv.fill(source, record, layout)
    return True
