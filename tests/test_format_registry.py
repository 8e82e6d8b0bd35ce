"""The reader registry: one consistent table; readers imported only when their format is seen."""

from __future__ import annotations

import importlib
import struct
import subprocess
import sys

from empiar_validate.formats import EXTENSIONS, read_header, registry, sniff

HEAVY = ("h5py", "tifffile", "numpy", "mrcfile")


def test_every_row_names_a_reader_module_with_read():
    keys = [r.key for r in registry.READERS]
    assert len(keys) == len(set(keys))
    for row in registry.READERS:
        module = importlib.import_module(f"empiar_validate.formats.{row.module}")
        assert callable(module.read), row
        assert row.extensions, row
        assert all(e.startswith(".") and e == e.lower() for e in row.extensions), row
        assert row.sniff is not None or row.extension_min_bytes is not None, row


def test_extensions_come_from_the_table():
    first_row: dict[str, str] = {}  # an extension two formats share belongs to the first row
    for r in registry.READERS:
        for e in r.extensions:
            first_row.setdefault(e, r.key)
    assert first_row == EXTENSIONS
    assert EXTENSIONS[".eer"] == "tiff" and EXTENSIONS[".hed"] == "imagic"
    assert EXTENSIONS[".img"] == "imagic" and registry.claims("smv", ".img")  # SMV shares .img


def test_magic_beats_extension_and_extension_needs_enough_bytes():
    assert sniff(b"MM\x00*" + bytes(2000), ".hed") == "tiff"
    assert sniff(bytes(1023), ".mrc") is None  # too short for an MRC header
    assert sniff(bytes(1024), ".mrc") == "mrc"  # old MRC without MAP: the reader decides
    assert sniff(b"x", ".img") == "imagic"  # no magic: the extension decides
    assert sniff(bytes(4096), ".dat") is None  # .dat is SPIDER only with a SPIDER header


def test_mrc_inspection_imports_no_heavy_library_and_no_other_reader(tmp_path):
    """Readers are imported lazily: an MRC (and a non-image file) pulls in only the MRC reader."""
    head = bytearray(1024)
    head[0:16] = struct.pack("<4i", 4, 4, 1, 2)
    head[28:52] = struct.pack("<3i3f", 4, 4, 1, 3.32, 3.32, 0.83)
    head[208:216] = b"MAP DA\x00\x00"
    (tmp_path / "x.mrc").write_bytes(bytes(head) + bytes(4 * 4 * 4))
    (tmp_path / "notes.txt").write_text("hello")
    code = (
        "import sys; from empiar_validate.formats import read_header, registry; "
        f"r = read_header({str(tmp_path / 'x.mrc')!r}); assert r.format == 'MRC', r; "
        f"read_header({str(tmp_path / 'notes.txt')!r}); "
        "mods = [m for m in sys.modules if m.split('.')[0] in "
        f"{HEAVY!r}]; "
        "readers = sorted(m.rsplit('.', 1)[1] for m in sys.modules "
        "if m.startswith('empiar_validate.formats.') "
        "and m.rsplit('.', 1)[1] in {r.module for r in registry.READERS}); "
        "print(sorted(mods), readers)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] ['mrc']"


def test_reader_failure_is_a_finding_for_every_registered_format(tmp_path, monkeypatch):
    """Whatever a reader raises, dispatch turns it into F009 naming the file."""
    from empiar_validate import formats

    # the patched readers live in this process (an isolated reader's worker has its own net)
    monkeypatch.setenv("EMPIAR_VALIDATE_ISOLATION", "off")

    samples = {"tiff": b"II*\x00" + bytes(100), "hdf5": b"\x89HDF\r\n\x1a\n" + bytes(100),
               "dm": b"\x00\x00\x00\x04" + bytes(100), "mrc": bytes(1024),
               "imagic": bytes(1024), "spider": bytes(1024),
               "smv": b"{\nHEADER_BYTES=  512;\n}" + bytes(600),
               "zip": b"PK\x05\x06" + bytes(18), "cbf": b"###CBF: VERSION 1.5\n"}
    ext = {r.key: r.extensions[0] for r in registry.READERS}
    assert set(samples) == set(ext)

    class Boom:
        @staticmethod
        def read(source, record):
            raise RuntimeError("boom")

    for key, data in samples.items():
        monkeypatch.setitem(formats._modules, key, Boom)
        path = tmp_path / f"f{ext[key]}"
        path.write_bytes(data)
        rec = read_header(path, path.name)
        assert [(p.rule, p.file) for p in rec.problems] == [("F009", path.name)], key
