"""Talking to a central scheduler (luigid) beyond what luigi's worker says: whether it answers at
all, whether it is dashpipe's (and takes calls in batches), and what it holds done or failed."""

from __future__ import annotations

import base64
import collections
import dataclasses
import http.client
import os
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import luigi
import luigi.rpc
from luigi.scheduler import DONE, FAILED

from pipelines.execute.errors import SchedulerError

_UNREACHABLE_REASONS = (
    ("refused", "connection refused"),
    ("timed out", "no answer within the connect timeout"),
    ("timeout", "no answer within the connect timeout"),
    ("Name or service not known", "unknown host"),
    ("nodename nor servname", "unknown host"),
)


def check_scheduler(url: str) -> bool:
    """Ask the scheduler one cheap question, once, before anything is sent to it; then whether
    it takes calls in batches (``dashpipe scheduler`` does, luigi's ``luigid`` does not).

    luigi would retry a scheduler that does not answer three times, 30 s apart, for every
    request; a run pointed at the wrong port should say so at once. The wait is luigi's own
    ``[core] rpc-connect-timeout`` (10 s by default).
    """
    problem = _url_problem(url)
    if problem:
        raise SchedulerError(f"scheduler {url!r}: {problem}")
    remote = _one_attempt(url)
    try:
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
        try:
            remote._request(f"/api/{BATCH_RPC}", {"calls": []}, attempts=1)
        except (luigi.rpc.RPCError, ValueError, KeyError, TypeError):
            return False  # luigi's own luigid: it has no such call
        return True
    finally:
        remote.close()


# The RPCs of pipelines.execute.central_scheduler that take held add_task calls.
BATCH_RPC = "add_tasks"
BATCH_AND_GET_WORK_RPC = "add_tasks_and_get_work"
# Held calls are sent at least this often during scheduling, so that other runs see the tasks.
MOST_HELD = 500
RELEASE_RPC = "release_tasks"
# A worker asks for as many tasks at once as it runs in this long (at least one): a worker
# whose tasks take a millisecond otherwise spends most of its time asking for the next.
PREFETCH_SPAN_S = 0.05
MOST_PREFETCHED = 64


class _Pace:
    """How often the worker asks for work, smoothed: how many tasks fill PREFETCH_SPAN_S. Where
    asking for more found none ready (a chain: each task waits for the one before), it asks for
    one at a time for a while, since looking costs the scheduler a second search."""

    PAUSE_AFTER_NONE = 16

    def __init__(self) -> None:
        self._last: float | None = None
        self._interval: float | None = None
        self._single = 0  # requests still to make for one task only

    def tick(self) -> None:
        """The worker asks for work (served from what it was handed or not)."""
        now = time.monotonic()
        if self._last is not None:
            gap = now - self._last
            self._interval = gap if self._interval is None else 0.8 * self._interval + 0.2 * gap
        self._last = now

    def ask(self) -> int:
        """How many tasks to ask the scheduler for now."""
        if self._single:
            self._single -= 1
            return 1
        if self._interval is None:
            return 1
        return max(1, min(MOST_PREFETCHED, int(PREFETCH_SPAN_S / max(self._interval, 1e-4))))

    def answered(self, most: int, prefetched: int) -> None:
        if most > 1 and not prefetched:
            self._single = self.PAUSE_AFTER_NONE


class BatchingScheduler(luigi.rpc.RemoteScheduler):
    """luigi's client of a central scheduler, for ``dashpipe scheduler``: ``add_task`` calls are
    held and sent, in order and in one request, with the next request of any kind (``get_work``
    carries them in the same round trip). A worker schedules N tasks in N/500 requests instead
    of N, and reports a task done in the request that asks for the next one.

    Only the process that made it holds calls: a task process forked from the worker sends its
    own (a tracking URL, say) at once, and never the calls its parent held when it forked.
    """

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        if _KeptAliveFetcher.serves(self._url):
            self._fetcher = _KeptAliveFetcher()
        self._owner = os.getpid()
        self._held: list[dict[str, Any]] = []
        self._holding = threading.RLock()  # the keep-alive thread's pings send held calls too
        self._prefetched: collections.deque[dict[str, Any]] = collections.deque()
        self._pace = _Pace()

    def add_task(self, *args: Any, **kwargs: Any) -> None:
        if args or os.getpid() != self._owner:
            return super().add_task(*args, **kwargs)  # type: ignore[misc]  # luigi adds RPCs at import
        with self._holding:
            self._held.append(kwargs)
            if len(self._held) >= MOST_HELD:
                self.flush()
        return None

    def get_work(self, **kwargs: Any) -> Any:
        if os.getpid() != self._owner:
            return super().get_work(**kwargs)  # type: ignore[misc]
        with self._holding:
            self._pace.tick()
            if self._prefetched:
                return self._prefetched.popleft()
            most = self._pace.ask()
            data = {"calls": self._take_held(), "get_work": kwargs, "most": most}
            answer = super()._request(f"/api/{BATCH_AND_GET_WORK_RPC}", data, allow_null=False)
            prefetched = answer.pop("prefetched", None) or ()
            self._prefetched.extend(prefetched)
            self._pace.answered(most, len(prefetched))
            return answer

    def release_prefetched(self, worker: str) -> None:
        """Hand back the tasks given in advance that this worker will not run now."""
        if os.getpid() != self._owner:
            return
        with self._holding:
            unstarted = [answer["task_id"] for answer in self._prefetched]
            self._prefetched.clear()
            if unstarted:
                super()._request(f"/api/{RELEASE_RPC}", {"worker": worker, "task_ids": unstarted})

    def flush(self) -> None:
        """Send the held calls now."""
        if os.getpid() != self._owner:
            return
        with self._holding:
            held = self._take_held()
            if held:
                super()._request(f"/api/{BATCH_RPC}", {"calls": held})

    def _take_held(self) -> list[dict[str, Any]]:
        held, self._held = self._held, []
        return held

    def _request(self, url: str, data: Any, attempts: int = 3, allow_null: bool = True) -> Any:
        self.flush()  # whatever is asked next must see the calls made before it
        return super()._request(url, data, attempts=attempts, allow_null=allow_null)

    def _fetch(self, url_suffix: str, body: Any) -> str:
        # luigi builds a tenacity retrier for every call, which costs as much as the call; here
        # only once the first attempt failed (then with luigi's attempts and waits).
        try:
            return self._fetcher.fetch(luigi.rpc._urljoin(self._url, url_suffix), body, self._connect_timeout)
        except self._fetcher.raises:
            return super()._fetch(url_suffix, body)


class _KeptAliveFetcher:
    """luigi's fetcher interface over one kept-alive ``http.client`` connection per process.

    luigi's fetcher goes through requests: 1.3 ms of client time per call, where the round
    trip to a scheduler on the same machine takes 0.6 ms, and a worker makes one call per task.
    Used where requests adds nothing: no proxy configured for the scheduler's host. Credentials
    in the URL go as basic authentication, as requests sends them.
    """

    raises = (OSError, http.client.HTTPException)

    @staticmethod
    def serves(url: str) -> bool:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        proxies = urllib.request.getproxies()
        return parts.scheme not in proxies or bool(urllib.request.proxy_bypass(parts.hostname))

    def __init__(self) -> None:
        self._connection: http.client.HTTPConnection | None = None
        self._process = os.getpid()
        self._lock = threading.Lock()  # the keep-alive thread pings on the same connection

    def fetch(self, full_url: str, body: dict[str, str], timeout: float) -> str:
        parts = urllib.parse.urlsplit(full_url)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if parts.username is not None:
            user = urllib.parse.unquote(parts.username)
            secret = urllib.parse.unquote(parts.password or "")
            headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        payload = urllib.parse.urlencode(body)
        with self._lock:
            try:
                status, reason, text = self._post(parts, path, payload, headers, timeout)
            except (OSError, http.client.HTTPException):
                self.close()  # a kept-alive connection the server closed meanwhile: once more, anew
                status, reason, text = self._post(parts, path, payload, headers, timeout)
        if status >= 400:
            raise http.client.HTTPException(f"{status} {reason} for {parts.path}")
        return text

    def _post(
        self,
        parts: urllib.parse.SplitResult,
        path: str,
        payload: str,
        headers: dict[str, str],
        timeout: float,
    ) -> tuple[int, str, str]:
        connection = self._connect(parts, timeout)
        try:
            connection.request("POST", path, payload, headers)
            response = connection.getresponse()
            return response.status, response.reason, response.read().decode("utf-8")
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def _connect(self, parts: urllib.parse.SplitResult, timeout: float) -> http.client.HTTPConnection:
        if os.getpid() != self._process:  # forked: the parent's socket is not ours to use
            self._connection, self._process = None, os.getpid()
        if self._connection is None:
            factory = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            self._connection = factory(parts.hostname or "", parts.port, timeout=timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


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


@dataclass(frozen=True)
class Settled:
    """A task the scheduler holds as done or failed, by another worker."""

    status: str  # DONE or FAILED
    host: str  # of the worker that ran it, or "another worker" when luigid does not say
    error: str = ""  # luigid's explanation of a failure, as the failing worker sent it


def settled_at_scheduler(
    url: str, tasks: Iterable[luigi.Task], most_families: int = 20
) -> dict[str, Settled]:
    """Of ``tasks``, those the scheduler lists as done or failed, and where; empty when it cannot
    tell (too many tasks to list, or no answer)."""
    wanted = {task.task_id: task for task in tasks}
    families = sorted({task.get_task_family() for task in wanted.values()})[:most_families]
    remote = _one_attempt(url)
    found: dict[str, Settled] = {}
    try:
        for status in (DONE, FAILED):
            for family in families:
                listed = remote._request(
                    "/api/task_list", {"status": status, "upstream_status": "", "search": family}, attempts=1
                )
                for task_id, info in (listed or {}).items():
                    if task_id in wanted and isinstance(info, dict):
                        worker = str(info.get("worker_running") or next(iter(info.get("workers") or []), ""))
                        host = worker.partition("host=")[2].partition(",")[0]
                        found[task_id] = Settled(status, host or "another worker")
        failed = [task_id for task_id, settled in found.items() if settled.status == FAILED]
        for task_id in failed[:most_families]:
            answer = remote._request("/api/fetch_error", {"task_id": task_id}, attempts=1)
            error = answer.get("error") if isinstance(answer, dict) else None
            found[task_id] = dataclasses.replace(found[task_id], error=str(error or ""))
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
