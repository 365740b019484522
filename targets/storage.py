"""Turn a target URL into an fsspec filesystem, and backend failures into clear errors.

Storage options are merged from three places, strongest first: keyword arguments
given to the target, the protocol's section of ``luigi.cfg`` (``[s3]``, ``[gcs]``,
...), and whatever the backend finds on its own (environment variables such as
``AWS_ACCESS_KEY_ID``, credential files, instance metadata).
"""

from __future__ import annotations

import copy
import errno
import functools
import json
import logging
import os
import posixpath
import re
import socket
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

import fsspec
import luigi.configuration
import luigi.target
from fsspec.implementations.local import LocalFileSystem
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
# ``gs:bucket/key``: only for these, as ``name:rest`` is otherwise a fine local file name.
_SLASHLESS_SCHEME = re.compile(
    r"^(s3|s3a|gs|gcs|az|abfs|adl|hdfs|webhdfs|http|https|sftp|ssh|ftp):(?!/)", re.IGNORECASE
)
_USERINFO_PASSWORD = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/@:]*):[^/@]*@")
# luigi's own S3 client reads these keys from [s3]; s3fs knows them by other names.
_LUIGI_S3_KEYS = {"aws_access_key_id": "key", "aws_secret_access_key": "secret", "aws_session_token": "token"}


def redact(url: str) -> str:
    """``url`` with any password (``sftp://user:pw@host/...``) masked, for messages and logs."""
    return _USERINFO_PASSWORD.sub(r"\1:***@", url)


_PASSWORD_IN_TEXT = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/@:\s\"']*):[^/@\s\"']*@")


def redact_text(text: str) -> str:
    """``text`` with the password of every URL in it masked: for values that may hold URLs."""
    return _PASSWORD_IN_TEXT.sub(r"\1:***@", text)


class Location:
    """A validated URL and the filesystem that serves it.

    The filesystem is created on first use: creating a target must stay free,
    and some backends look for credentials when their filesystem is created.
    It is created again in a forked child (luigi's ``--workers`` > 1): async
    backends such as s3fs and gcsfs refuse to be used across a fork.
    """

    def __init__(
        self,
        url: str,
        protocol: str,
        fs_class: type[AbstractFileSystem],
        options: dict[str, Any],
        path: str | None = None,
    ):
        self.url = url
        self.protocol = protocol
        self.path: str = path if path is not None else fs_class._strip_protocol(url)
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
        if self._fs_class is LocalFileSystem and not self._options:
            return _local_filesystem()
        options = with_backend_defaults(self.protocol, self._options)
        if self.protocol == "gcs":
            _quiet_gcsfs_retry_log()
            _probe_endpoint(options.get("endpoint_url") or os.environ.get("STORAGE_EMULATOR_HOST"), self.url)
        try:
            fs = self._fs_class(**options)
            if self.protocol == "s3":
                _send_uploads_without_waiting_for_continue(fs)
            return fs
        except DashPipelineError:
            raise
        except Exception as exc:
            # The options' values may hold secrets: name only the keys.
            raise TargetError(
                f"cannot set up storage for {redact(self.url)!r} with options {sorted(self._options)}: "
                f"{type(exc).__name__}: {exc}"
            ) from None


# botocore's defaults wait 60 s to connect and retry 5 times ("legacy" mode) under s3fs's own
# 5 retries: a closed endpoint took 11 s to report and one that drops packets minutes. These
# give up within seconds on a dead endpoint, still ride out a brief hiccup, and lose to any
# config_kwargs key the user sets (luigi.cfg [s3] or the target's options).
_S3_CONFIG_DEFAULTS: dict[str, Any] = {
    "connect_timeout": 5,
    "retries": {"max_attempts": 3, "mode": "standard"},
}
_PROBE_TIMEOUT_S = 5.0


def with_backend_defaults(protocol: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` completed with the project's defaults for the backend; given values always win."""
    merged = dict(options)
    if protocol == "s3":
        given = merged.get("config_kwargs")
        if given is None or isinstance(given, Mapping):
            # A deep copy: botocore rewrites the nested retries dict in place, which would make the
            # next call's options differ and fsspec create (and list through) a second instance.
            merged["config_kwargs"] = copy.deepcopy({**_S3_CONFIG_DEFAULTS, **(given or {})})
    return merged


@functools.cache
def _quiet_gcsfs_retry_log() -> None:
    # gcsfs logs each failed request with logger.exception before re-raising it: the traceback
    # reached the terminal, then the same failure arrived here and became the one-line error.
    logging.getLogger("gcsfs").addFilter(_drop_reraised_failures)


def _drop_reraised_failures(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return not (record.exc_info and ("out of retries" in message or "non-retriable" in message))


_reachable: set[tuple[str, int, int]] = set()


def _probe_endpoint(endpoint: str | None, url: str) -> None:
    """Refuse an explicitly configured GCS endpoint that accepts no connection, in one line, at once.

    gcsfs retries every request 6 times with backoff, fixed in its code: a closed endpoint took
    35 s to report. One TCP connection per endpoint and process says the same in milliseconds.
    Only an endpoint given by the user is probed: gcsfs's own session connects directly (it
    ignores proxy settings), so a direct probe sees what gcsfs would see.
    """
    if not endpoint:
        return
    parts = urllib.parse.urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    try:
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetError(f"malformed endpoint_url {redact(endpoint)!r} for {redact(url)!r}") from None
    if not host:
        raise TargetError(f"malformed endpoint_url {redact(endpoint)!r} for {redact(url)!r}")
    key = (host, port, os.getpid())
    if key in _reachable:
        return
    try:
        socket.create_connection((host, port), timeout=_PROBE_TIMEOUT_S).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StorageError(
            f"cannot reach {redact(url)}: storage endpoint unreachable: {redact(endpoint)} ({reason})"
        ) from None
    _reachable.add(key)


def _send_uploads_without_waiting_for_continue(fs: AbstractFileSystem) -> None:
    """Make S3 uploads give up on an endpoint that stops answering, as every other request does.

    botocore sends file uploads with ``Expect: 100-continue``, and aiohttp waits for the "100"
    with no timeout at all: against an endpoint that hangs (measured with a stopped
    moto_server), an upload never returns, whatever ``read_timeout`` says. Without the header
    the body goes at once and the read timeout covers the wait for the answer. The cost is
    sending a body that the server then refuses, which S3 does rarely (auth, redirects).
    """
    if getattr(fs, "_dashpipe_no_continue", False):
        return
    fs.connect()  # s3fs creates its client now; no request is sent
    fs.s3.meta.events.register_last("before-call.s3", _drop_expect_header)
    fs._dashpipe_no_continue = True
    # A client s3fs makes anew (after credentials expire) sends the header again; uploads then
    # wait without a timeout, as plain s3fs does.


def _drop_expect_header(params: dict[str, Any], **_: Any) -> None:
    params.get("headers", {}).pop("Expect", None)


@functools.cache
def _local_filesystem() -> LocalFileSystem:
    # One shared instance: fsspec's own instance cache costs a tokenize per call, per target.
    return LocalFileSystem()


def canonical_protocol(protocol: str | None) -> str:
    if not protocol:
        return "file"
    return _CANONICAL.get(protocol, protocol)


def split_url(url: object) -> tuple[str, str]:
    """Return ``(canonical protocol, path without protocol)``, rejecting malformed URLs."""
    if isinstance(url, os.PathLike):
        url = os.fspath(url)
    if not isinstance(url, str):
        raise TargetError(f"a target URL must be a string, got {type(url).__name__}")
    shown = redact(url)
    if not url or url != url.strip() or "\x00" in url:
        raise TargetError(f"malformed URL {shown!r}: empty, padded with spaces or containing NUL")
    typo = _SCHEME_TYPO.match(url) or _SLASHLESS_SCHEME.match(url)
    if typo and len(typo.group(1)) > 1:
        raise TargetError(f"malformed URL {shown!r}: did you mean '{typo.group(1)}://'?")
    if url.startswith("://"):
        raise TargetError(f"malformed URL {shown!r}: no protocol before '://'")
    protocol, path = fsspec.core.split_protocol(url)
    protocol = canonical_protocol(protocol)
    if protocol in BUCKET_PROTOCOLS:
        bucket, _, key = path.partition("/")
        if not bucket:
            raise TargetError(f"malformed URL {shown!r}: no bucket name after '{url.split('://')[0]}://'")
        if not _BUCKET_NAME.match(bucket):
            raise TargetError(f"malformed URL {shown!r}: {bucket!r} is not a valid bucket name")
        if not key.strip("/"):
            raise TargetError(f"malformed URL {shown!r}: no object path after the bucket")
    elif not path.strip("/"):
        raise TargetError(f"malformed URL {shown!r}: no path")
    return protocol, path


def filesystem_class(protocol: str, url: str) -> type[AbstractFileSystem]:
    try:
        return cast("type[AbstractFileSystem]", fsspec.get_filesystem_class(protocol))
    except ValueError:
        known = ", ".join(
            sorted({canonical_protocol(p) for p in fsspec.available_protocols()} & _WELL_KNOWN_PROTOCOLS)
        )
        raise TargetError(
            f"unknown storage protocol '{protocol}' in {redact(url)!r} (common ones: {known})"
        ) from None
    except ImportError as exc:
        raise TargetError(
            f"protocol '{protocol}' in {redact(url)!r} needs a package that is not installed: {exc}"
        ) from None


def _parse_option(value: str, protocol: str, key: str) -> Any:
    # luigi.cfg values are strings; JSON lets `anon = true` or a dict of client kwargs through typed.
    try:
        return json.loads(value)
    except ValueError as exc:
        if value.lstrip()[:1] in ("{", "[", '"'):
            # Meant as JSON but broken: passing the text on would fail far away, inside the backend.
            raise TargetError(
                f"{config_file_naming(protocol, key)} [{protocol}] {key}: not valid JSON ({exc}): {value!r}"
            ) from None
        return value


def config_file_naming(section: str, key: str) -> str:
    """``luigi.cfg (/path/to/it)``: the file luigi read ``[section] key`` from, for messages."""
    import configparser

    found = "luigi.cfg"
    for path in luigi.configuration.LuigiConfigParser._config_paths:
        if not os.path.isfile(path):
            continue
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue
        if parser.has_option(section, key):
            found = f"luigi.cfg ({path})"  # later files win in luigi, so the last one is the source
    return found


def _luigi_config() -> Any:
    # get_config() parses the environment on every call; with many targets that adds up.
    instance = luigi.configuration.LuigiConfigParser._instance
    return instance if instance is not None else luigi.configuration.get_config()


def configured_options(protocol: str) -> dict[str, Any]:
    """Storage options from the protocol's section of luigi.cfg, e.g. ``[s3] endpoint_url``.

    Read once per configuration object and protocol (kept on the object, so a reloaded
    configuration is read afresh): creating a target must stay cheap.
    """
    config = _luigi_config()
    cache = config.__dict__.setdefault("_dashpipe_storage_options", {})
    if protocol not in cache:
        cache[protocol] = _read_configured_options(config, protocol)
    return dict(cache[protocol])


def _read_configured_options(config: Any, protocol: str) -> dict[str, Any]:
    if not config.has_section(protocol):
        return {}
    options: dict[str, Any] = {}
    for key in config.options(protocol):
        try:
            raw = config.get(protocol, key)
        except Exception as exc:  # luigi raises its own interpolation errors for unset ${ENV} names
            raise TargetError(f"luigi.cfg [{protocol}] {key}: {exc}") from None
        options[key] = _parse_option(raw, protocol, key)
    if protocol == "s3":
        options = {_LUIGI_S3_KEYS.get(key, key): value for key, value in options.items()}
        if "region_name" in options:
            client_kwargs = dict(options.get("client_kwargs") or {})
            client_kwargs.setdefault("region_name", options.pop("region_name"))
            options["client_kwargs"] = client_kwargs
    return options


_PLAIN_ABSOLUTE_PATH = re.compile(r"^/(?!.*(//|/\./|/\.\./|/\.?\.?$))[^\x00\s:][^\x00]*[^/\s]$")


def normalise_local_url(url: str) -> str:
    """``url`` with ``.``, ``..`` and repeated slashes folded away, as ninja does, keeping a trailing '/'.

    ``build/tmp/../out.txt`` and ``build/out.txt`` are one output: its records, messages and
    fingerprint keys must agree. Only local paths: on object stores ``..`` is a literal part of
    a key. Symbolic links are not followed, so this may differ from what the kernel resolves
    (``link/..``), as in ninja and make.
    """
    scheme, separator, path = url.partition("://") if "://" in url else ("", "", url)
    folded = posixpath.normpath(path)
    if folded.startswith("//"):
        folded = "/" + folded.lstrip("/")  # POSIX keeps a leading '//'; on Linux it is '/'
    if path.endswith("/") and not folded.endswith("/"):
        folded += "/"  # a trailing slash says "directory": the caller decides whether that is allowed
    return f"{scheme}{separator}{folded}"


def resolve(url: object, storage_options: Mapping[str, Any] | None = None) -> Location:
    """Validate ``url`` and return its :class:`Location`; no request is made yet."""
    if isinstance(url, str) and not storage_options and _PLAIN_ABSOLUTE_PATH.match(url) and ":" not in url:
        # The common case, made cheap: thousands of local outputs are checked in one status.
        return Location(url, "file", LocalFileSystem, configured_options("file"), path=url)
    protocol, _ = split_url(url)
    # split_url has rejected anything but a str or a str path.
    text: str = os.fspath(cast("str | os.PathLike[str]", url))
    if protocol == "file":
        text = normalise_local_url(text)
    fs_class = filesystem_class(protocol, text)
    try:
        # Host, port, user and password written in the URL itself (sftp://user@host/...).
        from_url = fs_class._get_kwargs_from_urls(text)
    except Exception as exc:
        raise TargetError(f"malformed URL {redact(text)!r}: {exc}") from None
    options = {**from_url, **configured_options(protocol), **(storage_options or {})}
    return Location(text, protocol, fs_class, options)


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
def storage_errors(url: str, action: str, dest: str | None = None) -> Iterator[None]:
    """Re-raise backend failures as :class:`StorageError`: ``cannot ACTION URL [to DEST]: why``.

    A missing file to check, read or remove stays a ``FileNotFoundError``
    (callers rely on that type) but is re-raised with the URL, which backends
    often omit. luigi's own
    filesystem exceptions pass through unchanged.
    """
    what = f"{action} {redact(url)}" + (f" to {redact(dest)}" if dest else "")
    try:
        yield
    except (DashPipelineError, FileExistsError, luigi.target.FileSystemException):
        raise
    except FileNotFoundError as exc:
        if action == "write" or dest:
            # Either end may be the missing one: say which operation, with both.
            raise StorageError(f"cannot {what}: {exc.strerror or 'not found'}") from exc
        raise FileNotFoundError(errno.ENOENT, f"cannot {action}: not found", redact(url)) from exc
    except PermissionError as exc:
        raise StorageError(f"cannot {what}: permission denied") from exc
    except OSError as exc:
        reason = exc.strerror or _explain(exc)
        if isinstance(exc, ConnectionError) or not exc.strerror:
            reason = _explain(exc)
        raise StorageError(f"cannot {what}: {reason}") from exc
    except Exception as exc:
        raise StorageError(f"cannot {what}: {_explain(exc)}") from exc
