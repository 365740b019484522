"""``dashpipe scheduler``: luigi's central scheduler (luigid), with dashpipe's faster scheduler inside.

luigid deduplicates tasks across processes and machines, shows them in its
visualizer and records task history. It has no authentication: it binds to
loopback unless told otherwise (see the README for putting it behind an
authenticating proxy).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from pipelines.cli.history_location import configured_history_url, history_url, leave_note

# luigid ignores a task marked PENDING within this many seconds of it being DONE
# ("stable done cooldown"): a forced or stale rebuild right after a build would be
# swallowed. dash-pipeline decides what is done itself, so the cooldown is off.
SCHEDULER_CONFIG = """\
# Written by dashpipe scheduler; your luigi.cfg (or LUIGI_CONFIG_PATH) is read after it and wins.
[scheduler]
state_path = {state}
stable_done_cooldown_secs = 0
record_task_history = true
# Prometheus counters and gauges of tasks on /metrics.
metrics_collector = prometheus

[task_history]
db_connection = {history}
"""


def luigid_command(host: str, port: int, state_dir: Path) -> tuple[list[str], dict[str, str], Path]:
    """The command line, environment and working directory of luigid's server, with dashpipe's
    scheduler (:mod:`pipelines.execute.central_scheduler`), for a scheduler in ``state_dir``."""
    state_dir = state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    state = state_dir / "state.pickle"
    # luigid reads luigi.cfg from its working directory first, then LUIGI_CONFIG_PATH.
    (state_dir / "luigi.cfg").write_text(SCHEDULER_CONFIG.format(state=state, history=history_url(state_dir)))
    environment = dict(os.environ)
    if "LUIGI_CONFIG_PATH" not in environment and Path("luigi.cfg").exists():
        environment["LUIGI_CONFIG_PATH"] = str(Path("luigi.cfg").resolve())
    source = Path(__file__).resolve().parents[2]
    if source == Path.cwd().resolve():  # dash-pipeline imported from here, not installed: so it stays
        paths = [str(source), environment.get("PYTHONPATH", "")]
        environment["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
    argv = [sys.executable, "-m", "pipelines.execute.central_scheduler"]
    argv += ["--address", host, "--port", str(port), "--state-path", str(state)]
    return argv, environment, state_dir


def scheduler_url(host: str, port: int) -> str:
    """The URL to open, and to give runs as ``--scheduler``, for luigid listening on ``host``."""
    if host in ("", "0.0.0.0", "::"):  # every interface: other machines know it by its name
        host = socket.getfqdn()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def serve(host: str, port: int, state_dir: Path) -> None:
    """Replace this process with the scheduler, in the foreground (use a service manager to keep it up)."""
    argv, environment, workdir = luigid_command(host, port, state_dir)
    url = scheduler_url(host, port)
    # The user's luigi.cfg, read here as luigid will read it, wins over the one written for luigid.
    history = configured_history_url() or history_url(workdir)
    try:
        # A database URL with a password is not written down: `history` reads it from luigi.cfg.
        if _redacted(history) == history:
            leave_note(url, workdir, history)
    except OSError as exc:  # the scheduler works without it; only `history` has to be told where
        print(f"dashpipe scheduler: warning: cannot note where the history is: {exc}", file=sys.stderr)
    print(f"dashpipe scheduler: {url} (open it, or run with --scheduler {url})", flush=True)
    print(f"dashpipe scheduler: state in {workdir}, task history in {_redacted(history)}", flush=True)
    os.chdir(workdir)
    os.execve(argv[0], argv, environment)


def _redacted(url: str) -> str:
    from targets.storage import redact

    return redact(url)
