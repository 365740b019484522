"""Each task's log in its own file: what it logged and printed while it ran, and how it failed.

Files go to ``[dashpipe] task_logs`` (a local directory or any fsspec URL; default
``.dashpipe/logs`` in the working directory), one directory per run id. A file is
created only when the task writes something, so thousands of quiet tasks cost no files.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import secrets
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from typing import TextIO

import fsspec
import luigi
import luigi.configuration

from pipelines.common.error_text import error_location
from targets.errors import DashPipelineError
from targets.storage import redact_text

DEFAULT_DIRECTORY = ".dashpipe/logs"
_FORMAT = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
logger = logging.getLogger("dashpipe")


def new_run_id() -> str:
    """Sortable by start time, unique across machines starting in the same second."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def configured_directory() -> str | None:
    """Where task logs go, or None when ``task_logs = none``."""
    value = luigi.configuration.get_config().get("dashpipe", "task_logs", DEFAULT_DIRECTORY).strip()
    if value.lower() in ("", "none", "off"):
        return None
    # Absolute, so that the path named in the summary works from any directory.
    return value if "://" in value else os.path.abspath(value)


class TaskLogs:
    """The log files of one run."""

    def __init__(self, directory: str, run_id: str) -> None:
        self.directory = directory.rstrip("/")
        self.run_id = run_id
        # Worked out once per run, not per task. A local log is written in place, so that it
        # survives a task stopped by its timeout; a remote one is uploaded when the task ends.
        self.local = fsspec.utils.get_protocol(self.directory) in ("file", "local")
        self._local_run_directory = (
            f"{fsspec.core.url_to_fs(self.directory)[1]}/{run_id}" if self.local else None
        )

    def url(self, task: luigi.Task) -> str:
        return f"{self.directory}/{self.run_id}/{task.task_id}.log"

    def exists(self, task: luigi.Task) -> bool:
        try:
            filesystem, path = fsspec.core.url_to_fs(self.url(task))
            filesystem.invalidate_cache()
            return bool(filesystem.exists(path))
        except (OSError, ValueError, ImportError):
            return False

    @contextlib.contextmanager
    def routing(self) -> Iterator[None]:
        """While the run lasts: what tasks log goes to their files (see :meth:`capture`)."""
        install_router()
        try:
            yield
        finally:
            uninstall_router()

    def capture(self, task: luigi.Task) -> None:
        """Wrap ``task.run`` so that what it logs and prints, and how it failed, go to its file."""
        run = task.run
        if getattr(run, "_dashpipe_logged", False):
            return
        url = self.url(task)
        local = self.local
        final_path = f"{self._local_run_directory}/{task.task_id}.log" if local else None

        @functools.wraps(run)
        def run_logged(*args, **kwargs):
            sink = _LazyFile(final_path)
            try:
                with _captured(sink):
                    return run(*args, **kwargs)
            except Exception as exc:
                sink.write(_failure_text(exc))
                raise
            finally:
                sink.close()
                if not local:
                    _publish(sink, url)

        run_logged._dashpipe_logged = True  # type: ignore[attr-defined]
        # Replaces run() on this instance on purpose: luigi's worker calls task.run().
        task.run = run_logged  # type: ignore[method-assign]


def _failure_text(exc: Exception) -> str:
    """How a failure ends the task's log: the traceback when it leads into the user's code, else the
    one line dash-pipeline's own error says it in (a shell step's exit status after its output):
    a traceback through dash-pipeline would only bury that line."""
    text = traceback.format_exc()
    if _raised_on_purpose(exc) and error_location(text) is None:
        record = logging.LogRecord("dashpipe", logging.ERROR, __file__, 0, str(exc), None, None)
        return _FORMAT.format(record) + "\n"
    return text


def _raised_on_purpose(exc: BaseException | None) -> bool:
    """Whether dash-pipeline raised ``exc``, or the error it wraps (a retried task's last one), to
    say what went wrong; any other error with no user code in its traceback is a bug to trace."""
    while exc is not None:
        if isinstance(exc, DashPipelineError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class _LazyFile(io.TextIOBase):
    """A file opened at the first write: ``path``, or else a local scratch file."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._handle: io.TextIOWrapper | None = None

    def write(self, text: str) -> int:
        text = redact_text(text)  # a URL's password, printed by a task or its command, stays out
        if self._handle is None:
            if self.path is None:
                descriptor, self.path = tempfile.mkstemp(prefix="dashpipe-task-", suffix=".log")
                self._handle = os.fdopen(descriptor, "w", encoding="utf-8")
            else:
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
                self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        written = self._handle.write(text)
        self._handle.flush()
        return written

    @property
    def written(self) -> bool:
        return self._handle is not None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        super().close()


class _ToCurrentTask(logging.Handler):
    """The one handler on the root logger while a run captures task logs: it sends each record
    to the log of the task running in this process, if any. Adding and removing a handler per
    task cleared every logger's level cache twice a task (about 6 % of a small task's cost)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(_FORMAT)
        # Set while a task runs. Not per thread: what a task's own threads log is its log too.
        self.sink: _LazyFile | None = None
        self.console: TextIO | None = None  # stderr as it was outside the task's capture
        self._plain = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        sink = self.sink
        if sink is not None:
            sink.write(self.format(record) + "\n")
        if record.levelno >= logging.WARNING and logging.getLogger().handlers == [self]:
            # With no handler of their own, warnings went to the terminal through logging's
            # last resort, which any handler on the root turns off: keep them there.
            (self.console or sys.stderr).write(self._plain.format(record) + "\n")


_ROUTER = _ToCurrentTask()
_installed = 0  # runs in this process that capture task logs, nested or not
_level_before: int | None = None


def install_router() -> None:
    """Route log records to the running task's file, until as many :func:`uninstall_router`."""
    global _installed, _level_before
    root = logging.getLogger()
    if _installed == 0:
        _level_before = root.level
        root.addHandler(_ROUTER)
        if not root.level or root.level > logging.INFO:
            root.setLevel(logging.INFO)
    _installed += 1


def uninstall_router() -> None:
    global _installed
    _installed = max(0, _installed - 1)
    if _installed == 0 and _level_before is not None:
        root = logging.getLogger()
        root.removeHandler(_ROUTER)
        root.setLevel(_level_before)


@contextlib.contextmanager
def _captured(sink: _LazyFile):
    previous = _ROUTER.sink, _ROUTER.console
    _ROUTER.sink, _ROUTER.console = sink, sys.stderr
    try:
        # Prints still reach the terminal (or wherever the run sends them), and the log too.
        with (
            contextlib.redirect_stdout(_Tee(sink, sys.stdout)),
            contextlib.redirect_stderr(_Tee(sink, sys.stderr)),
        ):
            yield
    finally:
        _ROUTER.sink, _ROUTER.console = previous


class _Tee(io.TextIOBase):
    def __init__(self, *streams: io.TextIOBase | TextIO) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


def _publish(sink: _LazyFile, url: str) -> None:
    if not sink.written or sink.path is None:
        return
    try:
        filesystem, path = fsspec.core.url_to_fs(url)
        filesystem.put_file(sink.path, path)
    except Exception as exc:  # a log that cannot be written must not fail the task
        logger.warning("task log %s not written: %s", url, exc)
    finally:
        os.remove(sink.path)
