"""Fixtures: real S3 (moto_server) and GCS (fake-gcs-server) on loopback, and a
``backend`` fixture that runs a test once per storage backend."""

from __future__ import annotations

import os
import tempfile

# Must be set before gcsfs is imported anywhere: otherwise gcsfs probes for
# hierarchical-namespace buckets and each call against the emulator takes 40-110 s.
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"
# Dummy credentials for the emulators, and no lookups of cloud metadata servers.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["NO_GCE_CHECK"] = "true"  # google-auth compares with lowercase "true"
# Should anything still look for a cloud metadata server, it finds a closed loopback port.
os.environ["GCE_METADATA_HOST"] = "127.0.0.1:9"
os.environ["GCE_METADATA_IP"] = "127.0.0.1:9"
# The local cache of build records read from object stores: one per test session, not the user's.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="dashpipe-test-cache-")
# Where `dashpipe scheduler` notes its history for `dashpipe history`: not the user's own note.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="dashpipe-test-state-")

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fsspec
import pytest

from targets import FileTarget
from tests.servers import Server, start_fake_gcs, start_http_api, start_luigid, start_mariadb, start_moto

BACKENDS = ["local", "memory", "s3", "gcs"]


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-logs")


@pytest.fixture(scope="session")
def s3_server(server_logs: Path) -> Iterator[Server]:
    server = start_moto(server_logs)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mysql_server(server_logs: Path) -> Iterator[Server]:
    """A throwaway MariaDB, or your own server: DASHPIPE_TEST_MYSQL_URL=mysql://user@host:port/db
    with its password in MYSQL_PWD (the database is used for test tables and dropped objects)."""
    own = os.environ.get("DASHPIPE_TEST_MYSQL_URL")
    if own:
        yield Server(
            "mysql",
            own.rstrip("/"),
            None,
            server_logs / "none",  # type: ignore[arg-type]
            {"password": os.environ.get("MYSQL_PWD", "")},
        )
        return
    server = start_mariadb(server_logs)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def luigid_server(server_logs: Path) -> Iterator[Server]:
    server = start_luigid(server_logs)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gcs_server(server_logs: Path) -> Iterator[Server]:
    server = start_fake_gcs(server_logs)
    yield server
    server.stop()


@pytest.fixture
def http_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, Path]]:
    """A real HTTP server (tests/http_api_server.py) and the directory it serves; HTTP reads are
    cached in this test's own cache directory."""
    root = tmp_path / "served"
    root.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    server = start_http_api(tmp_path, root)
    yield server, root
    server.stop()


@dataclass
class Backend:
    """One storage backend, with a fresh, empty root for the current test."""

    name: str
    root: str
    options: dict[str, Any] = field(default_factory=dict)
    # luigi.cfg sections that point a separate process (the CLI) at the same server.
    config: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def url(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts])

    def target(self, *parts: str, **kwargs: Any) -> FileTarget:
        return FileTarget(self.url(*parts), **{**self.options, **kwargs})

    def fs(self) -> fsspec.AbstractFileSystem:
        """A separate filesystem instance, as another process would have."""
        if "://" not in self.root:
            return fsspec.filesystem("file", skip_instance_cache=True, auto_mkdir=True)
        return fsspec.filesystem(self.root.split("://")[0], skip_instance_cache=True, **self.options)


def s3_backend(server: Server) -> Backend:
    options = {"endpoint_url": server.url}
    bucket = f"t-{uuid.uuid4().hex[:12]}"
    fsspec.filesystem("s3", **options).mkdir(bucket)
    return Backend("s3", f"s3://{bucket}/data", options, config=f"[s3]\nendpoint_url = {server.url}\n")


def gcs_backend(server: Server) -> Backend:
    options = {"endpoint_url": server.url, "token": "anon", "project": "test"}
    bucket = f"t-{uuid.uuid4().hex[:12]}"
    fsspec.filesystem("gcs", **options).mkdir(bucket)
    config = f"[gcs]\nendpoint_url = {server.url}\ntoken = anon\nproject = test\n"
    return Backend(
        "gcs",
        f"gs://{bucket}/data",
        options,
        config=config,
        env={"GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"},
    )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return make_backend(request.param, request, tmp_path)


def make_backend(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if name == "local":
        return Backend("local", str(tmp_path / "data"))
    if name == "memory":
        return Backend("memory", f"memory://t-{uuid.uuid4().hex[:12]}/data")
    if name == "s3":
        return s3_backend(request.getfixturevalue("s3_server"))
    if name == "gcs":
        return gcs_backend(request.getfixturevalue("gcs_server"))
    raise ValueError(name)
