"""Every mistake in tests/data/bad_input ends in one clear error: the exact exit code, the place
named, no traceback, no hang.

Each case is a directory: the files a user would have (a pipeline, task modules, a luigi.cfg) and
``case.yaml``::

    why: what the user got wrong, in one line
    args: [run, tasks.py:Top]         # dashpipe's arguments, run inside a copy of the directory
    exit: 4                           # the exact exit code
    expect: ["tasks.py:7", "cycle"]   # fragments that must all appear in the output

The case's own ``luigi.cfg`` is the only configuration read (an empty one when it has none), so
the repository's luigi.cfg never leaks in. Together with tests/data/invalid (YAML files checked by
``dashpipe validate``) this is the bad-input corpus.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipelines import ExitCode

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "data" / "bad_input"
CASES = sorted(path.parent for path in CORPUS.glob("*/case.yaml"))
INVALID_YAML = sorted((REPO / "tests" / "data" / "invalid").glob("*.yaml"))
# A case that has not ended by then hangs; the worst legitimate one (a scheduler that does not
# answer) gives up after about 10 s.
HANG_S = 45


def test_corpus_is_large_enough() -> None:
    assert len(CASES) + len(INVALID_YAML) >= 100


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_ends_in_a_clear_error(case: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load((case / "case.yaml").read_text(encoding="utf-8"))
    assert set(spec) <= {"why", "args", "exit", "expect", "env"}, f"{case.name}/case.yaml: unknown keys"
    work = tmp_path / case.name
    shutil.copytree(case, work, ignore=shutil.ignore_patterns("case.yaml", "__pycache__"))
    config = work / "luigi.cfg"
    if not config.exists():
        config.write_text("")
    environment = {
        **os.environ,
        "LUIGI_CONFIG_PATH": str(config),
        **{key: str(value) for key, value in (spec.get("env") or {}).items()},
    }
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "pipelines", *map(str, spec["args"])],
            cwd=work,
            env=environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=HANG_S,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"{case.name}: dashpipe {' '.join(map(str, spec['args']))} still running after {HANG_S} s"
        )
    output = completed.stdout + completed.stderr
    assert completed.returncode == spec["exit"], f"{case.name}: exit {completed.returncode}\n{output}"
    assert completed.returncode != ExitCode.INTERNAL_ERROR, output
    assert "Traceback" not in output, output
    for fragment in spec["expect"]:
        assert fragment in output, f"{case.name}: expected {fragment!r} in:\n{output}"
