"""EMAN2 image files (``.hdf``): one HDF5 group per image under ``/MDF/images``."""

from __future__ import annotations

import math
from typing import Any

from empiar_validate.findings import Finding
from empiar_validate.formats.h5model import H_ABSURD, H_NO_IMAGE, fill_dimensions
from empiar_validate.formats.h5tree import dataset_info, open_dataset, open_group, small_attr
from empiar_validate.records import LAYOUT_IMAGE, LAYOUT_STACK, LAYOUT_VOLUME, FileRecord


def looks_like_eman2(root: Any) -> bool:
    """True when the file has EMAN2's ``/MDF/images`` group."""
    return open_group(root, b"MDF/images") is not None


def describe(record: FileRecord, root: Any) -> None:
    """EMAN2 ``.hdf``: one group per image under ``/MDF/images``, pixel size in ``EMAN.apix_*``.

    Only the first image is examined (a particle stack can hold 10^5 images); the count comes
    from the group's link count, which HDF5 stores, so no listing is needed.
    """
    images = open_group(root, b"MDF/images")
    count = images.get_num_objs() if images is not None else 0
    record.extra["eman2_images"] = count
    first = open_dataset(root, b"MDF/images/0/image")
    if first is None:
        record.problems.append(Finding.of(
            H_NO_IMAGE, "EMAN2 file without /MDF/images/0/image", file=record.path,
        ))
        return
    info = dataset_info(first, "/MDF/images/0/image")
    if info.implausible:
        record.problems.append(Finding.of(
            H_ABSURD, f"implausible dataset shape: {info.path} {list(info.shape or ())}",
            file=record.path,
        ))
        return
    if not info.is_image:
        record.problems.append(Finding.of(
            H_NO_IMAGE, f"{info.path} is {info.dtype}{list(info.shape or ())}, not an image",
            file=record.path,
        ))
        return
    record.extra["image_dataset"] = info.path
    fill_dimensions(record, info)
    ndim = len(info.shape or ())
    if ndim == 2:
        record.depth = count
        record.layout = LAYOUT_STACK if count > 1 else LAYOUT_IMAGE
    else:
        record.layout = LAYOUT_VOLUME  # EMAN2 3-D images are maps/tomograms
    group = open_group(root, b"MDF/images/0")
    for attr, target in (("EMAN.apix_x", "pixel_width"), ("EMAN.apix_y", "pixel_height")):
        value = small_attr(group, attr) if group is not None else None
        if isinstance(value, int | float) and math.isfinite(value) and value > 0:
            setattr(record, target, float(value))
