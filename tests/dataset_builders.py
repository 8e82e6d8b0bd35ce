"""Builders shared by the scan and check tests (this module holds no tests itself).

``build_dataset`` writes a small deposition with the field's own libraries (mrcfile, tifffile,
pybdv, and the suite's DM writer), and ``EXPECTED`` says, per image set, exactly what scan must
derive from it. ``depositor_metadata`` is empiar-depositor's own ``working_example.json`` with its
image set adapted to this dataset's directories.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

MOVIE_FRAMES = 6
TILTS = 5

EXPECTED: dict[str, dict[str, str]] = {
    "/data/bdv": {
        "category": "reconstructed volumes", "headerFormat": "XML",
        "dataFormat": "BIG DATA VIEWER HDF5", "numImagesOrTiltSeries": "1",
        "framesPerImage": "12", "voxelType": "UNSIGNED 16 BIT INTEGER", "imageWidth": "40",
        "imageHeight": "48", "pixelWidth": "4000", "pixelHeight": "4000",
    },
    "/data/dm3": {
        "category": "micrographs - single frame", "headerFormat": "DM3", "dataFormat": "DM3",
        "numImagesOrTiltSeries": "2", "framesPerImage": "1",
        "voxelType": "UNSIGNED 16 BIT INTEGER", "imageWidth": "20", "imageHeight": "24",
        "pixelWidth": "5", "pixelHeight": "5",
    },
    "/data/micrographs": {
        "category": "micrographs - single frame", "headerFormat": "MRC", "dataFormat": "MRC",
        "numImagesOrTiltSeries": "2", "framesPerImage": "1", "voxelType": "32 BIT FLOAT",
        "imageWidth": "64", "imageHeight": "48", "pixelWidth": "1.1", "pixelHeight": "1.1",
    },
    "/data/movies": {
        "category": "micrographs - multiframe", "headerFormat": "TIFF", "dataFormat": "TIFF",
        "numImagesOrTiltSeries": "3", "framesPerImage": str(MOVIE_FRAMES),
        "voxelType": "UNSIGNED BYTE", "imageWidth": "64", "imageHeight": "48",
        "pixelWidth": "0.55", "pixelHeight": "0.55",
    },
    "/data/particles": {
        "category": "picked particles - single frame - processed", "headerFormat": "MRCS",
        "dataFormat": "MRCS", "numImagesOrTiltSeries": "17", "framesPerImage": "1",
        "voxelType": "32 BIT FLOAT", "imageWidth": "16", "imageHeight": "16",
        "pixelWidth": "2.2", "pixelHeight": "2.2",
    },
    "/data/tomo": {
        "category": "tilt series", "headerFormat": "MRC", "dataFormat": "MRC",
        "numImagesOrTiltSeries": "2", "framesPerImage": str(TILTS),
        "voxelType": "32 BIT FLOAT", "imageWidth": "32", "imageHeight": "32",
        "pixelWidth": "3.3", "pixelHeight": "3.3",
    },
    "/data/volume": {
        "category": "reconstructed volumes", "headerFormat": "MRC", "dataFormat": "MRC",
        "numImagesOrTiltSeries": "1", "framesPerImage": "16", "voxelType": "32 BIT FLOAT",
        "imageWidth": "16", "imageHeight": "16", "pixelWidth": "1.1", "pixelHeight": "1.1",
    },
}


def write_mrc(path: Path, data: np.ndarray, voxel: float, *, volume: bool = False) -> None:
    """An MRC file written by mrcfile (stack unless ``volume``)."""
    import mrcfile

    with mrcfile.new(path, overwrite=True) as mrc:
        mrc.set_data(data)
        if volume:
            mrc.set_volume()
        elif data.ndim == 3:
            mrc.set_image_stack()
        mrc.voxel_size = voxel


def write_movie(path: Path, frames: int = MOVIE_FRAMES) -> None:
    """A multi-frame TIFF movie written by tifffile (no pixel size in its tags)."""
    import tifffile

    data = np.arange(frames * 48 * 64, dtype=np.uint32).reshape(frames, 48, 64) % 251
    tifffile.imwrite(path, data.astype(np.uint8), photometric="minisblack")


def build_dataset(root: Path, *, dm: bool = True, bdv: bool = True) -> Path:
    """Write the dataset under ``root`` (created); returns ``root``."""
    rng = np.random.default_rng(7)
    movies = root / "movies"
    movies.mkdir(parents=True)
    for i in range(1, 4):
        write_movie(movies / f"FoilHole_{100 + i}_fractions.tiff")
    write_mrc(movies / "gain.mrc", np.ones((48, 64), dtype=np.float32), 0.55)

    micrographs = root / "micrographs"
    micrographs.mkdir()
    for i in range(1, 3):
        write_mrc(micrographs / f"FoilHole_{100 + i}_DW.mrc",
                  rng.standard_normal((48, 64)).astype(np.float32), 1.1)

    particles = root / "particles"
    particles.mkdir()
    for i, count in enumerate((10, 7), start=1):
        write_mrc(particles / f"particles_{i:03d}.mrcs",
                  rng.standard_normal((count, 16, 16)).astype(np.float32), 2.2)
    (particles / "particles.star").write_text("data_\nloop_\n_rlnImageName #1\n",
                                              encoding="utf-8")

    tomo = root / "tomo"
    tomo.mkdir()
    for name in ("TS_01", "TS_02"):
        write_mrc(tomo / f"{name}.mrc",
                  rng.standard_normal((TILTS, 32, 32)).astype(np.float32), 3.3)
        (tomo / f"{name}.rawtlt").write_text(
            "".join(f"{a}.0\n" for a in range(-20, 21, 10)), encoding="utf-8")
    (tomo / "TS_01.mrc.mdoc").write_text(
        "PixelSpacing = 3.3\nImageFile = TS_01.mrc\n\n"
        + "".join(f"[ZValue = {z}]\nTiltAngle = {a}.0\n\n"
                  for z, a in enumerate(range(-20, 21, 10))),
        encoding="utf-8",
    )

    (root / "workflow.json").write_text("{}\n", encoding="utf-8")  # the example's workflow_file

    volume = root / "volume"
    volume.mkdir()
    write_mrc(volume / "map.mrc", rng.standard_normal((16, 16, 16)).astype(np.float32), 1.1,
              volume=True)

    if dm:
        import dmwriter

        (root / "dm3").mkdir()
        for i in range(1, 3):
            dmwriter.write_dm(root / "dm3" / f"square_{i}.dm3",
                              rng.integers(0, 900, size=(24, 20)).astype(np.uint16),
                              version=3, scale=(0.5, 0.5), unit="nm")
    if bdv:
        import pybdv

        (root / "bdv").mkdir()
        stack = rng.integers(0, 4000, size=(12, 48, 40)).astype(np.uint16)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            pybdv.make_bdv(stack, str(root / "bdv" / "cells.h5"), resolution=[1.2, 0.4, 0.4],
                           unit="micrometer", setup_name="cells")
    return root


def working_example() -> dict[str, Any]:
    """empiar-depositor's own example deposition JSON, as shipped in its package."""
    ref = (resources.files("empiar_depositor") / "tests" / "deposition_json"
           / "working_example.json")
    return json.loads(ref.read_text(encoding="utf-8"))


def depositor_metadata(*, dm: bool = True, bdv: bool = True) -> dict[str, Any]:
    """The working example with its one image set adapted to this dataset's directories.

    The movies entry keeps every field of the example's image set (numbers changed to what the
    movies hold, pixel size added because TIFF movies carry none); the other entries give only
    what the depositor must: name, directory, category and details.
    """
    meta = working_example()
    template = meta["imagesets"][0]
    movies = copy.deepcopy(template)
    movies.update({
        "name": "Multi-frame movies of the pilus machine", "directory": "/data/movies",
        "category": "('T2', '')", "header_format": "('T3', '')", "data_format": "('T3', '')",
        "num_images_or_tilt_series": 3, "frames_per_image": MOVIE_FRAMES,
        "frame_range_min": 1, "frame_range_max": MOVIE_FRAMES, "voxel_type": "('T1', '')",
        "pixel_width": 0.55, "pixel_height": 0.55, "image_width": 64, "image_height": 48,
        "details": "Gain reference gain.mrc in the same directory.",
    })
    others = [
        ("Motion-corrected micrographs", "/data/micrographs", "T1"),
        ("Extracted particles", "/data/particles", "T7"),
        ("Tilt series", "/data/tomo", "T9"),
        ("Reconstructed map", "/data/volume", "T13"),
    ]
    if dm:
        others.append(("Grid squares", "/data/dm3", "T1"))
    if bdv:
        others.append(("Light-microscopy volume", "/data/bdv", "T13"))
    meta["imagesets"] = [movies] + [
        {"name": name, "directory": directory, "category": f"('{code}', '')", "details": None}
        for name, directory, code in others
    ]
    meta["deposition_date"] = "2024-03-01"
    meta["accession_code"] = "EMPIAR-12345"
    return meta


def image_set_values(xml: bytes) -> dict[str, dict[str, str]]:
    """directory -> {element: text} for every imageSet of an entry XML (dimensions flattened)."""
    from lxml import etree

    root = etree.fromstring(xml)
    out = {}
    for s in root.iter("{http://pdbe.org/empiar}imageSet"):
        values = {}
        for el in s.iter():
            if el is s or not isinstance(el.tag, str) or len(el):
                continue
            values[etree.QName(el).localname] = (el.text or "").strip()
        out[values["directory"]] = values
    return out


def run(*args: object) -> tuple[int, str]:
    """``empiar-validate ARGS...`` in-process; (exit code, stdout and stderr together)."""
    from empiar_validate.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue() + err.getvalue()


def scanned_repository(base: Path) -> Path:
    """A lab's data repository at ``base``: ``data/`` (no DM, no BDV), ``metadata.json`` and the
    ``entry.xml`` that ``scan`` wrote for them, as the check, policy, LFS and CI tests start."""
    build_dataset(base / "data", dm=False, bdv=False)
    meta = base / "metadata.json"
    meta.write_text(json.dumps(depositor_metadata(dm=False, bdv=False)), encoding="utf-8")
    code, out = run("scan", base / "data", "--metadata", meta, "-o", base / "entry.xml", "-q")
    assert code == 0, out
    return base



def repository_copy(pristine: Path, dest: Path) -> Path:
    """A copy of a :func:`scanned_repository` (its ``data/`` and ``entry.xml``) at ``dest``, for
    a test to change without touching the one built for the module."""
    shutil.copytree(pristine / "data", dest / "data", symlinks=True)
    shutil.copy(pristine / "entry.xml", dest / "entry.xml")
    return dest

def check(repo: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    """``check repo/data --xml repo/entry.xml --format json -q``: (exit code, the JSON report)."""
    code, out = run("check", repo / "data", "--xml", repo / "entry.xml", "--format", "json",
                    "-q", *extra)
    return code, json.loads(out)


def errors(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The error-severity findings of a JSON report."""
    return [f for f in doc["findings"] if f["severity"] == "error"]
