"""Git LFS pointer files: the ~130-byte text a clone holds where LFS content was not fetched.

GitHub and GitLab data repositories keep images in Git LFS; a checkout without the content
(``GIT_LFS_SKIP_SMUDGE=1``, ``lfs: false`` in CI) has, in place of each image, a pointer::

    version https://git-lfs.github.com/spec/v1
    oid sha256:4d7a2146...
    size 12345

That is "content not present", like a git-annex link or a DVC placeholder, never a corrupt
image: the size comes from the pointer (so ``check`` compares sizes and the dataset total), and
the oid is the content's SHA-256 (so ``package`` lists it without the content). A pointer whose
oid or size does not follow the specification is a finding of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from empiar_validate.findings import Severity, rule

# The specification: pointer files are under 1024 bytes, the version line comes first.
MAX_POINTER_BYTES = 1024
PREFIX = b"version https://git-lfs.github.com/spec/"
_OID = re.compile(r"sha256:([0-9a-f]{64})")
_SIZE = re.compile(r"(0|[1-9][0-9]{0,19})")

L_BAD_POINTER = rule(
    "F030", Severity.ERROR, "malformed Git LFS pointer",
    "Regenerate the pointer (`git lfs track` the pattern, then `git add --renormalize`) or "
    "restore the file from a clone with the LFS content.",
)


@dataclass(frozen=True, slots=True)
class Pointer:
    """A parsed pointer: the content's SHA-256 (hex) and size in bytes."""

    sha256: str
    size: int


def looks_like_pointer(head: bytes, size: int) -> bool:
    """True when a file of ``size`` bytes starting with ``head`` is meant as an LFS pointer
    (checked before any image reader: a pointer is text, never a valid image)."""
    return size < MAX_POINTER_BYTES and head.startswith(PREFIX)


def parse_pointer(data: bytes) -> tuple[Pointer | None, list[str]]:
    """The pointer in ``data``, or ``None`` with what is wrong with it (one reason each)."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return None, ["not ASCII text"]
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(" ")
        if not line:
            continue
        if not sep or not key:
            return None, [f"line {line[:40]!r} is not 'key value'"]
        fields.setdefault(key, value)
    reasons = []
    oid = fields.get("oid")
    size = fields.get("size")
    m = _OID.fullmatch(oid or "")
    if oid is None:
        reasons.append("no oid line")
    elif m is None:
        reasons.append(f"oid {oid[:80]!r} is not sha256: followed by 64 lower-case hex digits")
    if size is None:
        reasons.append("no size line")
    elif _SIZE.fullmatch(size) is None:
        reasons.append(f"size {size[:40]!r} is not a non-negative integer")
    if reasons or m is None or size is None:
        return None, reasons
    return Pointer(m.group(1), int(size)), []


def describe(pointer: Pointer) -> str:
    """The "content not present" message for a well-formed pointer."""
    return (f"Git LFS content not present (pointer to sha256:{pointer.sha256[:12]}..., "
            f"{pointer.size} bytes)")
