"""Every malformed pipeline in tests/data/invalid is rejected with exactly the problems its header declares.

Each file starts with one line per expected problem, ``# expect: LINE: fragment``: ``dashpipe validate``
must print a problem at that line containing the fragment, and no other problem.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import ExitCode

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "data" / "invalid"
FILES = sorted(CORPUS.glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+): (.+)$", re.MULTILINE)
HEADER = re.compile(r"dashpipe: error: (\d+) problems? in ")


def test_corpus_is_large_enough() -> None:
    assert len(FILES) >= 30


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_invalid_pipeline_is_reported(path: Path) -> None:
    expected = [(int(line), fragment) for line, fragment in EXPECT.findall(path.read_text(encoding="utf-8"))]
    assert expected, f"{path.name} declares no '# expect: LINE: fragment' lines"
    relative = str(path.relative_to(REPO))
    result = subprocess.run(
        [sys.executable, "-m", "pipelines", "validate", relative],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == ExitCode.INVALID_PIPELINE, output
    assert "Traceback" not in output, output
    lines = output.splitlines()
    for line, fragment in expected:
        prefix = f"{relative}:{line}:"
        assert any(prefix in text and fragment in text for text in lines), (
            f"expected a problem at line {line} containing {fragment!r}, got:\n{output}"
        )
    header = HEADER.search(output)
    assert header, output
    assert int(header.group(1)) == len(expected), f"expected {len(expected)} problem(s), got:\n{output}"
