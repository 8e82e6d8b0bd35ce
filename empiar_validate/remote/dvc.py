"""DVC repositories whose data are not pulled: each tracked file's header read from the DVC
remote by its content hash, so the CI gate checks every header without ``dvc pull``.

DVC's own libraries do the DVC part: :class:`dvc.repo.Repo` finds the tracked outputs (``.dvc``
files and ``dvc.lock``) and the remote's configuration (``.dvc/config``, ``config.local``,
credentials from the environment as ``dvc push`` would use them); the remote's object database
(``repo.cloud.get_remote_odb``) turns a content hash into the object's path, and a directory's
``.dir`` manifest is loaded from the remote with :meth:`dvc_data.hashfile.tree.Tree.load`. The
headers are then read with the same ranged reader as any URL (:mod:`.objects`), on the fsspec
filesystem DVC itself configured. Files present in the working tree are read from disk as usual.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

from empiar_validate.findings import Finding
from empiar_validate.records import FileRecord
from empiar_validate.remote.objects import (
    R_VANISHED,
    RemoteObject,
    RemoteUnreachable,
    read_objects,
    redact,
)

__all__ = ["find_repo_root", "read_from_remote"]


def find_repo_root(path: str) -> str | None:
    """The nearest directory at or above ``path`` holding ``.dvc/``, or ``None``."""
    here = os.path.realpath(path)
    while True:
        if os.path.isdir(os.path.join(here, ".dvc")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def read_from_remote(
    root: str, records: list[FileRecord], findings: list[Finding], *, remote: str | None,
    jobs: int | None = None, show: Callable[[str], str],
) -> tuple[list[FileRecord], list[Finding]]:
    """``records`` of the dataset at ``root`` with every DVC-tracked file whose content is not
    in the working tree read from the DVC remote ``remote`` (``None``: the default remote).

    Placeholders ("content not present") are replaced by the records read remotely, and the
    "directory not present" findings of directories now read are dropped. Raises
    :class:`RemoteUnreachable` (exit 2) when ``root`` is not in a DVC repository or the
    remote is not configured or cannot be used."""
    from empiar_validate.formats.base import F_NOT_PRESENT

    repo_root = find_repo_root(root)
    if repo_root is None:
        raise RemoteUnreachable(f"{root} is not inside a DVC repository (no .dvc directory)")
    try:
        from dvc.repo import Repo
    except ImportError:
        raise RemoteUnreachable(
            "reading a DVC remote needs DVC's libraries: pip install 'empiar-validate[remote]'"
        ) from None
    present = {r.path for r in records
               if not any(p.rule == F_NOT_PRESENT.id for p in r.problems)}
    try:
        with Repo(repo_root) as repo:
            odb = repo.cloud.get_remote_odb(remote or None, "check --remote")
            objects, missing = _tracked(repo, odb, os.path.realpath(root), present)
    except RemoteUnreachable:
        raise
    except Exception as exc:  # DVC's config, remote and network errors are many
        raise RemoteUnreachable(redact(f"DVC remote {remote or '(default)'}: "
                                       f"{type(exc).__name__}: {exc}")) from None
    fetched = read_objects(odb.fs.fs, objects, jobs=jobs)
    for rec in fetched:
        rec.problems[:] = [dataclasses.replace(f, file=show(f.file)) if f.file is not None
                           else f for f in rec.problems]
        rec.extra["dvc_remote"] = True
    replaced = {r.path for r in fetched}
    dirs = {show(d) for d in _dirs_of(replaced)}
    kept = [r for r in records if r.path not in replaced]
    # G109 (scan's "DVC-tracked directory not present") no longer holds for directories read
    findings = [f for f in findings if not (f.rule == "G109" and f.file in dirs)]
    findings += [Finding.of(R_VANISHED, f"{what} is not on the DVC remote (run `dvc push`)",
                            file=show(rel)) for rel, what in missing]
    return sorted(kept + fetched, key=lambda r: r.path), findings


def _tracked(
    repo: Any, odb: Any, root: str, present: set[str],
) -> tuple[list[RemoteObject], list[tuple[str, str]]]:
    """Remote objects for every tracked file under ``root`` not in ``present``, and the
    directories whose manifest the remote lacks."""
    from dvc_data.hashfile.tree import Tree

    objects: list[RemoteObject] = []
    missing: list[tuple[str, str]] = []
    for out in repo.index.outs:
        info = out.hash_info
        if not out.use_cache or info is None or not info.value:
            continue
        rel = os.path.relpath(out.fs_path, root).replace(os.sep, "/")
        if rel == ".." or rel.startswith("../"):
            continue
        if info.isdir:
            try:
                tree = Tree.load(odb, info)
            except FileNotFoundError:
                missing.append((rel, f"the manifest of directory {rel} ({info.value})"))
                continue
            for key, meta, hashed in tree:
                child = rel + "/" + "/".join(key) if rel != "." else "/".join(key)
                if child in present or any(p.startswith(".") for p in key):
                    continue
                size = meta.size if meta is not None and meta.size is not None else -1
                objects.append(RemoteObject(odb.oid_to_path(hashed.value), child, size))
        elif rel not in present:
            size = out.meta.size if out.meta is not None and out.meta.size is not None else -1
            objects.append(RemoteObject(odb.oid_to_path(info.value), rel, size))
    return sorted(objects, key=lambda o: o.rel), missing


def _dirs_of(paths: set[str]) -> set[str]:
    out = set()
    for p in paths:
        while "/" in p:
            p = p.rsplit("/", 1)[0]
            out.add(p)
    return out
