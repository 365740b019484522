"""Command-line words to task parameters, as a user types them."""

from __future__ import annotations

import datetime as dt

import luigi
import pytest
from luigi.parameter import ParameterVisibility

from pipelines.errors import ParameterError
from pipelines.loading import parse_task_parameters


class Report(luigi.Task):
    day = luigi.DateParameter()
    offset = luigi.IntParameter(default=0)
    label = luigi.Parameter(default="daily")
    dry = luigi.BoolParameter()
    strict = luigi.BoolParameter(parsing=luigi.BoolParameter.EXPLICIT_PARSING, default=True)
    stores = luigi.ListParameter(default=[])
    credentials = luigi.DictParameter(default={}, visibility=ParameterVisibility.PRIVATE)


def parse(*words: str) -> dict:
    return parse_task_parameters(Report, list(words))


def test_values_in_both_forms_and_types_are_parsed() -> None:
    values = parse("--day", "2026-11-24", "--offset=-3", "--label", "x y", "--stores", '["ams", "ber"]')
    assert values == {"day": dt.date(2026, 11, 24), "offset": -3, "label": "x y", "stores": ["ams", "ber"]}


def test_negative_number_as_separate_word() -> None:
    assert parse("--day", "2026-11-24", "--offset", "-3")["offset"] == -3


def test_flags() -> None:
    assert parse("--day", "2026-11-24", "--dry")["dry"] is True
    assert parse("--day", "2026-11-24", "--no-dry")["dry"] is False
    assert parse("--day", "2026-11-24", "--dry=false")["dry"] is False
    with pytest.raises(ParameterError, match="--no-dry of Report takes no value; write --dry=VALUE"):
        parse("--day", "2026-11-24", "--no-dry=true")


def test_explicitly_parsed_bool_takes_a_value() -> None:
    assert parse("--day", "2026-11-24", "--strict", "false")["strict"] is False
    assert parse("--day", "2026-11-24", "--strict=true")["strict"] is True


def test_a_following_option_is_not_taken_as_a_value() -> None:
    with pytest.raises(ParameterError, match=r"--label of Report needs a value .*--label=VALUE"):
        parse("--day", "2026-11-24", "--label", "--dry")
    assert parse("--day", "2026-11-24", "--label=--dry")["label"] == "--dry"


def test_dashes_and_underscores_are_the_same_name() -> None:
    class Windowed(luigi.Task):
        window_days = luigi.IntParameter()

    assert parse_task_parameters(Windowed, ["--window-days", "7"]) == {"window_days": 7}
    assert parse_task_parameters(Windowed, ["--window_days=7"]) == {"window_days": 7}


def test_private_values_are_not_echoed_in_errors() -> None:
    with pytest.raises(ParameterError) as info:
        parse("--day", "2026-11-24", "--credentials", '{"password": "hunter2",}')
    assert "hunter2" not in str(info.value)
    assert "--credentials of Report: cannot read the value given as a dict" in str(info.value)


def test_public_values_are_echoed_with_the_reason() -> None:
    with pytest.raises(ParameterError, match=r"--offset of Report: cannot read 'three' as a whole number$"):
        parse("--day", "2026-11-24", "--offset", "three")
    with pytest.raises(
        ParameterError, match=r"--day of Report: cannot read 'soon' as a date \(YYYY-MM-DD\)$"
    ):
        parse("--day", "soon")
    # A kind without accepted forms spelt out keeps the parser's own reason.
    with pytest.raises(ParameterError, match=r"--stores of Report: cannot read 'ams' as a list: \S"):
        parse("--day", "2026-11-24", "--stores", "ams")
