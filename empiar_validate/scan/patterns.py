"""The tidiest file pattern for an image set: the glob that matches its files and no other.

EMPIAR's ``micrographsFilePattern`` / ``pickedParticlesFilePattern`` are globs relative to the
entry root (``data/...``); the one chosen is the simplest that separates the set's files from
everything else in its directory, so ``check`` finds exactly those files again.
"""

from __future__ import annotations

import posixpath

from empiar_validate.scan.globs import glob_escape, glob_match


def is_within(path: str, directory: str) -> bool:
    """True when relative ``path`` lies in (or is) relative ``directory`` ('' is the root)."""
    return not directory or path == directory or path.startswith(directory + "/")


def file_ext(path: str) -> str:
    """Lower-case extension including a compression suffix: ``.tiff``, ``.tiff.bz2``."""
    name = path.rpartition("/")[2].lower()
    first = name.rfind(".")
    if first <= 0:
        return ""
    if name.endswith((".gz", ".bz2")):
        second = name.rfind(".", 0, first)
        return name[second:] if second > 0 else name[first:]
    return name[first:]


def file_pattern(rel_dir: str, paths: list[str], others: list[str]) -> str | None:
    """The tidiest glob (relative to the entry root, ``data/...``) matching every path in
    ``paths`` and none in ``others``: ``*.ext``, then ``prefix*suffix`` cut at word
    separators, then exact prefix/suffix, then a literal name for a single file.
    ``None`` when no glob separates them (the set is then described without a pattern)."""
    if not paths:
        return None
    prefix = f"data/{glob_escape(rel_dir)}/" if rel_dir else "data/"
    rels = [p[len(rel_dir) + 1:] if rel_dir else p for p in paths]
    other_rels = [p[len(rel_dir) + 1:] if rel_dir else p for p in others
                  if is_within(p, rel_dir)]
    depths = {r.count("/") for r in rels}
    if len(depths) != 1:
        return None
    dir_parts = _dir_globs(rels)
    names = [posixpath.basename(r) for r in rels]
    for name_glob in _name_candidates(names):
        glob = "/".join([*dir_parts, name_glob])
        # candidates match every path by construction; only the others need testing
        if not any(glob_match(glob, o) for o in other_rels):
            return prefix + glob
    return None


def _dir_globs(rels: list[str]) -> list[str]:
    if "/" not in rels[0]:  # all at the same depth (checked by the caller): no sub-directories
        return []
    columns = list(zip(*(r.split("/")[:-1] for r in rels), strict=True))
    return [glob_escape(c[0]) if len(set(c)) == 1 else "*" for c in columns]


_SEPARATORS = "_-."


def _name_candidates(names: list[str]) -> list[str]:
    exts = {file_ext(n) for n in names}
    out = []
    if len(exts) == 1 and next(iter(exts)):
        out.append("*" + glob_escape(next(iter(exts))))
    if len(names) == 1:
        out.append(glob_escape(names[0]))
        return out
    pre = posixpath.commonprefix(names)
    suf = posixpath.commonprefix([n[::-1] for n in names])[::-1]
    shortest = min(len(n) for n in names)
    if len(pre) + len(suf) > shortest:
        suf = suf[len(pre) + len(suf) - shortest:]
    tidy_pre = pre[: max((pre.rfind(c) for c in _SEPARATORS), default=-1) + 1]
    cut = [i for i in (suf.find(c) for c in _SEPARATORS) if i >= 0]
    tidy_suf = suf[min(cut):] if cut else suf
    for p, s in ((tidy_pre, tidy_suf), (pre, suf)):
        candidate = glob_escape(p) + "*" + glob_escape(s)
        if candidate not in out and candidate != "*":
            out.append(candidate)
    return out
