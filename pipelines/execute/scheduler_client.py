"""Talking to a central scheduler (luigid) beyond what luigi's worker says: whether it answers at
all, and what it holds done."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable

import luigi
import luigi.rpc

from pipelines.execute.errors import SchedulerError

_UNREACHABLE_REASONS = (
    ("refused", "connection refused"),
    ("timed out", "no answer within the connect timeout"),
    ("timeout", "no answer within the connect timeout"),
    ("Name or service not known", "unknown host"),
    ("nodename nor servname", "unknown host"),
)


def check_scheduler(url: str) -> None:
    """Ask the scheduler one cheap question, once, before anything is sent to it.

    luigi would retry a scheduler that does not answer three times, 30 s apart, for every
    request; a run pointed at the wrong port should say so at once. The wait is luigi's own
    ``[core] rpc-connect-timeout`` (10 s by default).
    """
    problem = _url_problem(url)
    if problem:
        raise SchedulerError(f"scheduler {url!r}: {problem}")
    remote = _one_attempt(url)
    try:
        remote._request("/api/fetch_error", {"task_id": "dashpipe-connection-check"}, attempts=1)
    except luigi.rpc.RPCError as exc:
        cause = str(getattr(exc, "sub_exception", "") or exc)
        reason = next((text for needle, text in _UNREACHABLE_REASONS if needle in cause), cause)
        raise SchedulerError(
            f"scheduler {url} did not answer: {reason} (is luigid running there? `dashpipe scheduler` "
            "starts one)"
        ) from None
    except (ValueError, KeyError, TypeError):  # answered, but not as luigid answers
        raise SchedulerError(f"scheduler {url} answered, but not as luigi's scheduler does") from None
    finally:
        remote.close()


def _url_problem(url: str) -> str | None:
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "expected http://HOST:PORT (luigid listens on 8082 by default)"
    return None


def _one_attempt(url: str) -> luigi.rpc.RemoteScheduler:
    remote = luigi.rpc.RemoteScheduler(url)
    remote._rpc_retry_attempts = 1
    remote._rpc_log_retries = False
    return remote


def done_at_scheduler(url: str, tasks: Iterable[luigi.Task], most_families: int = 20) -> dict[str, str]:
    """Of ``tasks``, those the scheduler lists as done, with the host that finished them; empty when
    it cannot tell (too many tasks to list, or no answer)."""
    wanted = {task.task_id: task for task in tasks}
    families = sorted({task.get_task_family() for task in wanted.values()})[:most_families]
    remote = _one_attempt(url)
    found: dict[str, str] = {}
    try:
        for family in families:
            listed = remote._request(
                "/api/task_list", {"status": "DONE", "upstream_status": "", "search": family}, attempts=1
            )
            for task_id, info in (listed or {}).items():
                if task_id in wanted and isinstance(info, dict):
                    worker = str(info.get("worker_running") or next(iter(info.get("workers") or []), ""))
                    host = worker.partition("host=")[2].partition(",")[0]
                    found[task_id] = host or "another worker"
    except (luigi.rpc.RPCError, ValueError, KeyError, TypeError, AttributeError):
        pass  # an explanation is a nicety: the run's outcome stands without it
    finally:
        remote.close()
    return found


def configured_scheduler_url() -> str | None:
    """``[core] default-scheduler-url`` from luigi.cfg: runs use that central scheduler by default."""
    import luigi.configuration

    config = luigi.configuration.get_config()
    for key in ("default-scheduler-url", "default_scheduler_url"):
        if config.has_option("core", key):
            return config.get("core", key) or None
    return None
