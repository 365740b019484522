"""Turning luigi's failure explanations into one readable line, and naming tasks briefly."""

from __future__ import annotations

import traceback

import luigi

from pipelines.describe import describe
from pipelines.error_text import error_line
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
