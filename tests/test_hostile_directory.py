"""A directory of hostile files, inspected end to end in a subprocess as a user would run it:
one problem per bad file, exit 1, no traceback, no hang, data unchanged."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import struct
import subprocess
import sys
from pathlib import Path


def _mrc_header(nx: int, ny: int, nz: int, mode: int = 2, nsymbt: int = 0) -> bytearray:
    head = bytearray(1024)
    struct.pack_into("<4i", head, 0, nx, ny, nz, mode)
    struct.pack_into("<3i", head, 28, 1, 1, 1)
    struct.pack_into("<i", head, 92, nsymbt)
    head[208:212] = b"MAP "
    head[212:216] = b"\x44\x44\x00\x00"
    return head


def build_hostile(root: Path) -> list[str]:
    """Write one hostile file per kind; return the names that must carry a problem."""
    bad = []

    def put(name: str, data: bytes) -> None:
        (root / name).write_bytes(data)
        bad.append(name)

    # TIFF whose first IFD's next-IFD offset points back to itself
    ifd = struct.pack("<H", 1) + struct.pack("<HHII", 256, 3, 1, 16) + struct.pack("<I", 8)
    put("loop.tif", b"II*\x00" + struct.pack("<I", 8) + ifd)
    # TIFF whose first IFD lies past the end of the file
    put("past_end.tiff", b"II*\x00" + struct.pack("<I", 10**9) + b"\x00" * 64)
    # DM4 whose root group claims 2**60 tags
    put("bomb.dm4", struct.pack(">iqi", 4, 100, 1) + struct.pack(">BBq", 0, 1, 2**60) + b"\0" * 64)
    # MRC with negative/absurd dimensions, and one whose extended header exceeds the file
    put("absurd.mrc", bytes(_mrc_header(-5, 2**30, 7)))
    put("exthdr.mrc", bytes(_mrc_header(4, 4, 1, nsymbt=10**9)) + b"\0" * 64)
    # truncated HDF5 (signature, then garbage)
    put("cut.h5", b"\x89HDF\r\n\x1a\n" + os.urandom(200))
    # random bytes behind image extensions, an empty stack, a truncated gzip
    put("random.tif", os.urandom(5000))
    put("empty.mrcs", b"")
    put("cut.mrc.gz", gzip.compress(bytes(_mrc_header(64, 64, 10)) + b"\0" * 4096)[:100])
    # a mislabelled file and a weird name
    put("really_tiff.mrc", b"II*\x00" + struct.pack("<I", 8) + ifd[:-4] + b"\0\0\0\0")
    put("new\nline.mrc", os.urandom(3000))
    # special files and links
    os.mkfifo(root / "pipe.mrc")
    os.symlink("nowhere.mrc", root / "broken.mrc")
    os.symlink("loop_b.mrc", root / "loop_a.mrc")
    os.symlink("loop_a.mrc", root / "loop_b.mrc")
    bad += ["pipe.mrc", "broken.mrc", "loop_a.mrc", "loop_b.mrc"]
    return bad


def _digest(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.iterdir()):
        if p.is_file() and not p.is_symlink():
            out[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def test_hostile_directory(tmp_path):
    root = tmp_path / "hostile"
    root.mkdir()
    bad = build_hostile(root)
    before = _digest(root)
    proc = subprocess.run(
        [sys.executable, "-m", "empiar_validate", "inspect", str(root), "--format", "json"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    # inspect names files under the path as given (here absolute): key them by the rest
    files = {f["path"][len(str(root)) + 1:]: f for f in json.loads(proc.stdout)["files"]}
    shown = {name.replace("\n", "\\n") for name in bad}
    assert shown <= set(files), sorted(shown - set(files))
    for name in shown:
        problems = files[name]["problems"]
        assert problems, f"{name!r} has no problem"
        assert all(p["rule"] != "F009" for p in problems), (name, problems)  # no reader crash
    assert _digest(root) == before
    assert sorted(os.listdir(root)) == sorted(bad)
