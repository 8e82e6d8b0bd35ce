"""An S3 server on the loopback interface for the remote tests: moto's server mode, wrapped so
the tests can count the bytes it serves.

``S3Server`` runs moto's WSGI application (the one ``moto_server`` runs) in a thread on
127.0.0.1 with an ephemeral port, behind a middleware that adds up the body bytes of every
response to a GET of an object and logs each request's Range header. Not a test module: tests
import it (``pytest.importorskip`` first, so a machine without moto skips with the reason).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class Served:
    """What the server sent: object GET requests, their Range headers, and body bytes."""

    gets: int = 0
    bytes: int = 0
    ranges: list[str | None] = field(default_factory=list)
    ranges_by_order: list[str] = field(default_factory=list)  # the key of each range above
    by_key: dict[str, int] = field(default_factory=dict)  # "/bucket/key" -> body bytes
    gets_by_key: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.gets, self.bytes, self.ranges, self.ranges_by_order = 0, 0, [], []
            self.by_key, self.gets_by_key = {}, {}


class _Counting:
    """WSGI middleware: count the body of every GET that is not a listing (no query)."""

    def __init__(self, app: Any, served: Served, latency: float = 0.0) -> None:
        self.app, self.served, self.latency = app, served, latency

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        if self.latency:
            time.sleep(self.latency)  # a store that is not on the loopback (benchmarks)
        is_object_get = (environ.get("REQUEST_METHOD") == "GET"
                         and not environ.get("QUERY_STRING")
                         and environ.get("PATH_INFO", "/").count("/") >= 2)
        body = self.app(environ, start_response)
        if not is_object_get:
            yield from body
            return
        key = environ.get("PATH_INFO", "")
        with self.served.lock:
            self.served.gets += 1
            self.served.ranges.append(environ.get("HTTP_RANGE"))
            self.served.ranges_by_order.append(key)
            self.served.gets_by_key[key] = self.served.gets_by_key.get(key, 0) + 1
        for chunk in body:
            with self.served.lock:
                self.served.bytes += len(chunk)
                self.served.by_key[key] = self.served.by_key.get(key, 0) + len(chunk)
            yield chunk


@dataclass
class S3Server:
    """A running server: its endpoint URL and what it served."""

    endpoint: str
    served: Served

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, **_boto_credentials())


def _boto_credentials() -> dict[str, str]:
    return {"aws_access_key_id": ENV["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": ENV["AWS_SECRET_ACCESS_KEY"],
            "region_name": ENV["AWS_DEFAULT_REGION"]}


@contextmanager
def s3_server(latency: float = 0.0) -> Iterator[S3Server]:
    """Start the server (answering each request ``latency`` seconds late), point the AWS
    environment at it (``AWS_ENDPOINT_URL``: the way a user points any S3 client at a non-AWS
    store), stop and restore on exit."""
    from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    class Quiet(MotoRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass  # one line per request on stderr would drown the test output

    served = Served()
    app = _Counting(DomainDispatcherApplication(create_backend_app), served, latency)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    saved = {k: os.environ.get(k) for k in (*ENV, "AWS_ENDPOINT_URL")}
    os.environ.update(ENV, AWS_ENDPOINT_URL=endpoint)
    _forget_clients()
    try:
        yield S3Server(endpoint, served)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        _forget_clients()


def _forget_clients() -> None:
    """fsspec caches filesystem instances (and their clients, bound to an endpoint)."""
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
