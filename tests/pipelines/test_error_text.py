"""Turning luigi's failure explanations into one readable line, and naming tasks briefly."""

from __future__ import annotations

import traceback

import luigi
import luigi.worker

import targets.storage
from pipelines.common.describe import describe
from pipelines.common.error_text import error_excerpt, error_line
from pipelines.execute.retry import retrying
from targets import StorageError


def formatted(exc: BaseException) -> str:
    try:
        raise exc
    except BaseException:
        return "Runtime error:\n" + traceback.format_exc()


def test_plain_exception() -> None:
    assert error_line(formatted(ValueError("bad row 7"))) == "ValueError: bad row 7"


def test_multi_line_message_keeps_its_first_line_first() -> None:
    line = error_line(formatted(RuntimeError("insert failed\nDETAIL:  Key (id)=(7) already exists.")))
    assert line == "RuntimeError: insert failed DETAIL:  Key (id)=(7) already exists."


def test_message_that_looks_like_an_exception_line() -> None:
    assert error_line(formatted(ValueError("first line\nSecondLine"))) == "ValueError: first line SecondLine"


def test_project_errors_show_only_their_message() -> None:
    assert (
        error_line(formatted(StorageError("cannot check s3://b/k: denied")))
        == "cannot check s3://b/k: denied"
    )


def test_chained_exceptions_report_the_last() -> None:
    def chained() -> None:
        try:
            {}["missing"]
        except KeyError as exc:
            raise LookupError("no such store") from exc

    try:
        chained()
    except LookupError:
        text = traceback.format_exc()
    assert error_line(text) == "LookupError: no such store"


def test_explanation_without_traceback() -> None:
    assert error_line("Task is an external data dependency and data does not exist (yet?).") == (
        "Task is an external data dependency and data does not exist (yet?)."
    )


class Listing(luigi.Task):
    day = luigi.Parameter()
    stores = luigi.ListParameter(default=["ams"])
    options = luigi.DictParameter(default={"a": 1})
    limit = luigi.IntParameter(default=10)


def test_describe_shows_only_parameters_off_their_default() -> None:
    assert describe(Listing(day="mon")) == "Listing(day=mon)"
    assert (
        describe(Listing(day="mon", limit=3, stores=["ber"])) == 'Listing(day=mon, stores=["ber"], limit=3)'
    )


def test_excerpt_keeps_the_first_lines_and_says_how_many_more() -> None:
    message = "\n".join(f"line {number}" for number in range(1, 10))
    excerpt = error_excerpt(formatted(ValueError(message)), max_lines=4)
    assert excerpt[:4] == ["ValueError: line 1", "line 2", "line 3", "... (6 more lines)"]


def test_excerpt_names_where_the_users_code_raised_even_behind_a_wrapper(tmp_path) -> None:
    # A task's code raises; dash-pipeline's retry wrapper re-raises it as the cause of its own
    # error. The place to look is the task's line, not the wrapper's.
    module = tmp_path / "nightly_steps.py"
    module.write_text("def load():\n    raise ConnectionError('warehouse unreachable')\n")
    namespace: dict = {}
    exec(compile(module.read_text(), str(module), "exec"), namespace)

    task = luigi.Task()
    task.retries, task.retry_delay = 1, 0
    task.run = namespace["load"]
    retrying(task)
    try:
        task.run()
    except Exception:
        text = traceback.format_exc()
    excerpt = error_excerpt(text)
    assert excerpt[0] == "failed after 2 attempts; last error: warehouse unreachable"
    assert excerpt[-1] == f"at {module}:2, in load"


def test_excerpt_without_a_frame_in_user_code_has_no_location() -> None:
    text = (
        "Traceback (most recent call last):\n"
        f'  File "{luigi.worker.__file__}", line 210, in run\n'
        "    new_deps = self._run_get_new_deps()\n"
        f'  File "{targets.storage.__file__}", line 99, in check\n'
        "    raise StorageError(message)\n"
        "targets.errors.StorageError: cannot check s3://b/k: denied\n"
    )
    assert error_excerpt(text) == ["cannot check s3://b/k: denied"]
