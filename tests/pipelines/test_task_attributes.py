"""A Python task's retry and timeout attributes obey the rule YAML steps do, with its words."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import luigi
import pytest

import pipelines
from pipelines.common.task_attributes import attribute_problem, check_task_attributes
from pipelines.errors import ParameterError, PipelineError
from pipelines.execute.retry import RetryPolicy, timeout_of
from pipelines.loading import load_task_class


def task_with(**attributes: Any) -> type[luigi.Task]:
    return type("Checked", (pipelines.Task,), {"__module__": __name__, **attributes})


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"retries": -2}, "retries must be at least 0, got -2"),
        ({"retries": 101}, "retries must be at most 100, got 101"),
        ({"retries": "3"}, 'retries expected an integer, got text "3"'),
        ({"retries": 1.5}, "retries expected an integer, got a number 1.5"),
        ({"retries": True}, "retries expected an integer, got true/false true"),
        ({"timeout": math.nan}, "timeout must be a finite number, got nan"),
        ({"timeout": math.inf}, "timeout must be a finite number, got inf"),
        ({"timeout": 0}, "timeout must be more than 0, got 0"),
        ({"retry_delay": -1}, "retry_delay must be at least 0, got -1"),
        ({"retry_backoff": 0}, "retry_backoff must be at least 1, got 0"),
        ({"worker_timeout": -5}, "worker_timeout must be at least 0, got -5"),
    ],
)
def test_wrong_attribute_is_refused_naming_class_and_line(attributes: dict, message: str) -> None:
    with pytest.raises(ParameterError) as caught:
        check_task_attributes(task_with(**attributes))
    assert isinstance(caught.value, PipelineError)
    assert str(caught.value).startswith("Checked")
    assert str(caught.value).endswith(message)


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"retries": 3, "retry_delay": 0, "retry_backoff": 1, "timeout": 2.5},
        {"timeout": None, "worker_timeout": None},
        {"worker_timeout": 0},
        {"retry_delay": 0.5, "retry_backoff": 1.5},
    ],
)
def test_right_attributes_pass(attributes: dict) -> None:
    check_task_attributes(task_with(**attributes))


def test_plain_luigi_task_is_checked_too() -> None:
    bad = type("PlainBad", (luigi.Task,), {"__module__": __name__, "retries": -1})
    with pytest.raises(ParameterError, match="retries must be at least 0, got -1"):
        RetryPolicy.of(bad())
    with pytest.raises(ParameterError, match="retries must be at least 0"):
        timeout_of(bad())


def test_rule_is_the_yaml_schema_one() -> None:
    # The same wording as `dashpipe validate` gives for a YAML step.
    assert attribute_problem(-1, {"type": "integer", "minimum": 0}) == "must be at least 0, got -1"
    assert attribute_problem(0, {"type": "number", "exclusiveMinimum": 0}) == "must be more than 0, got 0"


def test_file_and_line_of_the_attribute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "attr_tasks_line.py"
    module.write_text(
        "import luigi\n\n\nclass Late(luigi.Task):\n    '''doc'''\n\n    timeout = -1\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError) as caught:
        load_task_class("attr_tasks_line.py:Late")
    assert str(caught.value) == "Late (attr_tasks_line.py:7): timeout must be more than 0, got -1"


def test_yaml_refuses_what_python_refuses(tmp_path: Path) -> None:
    from pipelines.yaml.errors import PipelineInvalid
    from pipelines.yaml.validate import load_pipeline_spec

    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(
        "pipeline: p\nsteps:\n  s:\n    shell: 'true'\n    outputs: {o: out.txt}\n    retries: -2\n",
        encoding="utf-8",
    )
    with pytest.raises(PipelineInvalid) as caught:
        load_pipeline_spec(pipeline)
    python = attribute_problem(-2, {"type": "integer", "minimum": 0})
    assert python is not None and python in str(caught.value)


def test_attribute_given_as_a_parameter_is_left_to_the_instance() -> None:
    # A task may make its retries a luigi parameter; the class holds the Parameter, not a number.
    class Tunable(pipelines.Task):
        retries = luigi.IntParameter(default=2)

        @property
        def timeout(self) -> float:
            return 3.0

    check_task_attributes(Tunable)
    assert RetryPolicy.of(Tunable()).retries == 2
