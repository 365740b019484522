"""Retries with backoff and timeouts for any task, on the embedded and the central scheduler.

luigi retries a failed task only in keep-alive mode, through the scheduler, after its
``retry_delay``; a one-shot nightly run would just stop. dash-pipeline retries within the
worker that runs the task instead, so the same settings work on either scheduler. A task
(Python or YAML) sets them as class attributes:

- ``retries``: extra attempts after a failure (default 0);
- ``retry_delay``: seconds before the first retry (default 5);
- ``retry_backoff``: factor applied to the delay after each retry (default 2);
- ``timeout``: seconds the whole task may take, all attempts included; luigi's
  ``worker_timeout`` is honoured too. A task with a timeout runs in its own process so
  that it can be stopped, together with any commands it started.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import luigi

from pipelines.common import hooks
from pipelines.common.describe import describe
from pipelines.common.task_attributes import check_task_attributes
from pipelines.execute.errors import RetriesExhausted

logger = logging.getLogger("dashpipe")

# Told of every retry in this process, as (task, attempt, attempts, error, wait): the run journal.
RetryListener = Callable[[luigi.Task, int, int, BaseException, float], None]
_listeners: list[RetryListener] = []


def add_listener(listener: RetryListener) -> None:
    _listeners.append(listener)


def remove_listener(listener: RetryListener) -> None:
    with contextlib.suppress(ValueError):
        _listeners.remove(listener)


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 0
    delay: float = 5.0
    backoff: float = 2.0

    @classmethod
    def of(cls, task: luigi.Task) -> RetryPolicy:
        check_task_attributes(type(task))
        return cls(
            retries=max(0, int(getattr(task, "retries", 0) or 0)),
            delay=max(0.0, float(getattr(task, "retry_delay", 5.0))),
            backoff=max(1.0, float(getattr(task, "retry_backoff", 2.0))),
        )

    def delays(self) -> list[float]:
        """The wait before each retry, in order."""
        return [self.delay * self.backoff**attempt for attempt in range(self.retries)]


def timeout_of(task: luigi.Task) -> float | None:
    """Seconds the task may run, or None for no limit."""
    check_task_attributes(type(task))
    seconds = getattr(task, "timeout", None) or task.worker_timeout
    return float(seconds) if seconds else None


def readable_process_failure(task: luigi.Task, explanation: str) -> str:
    """luigi's message about a task process it stopped on its timeout or found dead, naming the task
    as every other message does: luigi says ``Task nightly.hang_2026_11_25_084e9678c1 timed out
    after 900.0 seconds and was terminated.``, a name nobody can read back to a step and a date."""
    internal = f"Task {task.task_id} "
    if not explanation.startswith(internal):
        return explanation
    return f"{describe(task)} {explanation.removeprefix(internal)}"


def retrying(task: luigi.Task) -> None:
    """Wrap ``task.run`` so that a failure is retried as the task's policy says.

    Before each retry the task's ``on_retry(attempt, exception)`` method, if it has one, is
    called; a hook that fails is logged and the retry goes ahead.
    """
    policy = RetryPolicy.of(task)
    run = task.run
    if policy.retries == 0 or inspect.isgeneratorfunction(run) or getattr(run, "_dashpipe_retrying", False):
        # A run() that yields dynamic dependencies is resumed by luigi, not called again; and
        # a task luigi runs a second time in this process keeps the wrapper it already has.
        return

    @functools.wraps(run)
    def run_with_retries(*args, **kwargs):
        delays = policy.delays()
        attempts = len(delays) + 1
        for attempt in range(1, attempts + 1):
            try:
                return run(*args, **kwargs)
            except Exception as exc:
                if attempt == attempts:
                    raise RetriesExhausted(f"failed after {attempts} attempts; last error: {exc}") from exc
                wait = delays[attempt - 1]
                logger.warning(
                    "%s: attempt %d of %d failed (%s); retrying in %gs",
                    describe(task),
                    attempt,
                    attempts,
                    exc,
                    wait,
                )
                for listener in list(_listeners):
                    listener(task, attempt, attempts, exc, wait)
                _call_retry_hook(task, attempt, exc)
                time.sleep(wait)

    run_with_retries._dashpipe_retrying = True  # type: ignore[attr-defined]
    # Replaces run() on this instance on purpose: luigi's worker calls task.run().
    task.run = run_with_retries  # type: ignore[method-assign]


def _call_retry_hook(task: luigi.Task, attempt: int, error: Exception) -> None:
    """The task's own ``on_retry``, then the run's from luigi.cfg ``[hooks]``."""
    hook: Callable[[int, Exception], object] | None = getattr(task, "on_retry", None)
    if hook is not None:
        try:
            hook(attempt, error)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            logger.warning(
                "%s: on_retry hook failed (%s: %s); retrying anyway", describe(task), type(exc).__name__, exc
            )
    hooks.call_step_hooks(
        hooks.configured("on_retry"),
        "on_retry",
        task,
        task.get_task_family(),
        lambda: (task.input(), task.output()),
        error=error,
        attempt=attempt,
    )


def guarding_hooks(task: luigi.Task) -> None:
    """Make the task's own ``on_success``/``on_failure`` safe: a hook that raises is logged.

    In plain luigi an ``on_success`` that raises turns a finished task into a failed one, and
    an ``on_failure`` that raises loses the task's own error.
    """
    for name in ("on_success", "on_failure"):
        hook = getattr(task, name)
        if getattr(type(task), name) is getattr(luigi.Task, name) or getattr(
            hook, "_dashpipe_guarded", False
        ):
            continue
        setattr(task, name, _guarded(task, name, hook))


def _guarded(task: luigi.Task, name: str, hook: Callable):
    @functools.wraps(hook)
    def call(*args):
        try:
            return hook(*args)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit too: luigi would turn it into a failure
            logger.warning(
                "%s: %s hook failed (%s: %s); ignored", describe(task), name, type(exc).__name__, exc
            )
            if name == "on_failure":  # the task's own error, as luigi reports it without a hook
                return "Runtime error:\n" + "".join(traceback.format_exception(args[0]))
            return None

    call._dashpipe_guarded = True  # type: ignore[attr-defined]
    return call
