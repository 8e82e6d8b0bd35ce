"""SPIDER reader: images, volumes and stacks written byte by byte in both byte orders."""

from __future__ import annotations

import gzip
import math
import random
import struct
from pathlib import Path

import pytest

from empiar_validate.formats import read_header
from empiar_validate.formats.spider import looks_like_spider
from empiar_validate.records import FileRecord


def rules(rec: FileRecord) -> list[str]:
    return sorted(p.rule for p in rec.problems)


def spider_header(nx: int, ny: int, nz: int = 1, *, iform: int | None = None, order: str = "<",
                  istack: int = 0, maxim: int = 0, imgnum: int = 0,
                  pixsiz: float = 1.1) -> bytes:
    """A SPIDER header as SPIDER writes it: LABBYT bytes of float32 words (1-based numbers)."""
    lenbyt = nx * 4
    labrec = math.ceil(1024 / lenbyt)
    labbyt = labrec * lenbyt
    words = [0.0] * (labbyt // 4)
    values = {
        1: nz, 2: ny, 3: labrec + ny * nz, 5: iform if iform is not None else (3 if nz > 1 else 1),
        10: -1.0, 12: nx, 13: labrec, 22: labbyt, 23: lenbyt, 24: istack, 26: maxim,
        27: imgnum, 38: pixsiz,
    }
    for word, value in values.items():
        words[word - 1] = float(value)
    return struct.pack(f"{order}{len(words)}f", *words)


def write_spider(path: Path, nx: int, ny: int, nz: int = 1, *, extra: int = 0,
                 **kw: object) -> Path:
    """A simple image/volume or (with istack=2, maxim=n) a stack, data all zero."""
    header = spider_header(nx, ny, nz, **kw)  # type: ignore[arg-type]
    image = bytes(nx * ny * nz * 4)
    maxim = int(kw.get("maxim", 0))  # type: ignore[call-overload]
    if kw.get("istack", 0):
        body = b"".join(spider_header(nx, ny, nz, imgnum=i + 1) + image for i in range(maxim))
    else:
        body = image
    path.write_bytes(header + body + bytes(max(extra, 0)))
    if extra < 0:
        path.write_bytes(path.read_bytes()[:extra])
    return path


@pytest.mark.parametrize("order", ["<", ">"])
def test_image_volume_and_stack(tmp_path: Path, order: str) -> None:
    img = read_header(write_spider(tmp_path / "a.spi", 6, 4, order=order))
    assert (img.format, img.header_format, img.voxel_type) == ("SPIDER", "SPIDER", "32 BIT FLOAT")
    assert (img.width, img.height, img.depth, img.layout) == (6, 4, 1, "image")
    assert (img.pixel_width, img.pixel_height) == (1.1, 1.1)
    assert img.extra["byte_order"] == ("little" if order == "<" else "big")
    vol = read_header(write_spider(tmp_path / "v.spider", 6, 4, 5, order=order))
    assert (vol.layout, vol.depth, vol.extra["spider_iform"]) == ("volume", 5, 3)
    stack = read_header(write_spider(tmp_path / "s.spi", 6, 4, order=order, istack=2, maxim=7))
    assert (stack.layout, stack.depth, stack.extra["spider_stack"]) == ("stack", 7, "plain")
    assert [rules(r) for r in (img, vol, stack)] == [[], [], []]


def test_wide_image_has_a_one_record_header(tmp_path: Path) -> None:
    rec = read_header(write_spider(tmp_path / "wide.spi", 1500, 2))  # LABBYT = 6000 > 4096
    assert (rec.width, rec.height) == (1500, 2) and rules(rec) == []


def test_stack_of_volumes(tmp_path: Path) -> None:
    rec = read_header(write_spider(tmp_path / "vs.spi", 4, 4, 3, istack=2, maxim=2))
    assert (rec.layout, rec.depth, rec.extra["volume_count"]) == ("volume", 6, 2)
    assert rules(rec) == []


def test_size_checks(tmp_path: Path) -> None:
    short = read_header(write_spider(tmp_path / "s.spi", 6, 4, extra=-1))
    assert rules(short) == ["F602"]
    assert "1127 bytes" in short.problems[0].message and "needs 1128" in short.problems[0].message
    assert rules(read_header(write_spider(tmp_path / "l.spi", 6, 4, extra=8))) == ["F603"]
    stack = read_header(write_spider(tmp_path / "st.spi", 6, 4, istack=2, maxim=3, extra=-4))
    assert rules(stack) == ["F602"]


def test_fourier_and_inconsistent_iform(tmp_path: Path) -> None:
    ft = read_header(write_spider(tmp_path / "ft.spi", 6, 4, iform=-12))
    assert rules(ft) == ["F605"]
    flat = read_header(write_spider(tmp_path / "flat.spi", 6, 4, 3, iform=1))
    assert (flat.layout, rules(flat)) == ("volume", ["F607"])


def test_indexed_stack_warns(tmp_path: Path) -> None:
    path = tmp_path / "ix.spi"
    path.write_bytes(spider_header(6, 4, istack=-100, maxim=3) + bytes(500))
    rec = read_header(path)
    assert (rec.layout, rec.depth, rules(rec)) == ("stack", 3, ["F606"])


def test_missing_pixel_size_warns(tmp_path: Path) -> None:
    rec = read_header(write_spider(tmp_path / "a.spi", 6, 4, pixsiz=0.0))
    assert rec.pixel_width is None and rules(rec) == ["F604"]


def test_legacy_negative_nz_is_a_2d_image(tmp_path: Path) -> None:
    path = tmp_path / "old.spi"
    path.write_bytes(spider_header(6, 4, -1, iform=1) + bytes(6 * 4 * 4))
    rec = read_header(path)
    assert (rec.layout, rec.depth, rules(rec)) == ("image", 1, [])


@pytest.mark.parametrize(("patch", "reason"), [
    ({5: 8.0}, "IFORM 8 is an obsolete"),
    ({5: 2.0}, "IFORM 2 is not"),
    ({12: 6.5}, "NX = 6.5 is not an integer"),
    ({23: 28.0}, "LENBYT = 28"),
    ({22: 1000.0}, "LABBYT = 1000"),
    ({2: 0.0}, "NY = 0"),
    ({2: float("nan")}, "NY = nan"),
])
def test_implausible_headers(tmp_path: Path, patch: dict[int, float], reason: str) -> None:
    raw = bytearray(spider_header(6, 4) + bytes(96))
    for word, value in patch.items():
        struct.pack_into("<f", raw, (word - 1) * 4, value)
    path = tmp_path / "bad.spi"
    path.write_bytes(bytes(raw))
    rec = read_header(path)
    assert rec.format is None and rules(rec) == ["F601"]
    assert reason in rec.problems[0].message
    assert not looks_like_spider(bytes(raw))


def test_truncated_header(tmp_path: Path) -> None:
    path = tmp_path / "cut.spi"
    path.write_bytes(spider_header(6, 4)[:700])
    assert rules(read_header(path)) == ["F600"]


def test_compressed_spider_skips_the_size_check(tmp_path: Path) -> None:
    plain = write_spider(tmp_path / "a.spi", 6, 4)
    packed = tmp_path / "a.spi.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    rec = read_header(packed)
    assert (rec.width, rec.extra["size_check"], rules(rec)) == (6, "skipped: gzip-compressed", [])


def test_looks_like_spider_for_content_detection() -> None:
    assert looks_like_spider(spider_header(6, 4, order=">") + bytes(96))
    assert not looks_like_spider(bytes(2048))
    assert not looks_like_spider(random.Random(3).randbytes(2048))
    assert not looks_like_spider(spider_header(6, 4)[:500])


def test_random_headers_never_reach_the_safety_net(tmp_path: Path) -> None:
    rng = random.Random(5)
    path = tmp_path / "fuzz.spi"
    for _ in range(200):
        raw = bytearray(spider_header(rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 3),
                                      istack=rng.choice([0, 2, -5]), maxim=rng.randint(0, 9)))
        for _ in range(rng.randint(0, 4)):  # damage a few of the words the reader uses
            word = rng.choice([1, 2, 5, 12, 13, 22, 23, 24, 26, 38])
            raw[(word - 1) * 4:word * 4] = rng.randbytes(4)
        path.write_bytes(bytes(raw) + rng.randbytes(rng.randint(0, 300)))
        rec = read_header(path)
        assert "F009" not in rules(rec), rec.problems
