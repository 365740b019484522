"""The JSON Schema editors use is valid, accepts the shipped pipelines, and agrees with the validator."""

from __future__ import annotations

import json

import jsonschema
import yaml

from pipelines import ExitCode
from pipelines.yaml.validate import SCHEMA, SCHEMA_PATH
from tests.helpers import REPO, run_cli

SHIPPED = [REPO / "examples" / "sales" / "pipeline.yaml", REPO / "tests" / "data" / "yaml" / "greetings.yaml"]


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text()))


def test_schema_accepts_the_shipped_pipelines() -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for path in SHIPPED:
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text())))
        assert errors == [], f"{path}: {[error.message for error in errors]}"


def test_validate_json_lists_every_problem_with_its_position(tmp_path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "pipeline: demo\nsteps:\n  a:\n    run: x:y\n    prioirty: 1\n    outputs: {o: out/a}\n"
    )
    result = run_cli("validate", str(broken), "--json", cwd=tmp_path)
    assert result.exit_code == ExitCode.INVALID_PIPELINE
    document = json.loads(result.stdout)
    assert document["valid"] is False
    problems = {(issue["line"], issue["key"]): issue["message"] for issue in document["issues"]}
    assert problems[(5, "steps.a.prioirty")] == "unknown key 'prioirty' (did you mean 'priority'?)"
    assert problems[(4, "steps.a.run")].startswith("cannot import 'x:y': no module named 'x'")
