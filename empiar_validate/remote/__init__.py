"""Datasets given as URLs: headers read where the data live, never downloaded.

``inspect``, ``scan`` and ``check`` accept ``s3://bucket/prefix``, ``gs://...``, ``https://...``
or any URL fsspec knows. The objects are listed once, then each header is read with one ranged
request (:mod:`.ranged` grows the range only when a format needs more, e.g. a TIFF IFD chain),
in parallel, with bounded retries and one finding per object that cannot be read
(:mod:`.objects`). Credentials and endpoints come from where the filesystem's own library looks
(``AWS_ENDPOINT_URL``, ``AWS_PROFILE`` and ``~/.aws``, fsspec's configuration files and
``FSSPEC_*`` variables); nothing here prints or stores them.

fsspec and its backends are imported only when a URL is given.
"""

from __future__ import annotations

import re

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def is_url(path: object) -> bool:
    """True for ``scheme://...`` (``file://`` included), the form a remote dataset takes.

    A Windows drive (``C:\\``) or a local name holding ``:`` is never a URL: the ``//`` after
    the scheme is required."""
    return isinstance(path, str) and _SCHEME.match(path) is not None


def join(url: str, rel: str) -> str:
    """``url`` and a ``/``-separated relative path, as findings print object names."""
    base = url.rstrip("/")
    return f"{base}/{rel}" if rel else base


def shown_root(root: str) -> str:
    """The dataset as reports name it: a URL without credentials, or the printable path."""
    if is_url(root):
        from empiar_validate.remote.objects import redact

        return redact(root).rstrip("/") or root
    from empiar_validate.paths import display_path

    return display_path(root)
