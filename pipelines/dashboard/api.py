"""The dashboard's data as JSON, for scripts: read-only GETs beside the pages.

- ``/api/status``: every task with its state, verdict and root cause (``?all=0``: only those
  not up to date), and the counts;
- ``/api/tasks/TASK_ID``: what the task panel shows;
- ``/api/runs``: every run kept, newest first; ``/api/runs/RUN``: one run with its tasks;
- ``/api/live``: the runs in progress and what luigid is running;
- ``/api/estimate?workers=N``: what a rebuild of the stale tasks would take.
"""

from __future__ import annotations

from typing import Any

import flask

from pipelines.dashboard.monitor import Monitor, iso_time
from pipelines.dashboard.task_states import counts
from pipelines.execute.run_history import Run


def run_summary(run: Run) -> dict[str, Any]:
    return {
        "id": run.run_id,
        "state": run.state,
        "command": run.command,
        "goals": run.goals,
        "host": run.host,
        "user": run.user,
        "workers": run.workers,
        "scheduler": run.scheduler,
        "started": iso_time(run.began),
        "ended": iso_time(run.ended),
        "seconds": round(run.seconds, 3),
        "exit_code": run.exit_code,
        "progress": run.progress(),
    }


def run_json(run: Run) -> dict[str, Any]:
    return {
        **run_summary(run),
        "tasks": [
            {
                "id": task.task_id,
                "name": task.name,
                "family": task.family,
                "lane": task.lane,
                "started": iso_time(task.started),
                "finished": iso_time(task.finished),
                "seconds": None if task.seconds is None else round(task.seconds, 3),
                "outcome": task.outcome,
                "error": task.error,
                "retries": task.retries,
                "critical": task.critical,
            }
            for task in sorted(run.tasks.values(), key=lambda each: each.started or 0.0)
        ],
        "not_run": run.not_run,
        "elsewhere": run.elsewhere,
        "phases": run.phases,
    }


def register_api(server: flask.Flask, monitor: Monitor) -> None:
    @server.get("/api/status")
    def status() -> Any:
        snapshot = monitor.snapshot()
        include_all = flask.request.args.get("all", "1") != "0"
        return flask.jsonify(
            {
                "checked": iso_time(snapshot.checked),
                "counts": counts(snapshot.shown),
                "verdicts": dict(snapshot.assessment.counts()),
                "tasks": monitor.status_rows(snapshot, include_all=include_all),
                "problems": snapshot.problems,
            }
        )

    @server.get("/api/tasks/<path:task_id>")
    def task(task_id: str) -> Any:
        detail = monitor.task_detail(monitor.snapshot(), task_id)
        if detail is None:
            return flask.jsonify({"error": f"no task {task_id} in this pipeline"}), 404
        return flask.jsonify(detail)

    @server.get("/api/runs")
    def runs() -> Any:
        return flask.jsonify({"runs": [run_summary(run) for run in monitor.runs()]})

    @server.get("/api/runs/<run_id>")
    def run(run_id: str) -> Any:
        found = monitor.run_detail(run_id)
        if found is None:
            return flask.jsonify({"error": f"no run {run_id}"}), 404
        return flask.jsonify(run_json(found))

    @server.get("/api/live")
    def live() -> Any:
        running = [run for run in monitor.runs() if run.state == "running"]
        at_scheduler = monitor.scheduler.running() if monitor.scheduler else {}
        return flask.jsonify(
            {
                "runs": [run_summary(run) for run in running],
                "scheduler": [
                    {"id": each.task_id, "name": each.name, "workers": each.workers}
                    for each in at_scheduler.values()
                ],
            }
        )

    @server.get("/api/estimate")
    def estimate() -> Any:
        workers = max(1, flask.request.args.get("workers", 1, type=int) or 1)
        found = monitor.estimate(monitor.snapshot(), workers)
        return flask.jsonify({"estimate": found.as_dict() if found else None})
