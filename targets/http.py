"""HttpTarget: a resource at an ``http://`` or ``https://`` URL (an API endpoint, a published
file), read as an external input.

Its version is what the server says about it, learnt with one HEAD: the ETag, else
Last-Modified with Content-Length. Only a server that sends neither is read whole and hashed.
Checking many of them runs the HEADs concurrently, at most ``MOST_AT_ONCE`` at a time, so a
``status`` of 1,000 API inputs is 1,000 small requests in parallel, not 1,000 downloads.

Reads go through an RFC 9111 cache (hishel) in the user's cache directory, so a resource read
again is revalidated (``If-None-Match``: a 304 and no body) instead of downloaded, and through
retries with backoff (httpx-retries) on 429 and 5xx that honour ``Retry-After``.

Credentials never appear in the URL: ``headers`` (in YAML, ``${env:NAME}`` values) and
``token_env``, the name of an environment variable holding a bearer token (default: the
``[http] token_env`` key of luigi.cfg). Neither is ever part of a message, record or repr.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import httpx
import luigi.configuration

from targets.base import BaseTarget
from targets.errors import StorageError, TargetError
from targets.fingerprint import Fingerprint

MOST_AT_ONCE = 16
TIMEOUT_S = 30.0
RETRIES = 5
GONE = (404, 410)
NO_HEAD = (405, 501)  # servers that refuse HEAD: a GET, closed after the headers, says the same


class HttpTarget(BaseTarget):
    type_name = "http"
    schemes = ("http", "https")

    def __init__(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        token_env: str | None = None,
        timeout: float = TIMEOUT_S,
        retries: int = RETRIES,
        pages: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(url)
        parts = urlsplit(url)
        if parts.scheme not in self.schemes or not parts.hostname:
            raise TargetError(f"malformed URL {self.display_url!r}: expected http(s)://HOST/PATH")
        if parts.password is not None:
            raise TargetError(
                f"{self.display_url}: put credentials in headers or token_env, never in the URL"
            )
        if options:
            raise TargetError(f"{self.display_url}: unknown option {sorted(options)[0]!r} for an HTTP input")
        self._headers = dict(headers or {})
        self._token_env = token_env or luigi.configuration.get_config().get("http", "token_env", "") or None
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.pages = dict(pages or {})  # how targets.http_pages pages through it
        unknown = set(self.pages) - {"items", "next", "cursor", "cursor_param"}
        if unknown:
            raise TargetError(
                f"{self.display_url}: unknown paging option {sorted(unknown)[0]!r} "
                "(items, next, cursor, cursor_param)"
            )

    # -- what the server says ------------------------------------------------------------

    def request_headers(self) -> dict[str, str]:
        headers = dict(self._headers)
        if self._token_env:
            token = os.environ.get(self._token_env)
            if not token:
                raise TargetError(f"{self.display_url}: environment variable {self._token_env} is not set")
            headers.setdefault("Authorization", f"Bearer {token}")
        return headers

    def observe(self) -> dict[str, str] | None:
        """The response headers that identify the version, or None when the resource is gone."""
        client = _plain_client(self.retries)
        try:
            headers = self.request_headers()
            response = client.head(self.url, headers=headers, timeout=self.timeout)
            if response.status_code in NO_HEAD:
                with client.stream("GET", self.url, headers=headers, timeout=self.timeout) as got:
                    response = got
        except httpx.HTTPError as exc:
            raise StorageError(f"{self.display_url}: {type(exc).__name__}: {exc or 'no answer'}") from None
        if response.status_code in GONE:
            return None
        _raise_for(self, response)
        wanted = ("etag", "last-modified", "content-length")
        return {name: response.headers[name] for name in wanted if name in response.headers}

    @classmethod
    def observe_all(cls, targets: Iterable[HttpTarget]) -> dict[int, Any]:
        """``observe()`` of each, concurrently: ``{id(target): headers or None}``."""
        targets = list(targets)
        with ThreadPoolExecutor(max_workers=min(MOST_AT_ONCE, len(targets) or 1)) as pool:
            found = list(pool.map(lambda target: target.observe(), targets))
        return {id(target): observed for target, observed in zip(targets, found, strict=True)}

    def exists(self) -> bool:
        return self.observe() is not None

    def fingerprint(self, listed: Any = None) -> Fingerprint | None:
        observed = self.observe() if listed is None else listed
        if observed is None:
            return None
        if "etag" in observed:
            return {"kind": "http", "etag": observed["etag"]}
        if "last-modified" in observed:
            return {
                "kind": "http",
                "last_modified": observed["last-modified"],
                "size": observed.get("content-length"),
            }
        return {"kind": "http", "sha256": hashlib.sha256(self.read_bytes()).hexdigest()}

    def matches(self, recorded: Fingerprint | None, listed: Any = None) -> bool | None:
        current = self.fingerprint(listed)
        return None if current is None else current == recorded

    # -- reading ---------------------------------------------------------------------------

    def get(self, url: str | None = None, cached: bool = True) -> httpx.Response:
        """A GET of this resource (or of ``url``, a further page of it) with its credentials,
        retried on 429 and 5xx; through the cache unless ``cached`` is false."""
        client = _caching_client(self.retries) if cached else _plain_client(self.retries)
        try:
            response = client.get(url or self.url, headers=self.request_headers(), timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise StorageError(f"{self.display_url}: {type(exc).__name__}: {exc or 'no answer'}") from None
        if response.status_code in GONE:
            raise FileNotFoundError(f"{self.display_url}: {response.status_code} {response.reason_phrase}")
        _raise_for(self, response)
        return response

    def read_bytes(self) -> bytes:
        return self.get().content

    def open(self, mode: str = "r") -> IO[Any]:
        if mode not in ("r", "rb"):
            raise TargetError(f"{self.display_url}: an HTTP input is read, never written (mode {mode!r})")
        data = io.BytesIO(self.read_bytes())
        return data if mode == "rb" else io.TextIOWrapper(data, encoding="utf-8")


def _raise_for(target: HttpTarget, response: httpx.Response) -> None:
    if response.status_code in (401, 403):
        raise StorageError(
            f"{target.display_url}: {response.status_code} {response.reason_phrase}: "
            "check the credentials in its headers or token_env"
        )
    if response.status_code >= 400:
        raise StorageError(f"{target.display_url}: {response.status_code} {response.reason_phrase}")


def _retrying(retries: int) -> httpx.BaseTransport:
    from httpx_retries import Retry, RetryTransport

    # HEAD and GET only (the defaults' idempotent methods); Retry-After is honoured, capped.
    retry = Retry(total=retries, backoff_factor=0.5, max_backoff_wait=30, respect_retry_after_header=True)
    return RetryTransport(transport=httpx.HTTPTransport(), retry=retry)


@functools.cache
def _plain_client(retries: int) -> httpx.Client:
    limits = httpx.Limits(max_connections=MOST_AT_ONCE * 2, max_keepalive_connections=MOST_AT_ONCE)
    return httpx.Client(transport=_retrying(retries), limits=limits, follow_redirects=True)


def cache_directory() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dashpipe" / "http"


_per_thread = threading.local()  # the cache's SQLite connection belongs to the thread that made it


def _caching_client(retries: int) -> httpx.Client:
    clients: dict[int, httpx.Client] = _per_thread.__dict__.setdefault("clients", {})
    if retries not in clients:
        clients[retries] = _new_caching_client(retries)
    return clients[retries]


def _new_caching_client(retries: int) -> httpx.Client:
    from hishel import SqliteStorage
    from hishel.httpx import CacheTransport

    directory = cache_directory()
    directory.mkdir(parents=True, exist_ok=True)
    # rfc=True: stored responses are revalidated as RFC 9111 says (If-None-Match, 304), not
    # served blindly; the URL alone keys an entry, so credentials are never part of its name.
    storage = SqliteStorage(database_path=str(directory / "responses.db"))
    transport = CacheTransport(next_transport=_retrying(retries), storage=storage, rfc=True)
    return httpx.Client(transport=transport, follow_redirects=True)
