"""The checksum cache: digests of earlier runs, so a re-run hashes only new or changed files.

A file's digests are reused when its relative path, size, mtime_ns and inode (its
:class:`Stamp`) are unchanged. The cache is one JSON document written atomically, plus a
journal beside it (``<cache>.journal``, JSON lines) that every new digest is appended to the
moment it is known, with one unbuffered write. A run killed at any point (Ctrl-C, SIGKILL, a
lost cluster, a batch job hitting its time limit) therefore keeps every digest it computed: the
next run reads the journal back and hashes only what is missing. A torn last line is ignored.
Saving the whole cache folds the journal in and removes it, so after a completed run only the
JSON document remains, identical whether the digests came from this machine or a cluster.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from empiar_validate.atomic import write_bytes_atomic

CACHE_NAME = ".empiar-validate-cache.json"
CACHE_FORMAT = "empiar-validate checksum cache 1"
JOURNAL_SUFFIX = ".journal"
JOURNAL_FORMAT = "empiar-validate checksum journal 1"


@dataclass(frozen=True, slots=True)
class Stamp:
    """What identifies one version of a file's content without reading it."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, st: os.stat_result) -> Stamp:
        """The stamp of a ``stat`` result."""
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


_HEX = set("0123456789abcdef")


def _valid_entry(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    ints = all(isinstance(value.get(k), int) and not isinstance(value.get(k), bool)
               for k in ("size", "mtime_ns", "inode"))
    sha, md5 = value.get("sha256"), value.get("md5")
    return (ints and isinstance(sha, str) and len(sha) == 64 and set(sha) <= _HEX
            and isinstance(md5, str) and len(md5) == 32 and set(md5) <= _HEX)


def _dumps(doc: object) -> bytes:
    return json.dumps(doc, ensure_ascii=True, separators=(",", ":")).encode()


class ChecksumCache:
    """Digests from earlier runs, keyed by relative path and checked against the file's stamp.

    Stored as JSON with ASCII escapes, so undecodable file names (kept as surrogates) round-trip.
    Entries for files no longer present are dropped on save. ``path=None`` keeps nothing.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.journal_path = None if path is None else path + JOURNAL_SUFFIX
        self.entries: dict[str, dict[str, object]] = {}
        self.problem: str | None = None
        self._lock = threading.Lock()
        self._journal: int | None = None  # file descriptor, opened on the first put
        self._journal_valid = False  # an interrupted run's journal is there, to append to
        self.from_journal = 0  # entries read back from that journal
        if path is None:
            return
        self._load(path)
        self.from_journal = self._replay()

    def _load(self, path: str) -> None:
        try:
            with open(path, "rb") as fh:
                doc = json.loads(fh.read())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            self.problem = f"{type(exc).__name__}: {exc}"
            return
        if not isinstance(doc, dict) or doc.get("format") != CACHE_FORMAT:
            self.problem = "not an empiar-validate checksum cache of this version"
            return
        files = doc.get("files")
        if isinstance(files, dict):
            self.entries = {k: v for k, v in files.items() if _valid_entry(v)}

    def _replay(self) -> int:
        """Fold in the journal an interrupted run left; returns how many entries it gave."""
        assert self.journal_path is not None
        try:
            with open(self.journal_path, "rb") as fh:
                lines = fh.read().split(b"\n")
        except OSError:
            return 0
        try:
            header = json.loads(lines[0])
        except ValueError:
            return 0
        if not isinstance(header, dict) or header.get("format") != JOURNAL_FORMAT:
            return 0
        self._journal_valid = True
        count = 0
        for line in lines[1:]:
            try:
                item = json.loads(line)
            except ValueError:
                continue  # the torn last line of a killed run, or an empty one
            if isinstance(item, dict) and isinstance(item.get("rel"), str):
                entry = {k: item.get(k) for k in ("size", "mtime_ns", "inode", "sha256", "md5")}
                if _valid_entry(entry):
                    self.entries[item["rel"]] = entry
                    count += 1
        return count

    def get(self, rel: str, stamp: Stamp) -> tuple[str, str] | None:
        """The cached digests when the stamp still matches, else ``None``."""
        e = self.entries.get(rel)
        if e is None or (e["size"], e["mtime_ns"], e["inode"]) != (
            stamp.size, stamp.mtime_ns, stamp.inode
        ):
            return None
        return str(e["sha256"]), str(e["md5"])

    def put(self, rel: str, stamp: Stamp, sha256: str, md5: str) -> None:
        """Remember the digests of ``rel`` at ``stamp``, in memory and in the journal."""
        entry: dict[str, object] = {"size": stamp.size, "mtime_ns": stamp.mtime_ns,
                                    "inode": stamp.inode, "sha256": sha256, "md5": md5}
        with self._lock:
            self.entries[rel] = entry
            if self.journal_path is None:
                return
            if self._journal is None:
                self._journal = self._open_journal()
            if self._journal is not None:
                with contextlib.suppress(OSError):  # the cache is an optimisation only
                    os.write(self._journal, _dumps({"rel": rel, **entry}) + b"\n")

    def _open_journal(self) -> int | None:
        """The journal to append to: an interrupted run's (after a newline that ends its torn
        last line, if any), or a new one."""
        assert self.journal_path is not None
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        if not self._journal_valid:
            flags |= os.O_TRUNC
        try:
            fd = os.open(self.journal_path, flags, 0o644)
        except OSError:
            return None
        try:
            os.write(fd, b"\n" if self._journal_valid
                     else _dumps({"format": JOURNAL_FORMAT}) + b"\n")
        except OSError:
            os.close(fd)
            return None
        return fd

    def save(self, keep: Iterable[str] | None = None) -> None:
        """Write the cache atomically, then drop the journal it now holds; with ``keep``,
        only those paths are kept."""
        if self.path is None:
            return
        with self._lock:
            entries = self.entries if keep is None else {
                k: self.entries[k] for k in keep if k in self.entries}
            doc = {"format": CACHE_FORMAT,
                   "files": {k: entries[k] for k in sorted(entries, key=os.fsencode)}}
            write_bytes_atomic(self.path, _dumps(doc) + b"\n")
            if self._journal is not None:
                os.close(self._journal)
                self._journal = None
            self._journal_valid = False
            assert self.journal_path is not None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.journal_path)
