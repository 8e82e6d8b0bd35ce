"""IMAGIC reader: .hed/.img pairs written byte by byte."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from empiar_validate.formats import read_header
from empiar_validate.records import FileRecord

BYTES = {"PACK": 1, "INTG": 2, "REAL": 4, "COMP": 8, "RECO": 8}
LE_STAMP, BE_STAMP = 33686018, 67372036


def rules(rec: FileRecord) -> list[str]:
    return sorted(p.rule for p in rec.problems)


def imagic_record(index: int, images: int, width: int, height: int, kind: str = "REAL", *,
                  order: str = "<", izlp: int = 1, realtype: int | None = None,
                  resol: tuple[float, float] = (1.25, 1.25), year: int = 2024) -> bytes:
    """One 1024-byte IMAGIC-5 header record (1-based word numbers as in the format)."""
    words = bytearray(1024)

    def put(word: int, fmt: str, value: object) -> None:
        struct.pack_into(f"{order}{fmt}", words, (word - 1) * 4, value)

    put(1, "i", index + 1)  # IMN
    put(2, "i", images - 1 if index == 0 else 0)  # IFOL, meaningful in the first record only
    put(4, "i", 1)  # NHFR
    put(5, "i", 6)
    put(6, "i", 15)
    put(7, "i", year)
    put(12, "i", width * height)
    put(13, "i", height)  # IXLP: lines
    put(14, "i", width)  # IYLP: pixels per line
    words[56:60] = kind.encode()
    put(61, "i", izlp)
    put(62, "i", images // max(izlp, 1))
    put(68, "i", 20240101)
    put(69, "i", realtype if realtype is not None else (LE_STAMP if order == "<" else BE_STAMP))
    put(123, "f", resol[0])
    put(124, "f", resol[1])
    return bytes(words)


def write_pair(directory: Path, stem: str, images: int = 3, width: int = 6, height: int = 4,
               kind: str = "REAL", *, img_bytes: int | None = None, records: int | None = None,
               **kw: object) -> tuple[Path, Path]:
    hed = directory / f"{stem}.hed"
    img = directory / f"{stem}.img"
    n = images if records is None else records
    hed.write_bytes(b"".join(imagic_record(i, images, width, height, kind, **kw)  # type: ignore[arg-type]
                             for i in range(n)))
    size = images * width * height * BYTES.get(kind, 4) if img_bytes is None else img_bytes
    img.write_bytes(bytes(size))
    return hed, img


@pytest.mark.parametrize(("kind", "expected"), [
    ("REAL", "32 BIT FLOAT"), ("INTG", "SIGNED 16 BIT INTEGER"), ("PACK", "UNSIGNED BYTE"),
])
@pytest.mark.parametrize("order", ["<", ">"])
def test_pair_is_read_in_both_byte_orders(tmp_path: Path, kind: str, expected: str,
                                          order: str) -> None:
    hed, _ = write_pair(tmp_path, "parts", kind=kind, order=order)
    rec = read_header(hed)
    assert (rec.format, rec.header_format, rec.voxel_type) == ("IMAGIC", "IMAGIC", expected)
    assert (rec.width, rec.height, rec.depth, rec.layout) == (6, 4, 3, "stack")
    assert (rec.pixel_width, rec.pixel_height) == (1.25, 1.25)
    assert rec.extra["byte_order"] == ("little" if order == "<" else "big")
    assert (rec.extra["imagic_role"], rec.extra["imagic_data"]) == ("header", "parts.img")
    assert rec.extra["imagic_version"] == 20240101
    assert rules(rec) == []


def test_data_file_describes_itself_from_its_header(tmp_path: Path) -> None:
    hed, img = write_pair(tmp_path, "parts", images=5, img_bytes=10)  # truncated .img
    header_rec, data_rec = read_header(hed), read_header(img)
    assert (data_rec.format, data_rec.width, data_rec.height, data_rec.depth) == (
        "IMAGIC", 6, 4, 5)
    assert (data_rec.extra["imagic_role"], data_rec.extra["imagic_header"]) == (
        "data", "parts.hed")
    assert rules(data_rec) == []  # the pair's findings are reported once, on the .hed
    assert rules(header_rec) == ["F504"]


def test_byte_order_without_realtype_stamp(tmp_path: Path) -> None:
    hed, _ = write_pair(tmp_path, "old", order=">", realtype=0, izlp=0)
    rec = read_header(hed)
    assert (rec.extra["byte_order"], rec.width, rec.height, rec.depth) == ("big", 6, 4, 3)


def test_single_image_and_volume(tmp_path: Path) -> None:
    one = read_header(write_pair(tmp_path, "one", images=1)[0])
    assert (one.layout, one.depth) == ("image", 1)
    vol = read_header(write_pair(tmp_path, "vol", images=8, izlp=4)[0])
    assert (vol.layout, vol.depth, vol.extra["volume_count"]) == ("volume", 8, 2)
    odd = read_header(write_pair(tmp_path, "odd", images=7, izlp=4)[0])
    assert (odd.layout, rules(odd)) == ("volume", ["F510"])


def test_complex_type_warns(tmp_path: Path) -> None:
    rec = read_header(write_pair(tmp_path, "ft", kind="COMP")[0])
    assert (rec.voxel_type, rules(rec)) == ("64 BIT COMPLEX", ["F509"])


def test_unknown_type_is_an_error(tmp_path: Path) -> None:
    rec = read_header(write_pair(tmp_path, "x", kind="LONG")[0])
    assert rules(rec) == ["F503"] and rec.voxel_type is None


def test_missing_partners(tmp_path: Path) -> None:
    hed, img = write_pair(tmp_path, "a")
    img.unlink()
    assert rules(read_header(hed)) == ["F501"]
    hed2, img2 = write_pair(tmp_path, "b")
    hed2.unlink()
    rec = read_header(img2)
    assert (rec.format, rec.extra["imagic_role"], rules(rec)) == ("IMAGIC", "data", ["F501"])


def test_upper_case_partner(tmp_path: Path) -> None:
    hed, img = write_pair(tmp_path, "a")
    img.rename(tmp_path / "a.IMG")
    rec = read_header(hed)
    assert rec.extra["imagic_data"] == "a.IMG" and rules(rec) == []


def test_data_size_checks(tmp_path: Path) -> None:
    short = read_header(write_pair(tmp_path, "s", img_bytes=3 * 6 * 4 * 4 - 1)[0])
    assert rules(short) == ["F504"]
    assert "287" in short.problems[0].message and "288" in short.problems[0].message
    long = read_header(write_pair(tmp_path, "l", img_bytes=3 * 6 * 4 * 4 + 1)[0])
    assert rules(long) == ["F505"]


def test_header_record_count(tmp_path: Path) -> None:
    assert rules(read_header(write_pair(tmp_path, "few", records=2)[0])) == ["F506"]
    assert rules(read_header(write_pair(tmp_path, "many", records=4)[0])) == ["F507"]


def test_truncated_header_record(tmp_path: Path) -> None:
    hed, _ = write_pair(tmp_path, "a", images=1)
    hed.write_bytes(hed.read_bytes()[:500])
    assert rules(read_header(hed)) == ["F500"]


def test_missing_pixel_size_warns(tmp_path: Path) -> None:
    rec = read_header(write_pair(tmp_path, "a", resol=(0.0, 0.0))[0])
    assert rec.pixel_width is None and rules(rec) == ["F508"]


def test_implausible_header(tmp_path: Path) -> None:
    hed, _ = write_pair(tmp_path, "a", width=-3, img_bytes=10)
    rec = read_header(hed)
    assert rules(rec) == ["F502"] and rec.width is None


def test_huge_counts_cost_nothing(tmp_path: Path) -> None:
    hed, _ = write_pair(tmp_path, "a", images=1, records=1, img_bytes=10)
    raw = bytearray(hed.read_bytes())
    struct.pack_into("<i", raw, 4, 2**31 - 1)  # IFOL
    struct.pack_into("<2i", raw, 48, 1 << 20, 1 << 20)  # IXLP, IYLP
    hed.write_bytes(bytes(raw))
    rec = read_header(hed)
    assert rules(rec) == ["F504", "F506"]


def test_random_headers_never_reach_the_safety_net(tmp_path: Path) -> None:
    rng = random.Random(11)
    hed = tmp_path / "fuzz.hed"
    (tmp_path / "fuzz.img").write_bytes(bytes(100))
    for _ in range(200):
        raw = bytearray(rng.randbytes(1024))
        if rng.random() < 0.5:
            dims = (rng.randint(1, 5), rng.randint(1, 9), rng.randint(1, 9))
            raw[:56] = imagic_record(0, *dims)[:56]
        hed.write_bytes(bytes(raw))
        rec = read_header(hed)
        assert "F009" not in rules(rec), rec.problems


def test_xmipp_headers_with_nonsense_dates_and_ierror_are_read(tmp_path: Path) -> None:
    """Xmipp fills the date words and IERROR with whatever is in memory and writes no
    REALTYPE stamp: the fields that matter (counts, sizes, type) still describe the pair."""
    hed, _ = write_pair(tmp_path, "xmipp", images=4, realtype=0)
    raw = bytearray(hed.read_bytes())
    for r in range(4):
        for word, value in ((3, -1094795586), (5, 1953719666), (6, -7), (7, 1869488225),
                            (8, 99), (9, -1), (10, 123456)):
            struct.pack_into("<i", raw, r * 1024 + (word - 1) * 4, value)
    hed.write_bytes(bytes(raw))
    rec = read_header(hed)
    assert (rec.format, rec.width, rec.height, rec.depth, rec.voxel_type) == (
        "IMAGIC", 6, 4, 4, "32 BIT FLOAT")
