"""Turn a target URL into an fsspec filesystem, and backend failures into clear errors.

Storage options are merged from three places, strongest first: keyword arguments
given to the target, the protocol's section of ``luigi.cfg`` (``[s3]``, ``[gcs]``,
...), and whatever the backend finds on its own (environment variables such as
``AWS_ACCESS_KEY_ID``, credential files, instance metadata).
"""

from __future__ import annotations

import errno
import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import fsspec
import luigi.configuration
from fsspec.spec import AbstractFileSystem

from targets.errors import DashPipelineError, StorageError, TargetError

# Several spellings name one backend; options are looked up under the canonical one.
_CANONICAL = {"gs": "gcs", "s3a": "s3", "local": "file"}
BUCKET_PROTOCOLS = frozenset({"s3", "gcs"})
# Stores where an upload appears all at once, so a finished local staging file can
# be uploaded straight to the final key.
ATOMIC_UPLOAD_PROTOCOLS = frozenset({"s3", "gcs", "abfs", "az"})
# Named in the "unknown protocol" error; fsspec knows many more.
_WELL_KNOWN_PROTOCOLS = frozenset(
    {"file", "memory", "s3", "gcs", "abfs", "az", "http", "https", "sftp", "hdfs"}
)
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
_SCHEME_TYPO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]+):/(?!/)")


class Location:
    """A validated URL and the filesystem that serves it.

    The filesystem is created on first use: creating a target must stay free,
    and some backends look for credentials when their filesystem is created.
    It is created again in a forked child (luigi's ``--workers`` > 1): async
    backends such as s3fs and gcsfs refuse to be used across a fork.
    """

    def __init__(self, url: str, protocol: str, fs_class: type[AbstractFileSystem], options: dict[str, Any]):
        self.url = url
        self.protocol = protocol
        self.path: str = fs_class._strip_protocol(url)
        self._fs_class = fs_class
        self._options = options
        self._fs: AbstractFileSystem | None = None
        self._fs_pid = 0

    @property
    def is_local(self) -> bool:
        return self.protocol == "file"

    @property
    def fs(self) -> AbstractFileSystem:
        if self._fs is None or self._fs_pid != os.getpid():
            self._fs = self._create_filesystem()
            self._fs_pid = os.getpid()
        return self._fs

    def _create_filesystem(self) -> AbstractFileSystem:
        try:
            return self._fs_class(**self._options)
        except DashPipelineError:
            raise
        except Exception as exc:
            # The options' values may hold secrets: name only the keys.
            raise TargetError(
                f"cannot set up storage for {self.url!r} with options {sorted(self._options)}: "
                f"{type(exc).__name__}: {exc}"
            ) from None


def canonical_protocol(protocol: str | None) -> str:
    if not protocol:
        return "file"
    return _CANONICAL.get(protocol, protocol)


def split_url(url: object) -> tuple[str, str]:
    """Return ``(canonical protocol, path without protocol)``, rejecting malformed URLs."""
    if isinstance(url, os.PathLike):
        url = os.fspath(url)
    if not isinstance(url, str):
        raise TargetError(f"a target URL must be a string, got {type(url).__name__} {url!r}")
    if not url or url != url.strip() or "\x00" in url:
        raise TargetError(f"malformed URL {url!r}: empty, padded with spaces or containing NUL")
    typo = _SCHEME_TYPO.match(url)
    if typo and len(typo.group(1)) > 1:
        raise TargetError(f"malformed URL {url!r}: did you mean '{typo.group(1)}://'?")
    protocol, path = fsspec.core.split_protocol(url)
    protocol = canonical_protocol(protocol)
    if protocol in BUCKET_PROTOCOLS:
        bucket, _, key = path.partition("/")
        if not bucket:
            raise TargetError(f"malformed URL {url!r}: no bucket name after '{url.split('://')[0]}://'")
        if not _BUCKET_NAME.match(bucket):
            raise TargetError(f"malformed URL {url!r}: {bucket!r} is not a valid bucket name")
        if not key.strip("/"):
            raise TargetError(f"malformed URL {url!r}: no object path after the bucket")
    elif not path.strip("/"):
        raise TargetError(f"malformed URL {url!r}: no path")
    return protocol, path


def filesystem_class(protocol: str, url: str) -> type[AbstractFileSystem]:
    try:
        return fsspec.get_filesystem_class(protocol)
    except ValueError:
        known = ", ".join(
            sorted({canonical_protocol(p) for p in fsspec.available_protocols()} & _WELL_KNOWN_PROTOCOLS)
        )
        raise TargetError(
            f"unknown storage protocol '{protocol}' in {url!r} (common ones: {known})"
        ) from None
    except ImportError as exc:
        raise TargetError(
            f"protocol '{protocol}' in {url!r} needs a package that is not installed: {exc}"
        ) from None


def _parse_option(value: str) -> Any:
    # luigi.cfg values are strings; JSON lets `anon = true` or a dict of client kwargs through typed.
    try:
        return json.loads(value)
    except ValueError:
        return value


def configured_options(protocol: str) -> dict[str, Any]:
    """Storage options from the protocol's section of luigi.cfg, e.g. ``[s3] endpoint_url``."""
    config = luigi.configuration.get_config()
    if not config.has_section(protocol):
        return {}
    options: dict[str, Any] = {}
    for key in config.options(protocol):
        try:
            raw = config.get(protocol, key)
        except Exception as exc:  # luigi raises its own interpolation errors for unset ${ENV} names
            raise TargetError(f"luigi.cfg [{protocol}] {key}: {exc}") from None
        options[key] = _parse_option(raw)
    return options


def resolve(url: object, storage_options: Mapping[str, Any] | None = None) -> Location:
    """Validate ``url`` and return its :class:`Location`; no request is made yet."""
    protocol, _ = split_url(url)
    url = os.fspath(url)  # type: ignore[arg-type]
    fs_class = filesystem_class(protocol, url)
    options = {**configured_options(protocol), **(storage_options or {})}
    return Location(url, protocol, fs_class, options)


def _explain(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "NoCredentialsError":
        return (
            "no credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE, "
            "or use the backend's credential chain)"
        )
    if name in {"EndpointConnectionError", "ClientConnectorError", "ConnectTimeoutError"} or isinstance(
        exc, ConnectionError
    ):
        return f"storage endpoint unreachable: {exc}"
    text = str(exc).strip().splitlines()
    return f"{name}: {text[0]}" if text else name


@contextmanager
def storage_errors(url: str, action: str) -> Iterator[None]:
    """Re-raise backend failures as :class:`StorageError` naming ``url`` and ``action``.

    A missing file stays a ``FileNotFoundError`` (callers rely on that type) but
    is re-raised with the URL, which backends often omit.
    """
    try:
        yield
    except (DashPipelineError, FileExistsError):
        raise
    except FileNotFoundError as exc:
        raise FileNotFoundError(errno.ENOENT, f"cannot {action}: not found", url) from exc
    except PermissionError as exc:
        raise StorageError(f"cannot {action} {url}: permission denied ({exc})") from exc
    except Exception as exc:
        raise StorageError(f"cannot {action} {url}: {_explain(exc)}") from exc
