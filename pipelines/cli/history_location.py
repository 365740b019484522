"""Where the central scheduler's task history is, wherever `dashpipe scheduler` was started.

luigid does not tell its clients where it keeps its history, so `dashpipe scheduler`
leaves a note in a per-user place (``$XDG_STATE_HOME/dashpipe/scheduler.json``) that
`dashpipe history` reads. A scheduler on another machine keeps its history where its
luigi.cfg says (``[task_history] db_connection``, a database both can reach), or is
named with ``--db``.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_STATE_DIR = Path(".dashpipe/scheduler")


@dataclass(frozen=True)
class HistoryDb:
    """A task history database, and how it was found (for messages when it cannot be read)."""

    url: str
    origin: str


def history_url(state_dir: Path) -> str:
    """The SQLite database `dashpipe scheduler` keeps in ``state_dir``."""
    return f"sqlite:///{(state_dir / 'history.db').resolve()}"


def configured_history_url() -> str | None:
    """``[task_history] db_connection`` from luigi.cfg, the same setting luigid reads."""
    import luigi.configuration

    config = luigi.configuration.get_config()
    if config.has_option("task_history", "db_connection"):
        return config.get("task_history", "db_connection") or None
    return None


def note_path() -> Path:
    """The per-user note of the last scheduler started (XDG's state directory)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "dashpipe" / "scheduler.json"


def leave_note(url: str, state_dir: Path, history: str) -> None:
    """Record where the scheduler at ``url`` keeps its state and history, for `dashpipe history`."""
    path = note_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    note = {"url": url, "state_dir": str(state_dir.resolve()), "history": history}
    # Replaced whole: a `dashpipe history` reading it meanwhile sees the old note or the new one.
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as file:
        json.dump(note, file, indent=2)
    os.replace(file.name, path)


def noted_history() -> HistoryDb | None:
    """The history of the last scheduler this user started, if a readable note says where it is."""
    path = note_path()
    try:
        note = json.loads(path.read_text())
        return HistoryDb(note["history"], f"where the scheduler at {note['url']} keeps it, noted in {path}")
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no scheduler started yet, or a note from elsewhere: fall back to the default


def find_history(db_url: str | None = None, state_dir: Path | None = None) -> HistoryDb:
    """``--db``, else ``--state-dir``, else luigi.cfg, else the scheduler's note, else the default."""
    if db_url:
        return HistoryDb(db_url, "given with --db")
    if state_dir is not None:
        return HistoryDb(history_url(state_dir), f"the history of --state-dir {state_dir}")
    configured = configured_history_url()
    if configured:
        return HistoryDb(configured, "[task_history] db_connection in luigi.cfg")
    return noted_history() or HistoryDb(
        history_url(DEFAULT_STATE_DIR), f"the default --state-dir {DEFAULT_STATE_DIR}"
    )
