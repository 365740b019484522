"""What luigid says is running now, asked sparingly.

Opening luigi's own visualiser can stall its workers (luigi #2277): each tab polls the whole
graph. Here one watcher per dashboard asks luigid's JSON API only for the running tasks
(``task_list`` filtered by status, never ``graph``), with a short timeout, at most once every
``every`` seconds however many tabs are open; the answer in between is the last one.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from targets.storage import redact, redact_text


@dataclass(frozen=True)
class RunningAtScheduler:
    task_id: str
    name: str
    family: str
    workers: list[str]
    started: float | None


class SchedulerWatch:
    def __init__(self, url: str, every: float = 5.0, timeout: float = 2.0) -> None:
        self.url = url.rstrip("/")
        self.every = every
        self.timeout = timeout
        self._lock = threading.Lock()
        self._asked = float("-inf")
        self._running: dict[str, RunningAtScheduler] = {}
        self.problem: str | None = None

    def running(self) -> dict[str, RunningAtScheduler]:
        with self._lock:
            if time.monotonic() - self._asked >= self.every:
                self._asked = time.monotonic()
                self._ask()
            return dict(self._running)

    def _ask(self) -> None:
        query = urllib.parse.urlencode({"data": json.dumps({"status": "RUNNING", "upstream_status": ""})})
        try:
            with urllib.request.urlopen(f"{self.url}/api/task_list?{query}", timeout=self.timeout) as answer:
                tasks = json.load(answer).get("response") or {}
        except (OSError, ValueError, urllib.error.URLError) as exc:
            self.problem = f"scheduler {redact(self.url)} did not answer: {redact_text(str(exc))}"
            return
        self.problem = None
        if "num_tasks" in tasks:  # luigid's way of saying "more than max_shown_tasks"
            self.problem = f"scheduler {redact(self.url)} runs {tasks['num_tasks']} tasks: too many to list"
            return
        self._running = {task_id: _running(task_id, task) for task_id, task in tasks.items()}


def _running(task_id: str, task: dict[str, Any]) -> RunningAtScheduler:
    worker = task.get("worker_running")
    return RunningAtScheduler(
        task_id=task_id,
        name=redact_text(str(task.get("display_name") or task_id)),
        family=str(task.get("name") or ""),
        workers=[str(worker)] if worker else [str(each) for each in task.get("workers") or []],
        started=task.get("time_running") or task.get("start_time"),
    )
