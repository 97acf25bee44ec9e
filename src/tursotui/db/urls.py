"""Parsing of the database URLs found in registries and settings."""

from __future__ import annotations

import functools
import re
from typing import Literal, NamedTuple
from urllib.parse import urlsplit

from tursotui.errors import TursotuiError

Transport = Literal["file", "http", "ws"]

_HTTP_SCHEMES = {"libsql": "https", "https": "https", "http": "http"}
_WS_SCHEMES = {"ws": "ws", "wss": "wss"}


class InvalidURL(TursotuiError, ValueError):
    """A database URL that tursotui cannot use; the message says why.

    Also a ValueError, so that settings validation reports it as a bad value.
    """

    title = "Database URL"


class DatabaseURL(NamedTuple):
    """A parsed database URL.

    Attributes:
        original: The URL as it was written (never contains a token).
        transport: Which transport serves it.
        target: For `file`, the filesystem path; otherwise the base URL the
            transport talks to (`https://host`, `http://127.0.0.1:8080`, `wss://host`).
    """

    original: str
    transport: Transport
    target: str

    @property
    def is_remote(self) -> bool:
        """True for anything that is not a local file."""
        return self.transport != "file"

    @property
    def host(self) -> str:
        """A short, token-free name of where the database lives, for display."""
        if self.transport == "file":
            return self.target
        return urlsplit(self.target).netloc


def parse_url(url: str) -> DatabaseURL:
    """Parse a database URL; bare hostnames are read as `libsql://`.

    Raises:
        InvalidURL: the URL is empty, malformed or of an unknown scheme.
    """
    # A fleet asks the same registry rows' URLs many times (which transport, which host,
    # where to connect): parsed once each. The answer is frozen, so it can be shared;
    # a refusal is not kept and is raised again.
    return _parse(url)


@functools.lru_cache(maxsize=16384)
def _parse(url: str) -> DatabaseURL:
    text = (url or "").strip()
    if not text:
        raise InvalidURL("the URL is empty")
    if text.startswith("file:"):
        path = text[len("file:") :]
        if path.startswith("//"):
            path = path[2:]
        path = path.split("?", 1)[0]
        if not path:
            raise InvalidURL(f"the URL {text!r} names no file")
        return DatabaseURL(text, "file", path)
    if any(ch.isspace() for ch in text):
        raise InvalidURL(f"the URL {text!r} contains white space")
    if "://" not in text:
        if ":" in text.split("/", 1)[0] and not text.split(":", 1)[1][:1].isdigit():
            raise InvalidURL(f"unknown scheme in {text!r}")
        text_for_parse = "libsql://" + text
    else:
        text_for_parse = text
    try:
        parts = urlsplit(text_for_parse)
        port = parts.port
    except ValueError as error:
        raise InvalidURL(f"the URL {text!r} is malformed ({error})") from None
    scheme = parts.scheme.lower()
    if not parts.hostname:
        raise InvalidURL(f"the URL {text!r} names no host")
    if parts.username or parts.password:
        raise InvalidURL(f"the URL {text!r} carries credentials; put the token in db_token")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = host if port is None else f"{host}:{port}"
    path = parts.path.rstrip("/")
    if scheme in _HTTP_SCHEMES:
        return DatabaseURL(text, "http", f"{_HTTP_SCHEMES[scheme]}://{netloc}{path}")
    if scheme in _WS_SCHEMES:
        return DatabaseURL(text, "ws", f"{_WS_SCHEMES[scheme]}://{netloc}{path}")
    raise InvalidURL(f"unknown scheme {parts.scheme!r} in {text!r}")


PLAIN_REMOTE = re.compile(
    r"(?:libsql|https?|wss?)://[a-z0-9][a-z0-9.-]*(?::[0-9]{1,4})?(?:/[^?#@\[\]]*)?"
    r"(?:\?[^#@\[\]]*)?",
    re.IGNORECASE | re.ASCII,
)
"""The usual shape of a remote URL: a known scheme, a plain host name, a port of at most four
digits, no credentials or brackets (white space and control characters are checked
before). What it matches `parse_url` accepts."""


def url_problem(url: str) -> str | None:
    """Why `parse_url(url)` would refuse `url`, or None: `parse_url`'s check without its result.

    A registry checks every row's URL when it is read; for 10,000 rows `parse_url` itself
    (urlsplit, its port and host properties) was most of the reading. The usual shapes are
    recognised here at a fraction of its cost; anything else is asked of `parse_url`.
    """
    if url.startswith("file:") and url == url.strip():
        path = url[5:]
        if path.startswith("//"):
            path = path[2:]
        if path and path[0] != "?":
            return None
    elif url.isascii() and url.isprintable() and " " not in url and PLAIN_REMOTE.fullmatch(url):
        return None
    try:
        parse_url(url)
    except InvalidURL as error:
        return str(error)
    return None
