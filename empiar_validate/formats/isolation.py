"""Read HDF5 headers in worker processes, so a file that crashes or hangs libhdf5 costs only
itself.

h5py hands the file's bytes to libhdf5, C code that trusts them: a crafted or damaged file can
crash it (a signal kills the process) or loop in it (no Python exception ever comes). Read
in-process, one such file would take the whole run and its report with it (issue 12). So the
HDF5 reader (``formats/hdf5.py``, BigDataViewer included) runs in a small pool of worker
processes:

- **reused across files**: a worker is started on first need (``forkserver``, safe with the
  header-reading threads) and serves file after file; h5py is imported once per worker, never
  in the main process;
- **bounded**: each file has :data:`TIME_LIMIT` seconds, and each worker an address-space limit
  of :data:`MEMORY_LIMIT` bytes (``RLIMIT_AS``; a ``MemoryError`` is a finding);
- **a worker that dies or hangs** (killed by a signal, out of memory, over time) is killed,
  the file gets finding F014, and the next file gets a fresh worker: the run goes on.

``EMPIAR_VALIDATE_ISOLATION=off`` reads in-process (for debugging). ``EMPIAR_VALIDATE_FAULT`` is
a fault-injection hook for the tests: ``kill:NAME`` makes the worker kill itself with SIGKILL
when asked to read a file named NAME, ``hang:NAME`` makes it sleep past the time limit.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

from empiar_validate.findings import Finding, Severity, rule

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from empiar_validate.formats.base import Source
    from empiar_validate.records import FileRecord

TIME_LIMIT = float(os.environ.get("EMPIAR_VALIDATE_HDF5_SECONDS", "60"))
MEMORY_LIMIT = int(os.environ.get("EMPIAR_VALIDATE_HDF5_MEMORY", str(4 << 30)))
MAX_WORKERS = max(1, min(4, os.cpu_count() or 1))

F_ISOLATED = rule(
    "F014", Severity.ERROR, "the header reader crashed, hung or ran out of memory on this file",
    "The file is damaged or crafted so that libhdf5 cannot read it (the rest of the run is "
    "unaffected); check it with h5dump, or replace it with a valid copy.",
)


def enabled() -> bool:
    """False when ``EMPIAR_VALIDATE_ISOLATION=off`` asks for in-process reads."""
    return os.environ.get("EMPIAR_VALIDATE_ISOLATION", "on").lower() not in ("off", "0", "no")


def read_isolated(module: str, source: Source, record: FileRecord) -> FileRecord:
    """Run ``empiar_validate.formats.<module>.read(source, record)`` in a worker; return the
    record it filled, or ``record`` with F014 when the worker died or hung."""
    return _pool().run(module, source, record)


class _Worker:
    def __init__(self, context: Any) -> None:
        parent, child = context.Pipe()
        self.conn: Connection = parent
        self.process = context.Process(target=_serve, args=(child, MEMORY_LIMIT), daemon=True)
        self.process.start()
        child.close()

    def stop(self, *, kill: bool = False) -> None:
        if kill and self.process.is_alive():
            self.process.kill()
        else:
            with contextlib.suppress(OSError):
                self.conn.send(None)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class _Pool:
    """At most :data:`MAX_WORKERS` workers, started when all are busy, shared by threads."""

    def __init__(self) -> None:
        import multiprocessing

        self._context = multiprocessing.get_context(
            "forkserver" if hasattr(os, "fork") else "spawn")
        self._idle: list[_Worker] = []
        self._count = 0
        self._cond = threading.Condition()

    def _take(self) -> _Worker:
        with self._cond:
            while not self._idle and self._count >= MAX_WORKERS:
                self._cond.wait()
            if self._idle:
                return self._idle.pop()
            self._count += 1
        try:
            return _Worker(self._context)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _give_back(self, worker: _Worker | None) -> None:
        with self._cond:
            if worker is None:
                self._count -= 1
            else:
                self._idle.append(worker)
            self._cond.notify()

    def run(self, module: str, source: Source, record: FileRecord) -> FileRecord:
        worker = self._take()
        try:
            worker.conn.send((module, source, record))
            if worker.conn.poll(TIME_LIMIT):
                result: FileRecord = worker.conn.recv()
                self._give_back(worker)
                return result
            problem = f"no answer within {TIME_LIMIT:g} s; the reader was stopped"
        except (EOFError, OSError):
            worker.process.join(timeout=5)
            problem = _death(worker.process.exitcode)
        except BaseException:  # e.g. a record that cannot be pickled: never leak the worker
            worker.stop(kill=True)
            self._give_back(None)
            raise
        worker.stop(kill=True)
        self._give_back(None)
        record.problems.append(Finding.of(F_ISOLATED, problem, file=record.path))
        return record

    def close(self) -> None:
        with self._cond:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the reader process was killed by {name}"
    return f"the reader process exited unexpectedly (exit code {code})"


_the_pool: _Pool | None = None
_lock = threading.Lock()


def _pool() -> _Pool:
    global _the_pool
    with _lock:
        if _the_pool is None:
            _the_pool = _Pool()
            atexit.register(_the_pool.close)
        return _the_pool


def shutdown() -> None:
    """Stop the workers (tests; the process's exit does it otherwise)."""
    global _the_pool
    with _lock:
        pool, _the_pool = _the_pool, None
    if pool is not None:
        pool.close()


def _serve(conn: Connection, memory_limit: int) -> None:
    """A worker: read the files it is sent, one at a time, until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    except (ImportError, ValueError, OSError):
        pass  # no limit on this platform, or a lower one already set
    fault = os.environ.get("EMPIAR_VALIDATE_FAULT", "")
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        module, source, record = job
        _inject(fault, source.path)
        try:
            importlib.import_module(f"empiar_validate.formats.{module}").read(source, record)
        except MemoryError:
            record.problems.append(Finding.of(
                F_ISOLATED, f"more than {memory_limit >> 20} MiB of memory needed",
                file=record.path))
        except Exception as exc:  # the dispatcher's safety net, on this side of the pipe
            from empiar_validate.formats.base import F_READER_FAILED

            record.problems.append(Finding.of(
                F_READER_FAILED, f"{type(exc).__name__}: {exc}", file=record.path))
        conn.send(record)


def _inject(fault: str, path: str) -> None:
    """The tests' fault injection (module docstring); nothing unless the variable is set."""
    if not fault:
        return
    kind, _, name = fault.partition(":")
    if os.path.basename(path) != name:
        return
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "hang":
        time.sleep(TIME_LIMIT * 10 + 60)
