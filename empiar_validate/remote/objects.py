"""List a remote dataset and read every object's header: in parallel, bounded retries, one
finding per object that cannot be read.

The listing is one recursive ``find`` (one paged LIST on S3), which also gives every size; a
listing that fails means the remote cannot be reached at all (:class:`RemoteUnreachable`, exit
2). Then each object costs one ranged GET for its head (see :mod:`.ranged` for when a reader
needs more), issued from a thread pool: the waits overlap, and the parsing between them is the
same code that reads headers on disk (:func:`empiar_validate.formats.read_bytes`).
"""

from __future__ import annotations

import dataclasses
import errno
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.records import FileRecord
from empiar_validate.remote.ranged import BudgetExceeded, RangedFile, Transfer

ATTEMPTS = 4  # per request, on top of the backend's own retries; then a finding
BACKOFF_S = 0.2  # first wait; doubles per attempt (0.2, 0.4, 0.8 s)
DEFAULT_JOBS = 32  # requests in flight: latency-bound, not CPU-bound

R_VANISHED = rule(
    "F031", Severity.ERROR, "object vanished between listing and reading",
    "Something deleted or renamed it while the check ran; run again when the data are stable.",
)
R_TRUNCATED = rule(
    "F032", Severity.ERROR, "object shorter than listed (truncated or replaced while reading)",
    "Re-upload the object; run again when the data are stable.",
)
R_FAILED = rule(
    "F033", Severity.ERROR, "object could not be read (throttled, timed out or network error)",
    "Run again later, or with fewer parallel requests (-j); the message says what failed.",
)
R_REFUSED = rule(
    "F034", Severity.ERROR, "access to the object refused",
    "Check the credentials and the permissions on the object (read access is enough).",
)

_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_SECRETISH = re.compile(r"(?i)(signature|credential|x-amz-security-token|token|key)=[^&\s]+")


class RemoteUnreachable(OSError):
    """The remote could not be listed at all: wrong endpoint, no network, refused
    credentials, no such bucket. The message is safe to print."""


def redact(text: str) -> str:
    """``text`` with user:password in URLs and signed-URL parameters masked: messages from
    storage libraries can quote the URL they failed on."""
    return _SECRETISH.sub(r"\1=***", _USERINFO.sub("***@", text))


@dataclass(frozen=True, slots=True)
class RemoteObject:
    """One listed object: its path in the filesystem, its path relative to the dataset root
    (``/``-separated) and the size the listing gave (``-1``: not listed, asked when read)."""

    path: str
    rel: str
    size: int


def connect(url: str) -> tuple[Any, str]:
    """The fsspec filesystem for ``url`` and the path inside it. Credentials and endpoints
    come from the backend's usual places; raises :class:`RemoteUnreachable` when fsspec has
    no backend for the scheme (or its library is not installed)."""
    try:
        import fsspec
    except ImportError:
        raise RemoteUnreachable(
            "reading datasets from URLs needs fsspec: pip install 'empiar-validate[remote]'"
        ) from None
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise RemoteUnreachable(redact(f"no filesystem for {url}: {exc}")) from None
    return fs, path


def list_objects(fs: Any, root: str) -> list[RemoteObject]:
    """Every object under ``root`` (or ``root`` itself if it is one, with ``rel`` empty),
    hidden names skipped as the directory walk skips them, sorted by relative path."""
    try:
        info = fs.info(root)
        if info.get("type") == "file":
            return [RemoteObject(root, "", int(info.get("size") or 0))]
        found = fs.find(root, detail=True)
    except FileNotFoundError:
        raise RemoteUnreachable(f"{root}: no such bucket, prefix or object") from None
    except PermissionError as exc:
        raise RemoteUnreachable(redact(f"access refused: {_reason(exc)}")) from None
    except Exception as exc:  # network, DNS, endpoint: the remote cannot be reached
        raise RemoteUnreachable(redact(f"cannot list {root}: {_reason(exc)}")) from None
    base = root.rstrip("/")
    out = []
    for path, meta in found.items():
        if meta.get("type", "file") != "file" or path.endswith("/"):
            continue
        rel = path[len(base):].lstrip("/") if path.startswith(base) else path
        if not rel or any(part.startswith(".") for part in rel.split("/")):
            continue
        out.append(RemoteObject(path, rel, int(meta.get("size") or 0)))
    return sorted(out, key=lambda o: o.rel.encode("utf-8", "surrogateescape"))


def read_objects(
    fs: Any, objects: Iterable[RemoteObject], *, jobs: int | None = None,
    transfer: Transfer | None = None, tick: Callable[[], None] | None = None,
) -> list[FileRecord]:
    """One record per object, in the order given; never raises for a bad object."""
    items = list(objects)
    transfer = transfer if transfer is not None else Transfer()
    jobs = max(1, jobs or DEFAULT_JOBS)

    def one(obj: RemoteObject) -> FileRecord:
        rec = read_object(fs, obj, transfer)
        if tick is not None:
            tick()
        return rec

    if jobs == 1 or len(items) < 2:
        return [one(o) for o in items]
    with ThreadPoolExecutor(max_workers=min(jobs, len(items)),
                            thread_name_prefix="remote") as pool:
        return list(pool.map(one, items))


def read_object(fs: Any, obj: RemoteObject, transfer: Transfer) -> FileRecord:
    """The header of one object, read with one ranged request (more only if its format needs
    them); problems become findings on the record."""
    from empiar_validate.formats import F_EMPTY, F_READER_FAILED, HEAD_SIZE, read_bytes

    record = FileRecord(path=obj.rel, size=obj.size if obj.size >= 0 else None)
    if obj.size < 0:  # not listed (a DVC object named by its hash): ask for the size first
        try:
            size = int(_with_retries(lambda: fs.size(obj.path)))
        except _ReadFailed as failed:
            record.problems.append(Finding.of(failed.rule, failed.message, file=obj.rel))
            return record
        obj = dataclasses.replace(obj, size=size)
        record.size = size
    if obj.size == 0:
        record.problems.append(Finding.of(F_EMPTY, "object is empty", file=obj.rel))
        return record

    def fetch(start: int, end: int) -> bytes:
        data = _with_retries(lambda: fs.cat_file(obj.path, start=start, end=end))
        transfer.add(len(data))
        return data

    try:
        want = min(obj.size, HEAD_SIZE)
        head = fetch(0, want)
        if len(head) < want:
            record.problems.append(Finding.of(
                R_TRUNCATED, f"listed as {obj.size} bytes but only {len(head)} could be read",
                file=obj.rel))
            return record
        # the name says the extension (a DVC object is named by its hash, its path by the repo)
        return read_bytes(obj.rel or obj.path, head, obj.size, record,
                          opener=lambda: RangedFile(fetch, obj.size, head))
    except _ReadFailed as failed:
        record.problems.append(Finding.of(failed.rule, failed.message, file=obj.rel))
    except BudgetExceeded as exc:
        record.problems.append(Finding.of(F_READER_FAILED, str(exc), file=obj.rel))
    return record


class _ReadFailed(Exception):
    def __init__(self, r: Any, message: str) -> None:
        super().__init__(message)
        self.rule, self.message = r, message


def _with_retries(call: Callable[[], Any]) -> Any:
    """``call()``, retried :data:`ATTEMPTS` times in all with doubling waits when the failure
    may pass (throttling, timeouts, dropped connections); a vanished object or a refusal is
    final at once. Raises :class:`_ReadFailed` with the finding to report."""
    wait = BACKOFF_S
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return call()
        except FileNotFoundError:
            raise _ReadFailed(R_VANISHED, "listed, then not found when read") from None
        except PermissionError as exc:
            raise _ReadFailed(R_REFUSED, redact(_reason(exc))) from None
        except Exception as exc:  # the backend's errors are many; each is a finding
            if attempt == ATTEMPTS:
                raise _ReadFailed(R_FAILED, redact(
                    f"{_kind(exc)} after {ATTEMPTS} attempts: {_reason(exc)}")) from None
            time.sleep(wait)
            wait *= 2
    raise AssertionError("unreachable")  # pragma: no cover


def _kind(exc: BaseException) -> str:
    text = f"{type(exc).__name__} {exc}".lower()
    if isinstance(exc, TimeoutError) or "timeout" in text or "timed out" in text:
        return "timed out"
    if ("slowdown" in text or "throttl" in text or "reduce your request rate" in text
            or "503" in text or getattr(exc, "errno", None) == errno.EBUSY):
        return "throttled"
    return "failed"


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:300] if text else type(exc).__name__
