"""``dashpipe scheduler``: luigi's central scheduler (luigid), configured for dash-pipeline.

luigid deduplicates tasks across processes and machines and shows them in its
visualizer. It has no authentication: it binds to loopback unless told
otherwise (see the README for putting it behind an authenticating proxy).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from pipelines.errors import PipelineError

# luigid ignores a task marked PENDING within this many seconds of it being DONE
# ("stable done cooldown"): a forced or stale rebuild right after a build would be
# swallowed. dash-pipeline decides what is done itself, so the cooldown is off.
SCHEDULER_SECTION = """
[scheduler]
state_path = {state}
stable_done_cooldown_secs = 0
"""


def configured_scheduler_url() -> str | None:
    """``[core] default-scheduler-url`` from luigi.cfg: runs use that central scheduler by default."""
    import luigi.configuration

    config = luigi.configuration.get_config()
    for key in ("default-scheduler-url", "default_scheduler_url"):
        if config.has_option("core", key):
            return config.get("core", key) or None
    return None


def luigid_command(host: str, port: int, state_dir: Path) -> tuple[list[str], dict[str, str]]:
    """The luigid command line and environment for a scheduler keeping its state in ``state_dir``."""
    luigid = shutil.which("luigid") or str(Path(sys.executable).with_name("luigid"))
    if not os.path.exists(luigid):
        raise PipelineError("luigid not found: is luigi installed in this environment?")
    state_dir.mkdir(parents=True, exist_ok=True)
    config = state_dir / "luigid.cfg"
    state = state_dir / "state.pickle"
    config.write_text(SCHEDULER_SECTION.format(state=state))
    user_config = os.environ.get("LUIGI_CONFIG_PATH")
    environment = {**os.environ, "LUIGI_CONFIG_PATH": str(config)}
    if user_config:  # luigid reads one extra file: ours, which then must not hide the user's
        config.write_text(Path(user_config).read_text() + SCHEDULER_SECTION.format(state=state))
    argv = [luigid, "--address", host, "--port", str(port), "--state-path", str(state)]
    return argv, environment


def serve(host: str, port: int, state_dir: Path) -> None:
    """Replace this process with luigid, in the foreground (use a service manager to keep it up)."""
    argv, environment = luigid_command(host, port, state_dir)
    os.execve(argv[0], argv, environment)
