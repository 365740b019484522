"""Every ``console`` example in README.md and docs/ runs as written, and prints what it shows.

Each document's examples run in order, in one scratch copy of the shipped examples and luigi.cfg,
so a later example sees what an earlier one built, as a reader following along would. A command
is a ``$ `` line; the lines after it, up to the next one, are its output (stdout and stderr as a
terminal interleaves them). A command must exit 0 unless its comment says ``# exit N``.

Volatile text is masked on both sides before comparing: durations (``0.01s``), the ``took ...``
timing line, timestamps, and the order of report lines of tasks that ran in parallel. In the
shown output, ``...`` stands for any text within a line, and a line of just ``...`` for any
number of lines, as in doctest. A fenced block just after ``<!-- file: NAME -->`` is written
to NAME in the scratch directory, so that an example can use a file the document shows.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import REPO

DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FILE_MARKER = re.compile(r"<!--\s*file:\s*(\S+)\s*-->")
EXIT_COMMENT = re.compile(r"#.*\bexit (\d+)\b")
COMMAND_TIMEOUT_S = 120


@dataclass
class Command:
    line: str
    where: str
    output: list[str] = field(default_factory=list)

    @property
    def expected_exit(self) -> int:
        found = EXIT_COMMENT.search(self.line)
        return int(found.group(1)) if found else 0


@dataclass
class Step:
    """Either a file to write or a command to run, in document order."""

    command: Command | None = None
    file: tuple[str, str] | None = None


def steps_of(document: Path) -> list[Step]:
    steps: list[Step] = []
    lines = document.read_text(encoding="utf-8").splitlines()
    pending_file: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        marker = FILE_MARKER.search(line)
        if marker:
            pending_file = marker.group(1)
        elif line.startswith("```"):
            language = line[3:].strip()
            end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
            body = lines[index + 1 : end]
            if pending_file is not None:
                steps.append(Step(file=(pending_file, "\n".join(body) + "\n")))
                pending_file = None
            elif language == "console":
                for offset, text in enumerate(body):
                    if text.startswith("$ "):
                        where = f"{document.relative_to(REPO)}:{index + 2 + offset}"
                        steps.append(Step(command=Command(text[2:], where)))
                    elif steps and steps[-1].command is not None:
                        steps[-1].command.output.append(text)
            index = end
        index += 1
    return steps


_DURATION = re.compile(r"\b\d+(?:\.\d+)?s\b")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)?")
_TOOK = re.compile(r"^took .*$")
_REPORT_LINE = re.compile(r"^ *(?:ran|up to date|FAILED|ERROR|MISSING|not run)  \S")  # report.task_line


def masked(lines: list[str]) -> list[str]:
    out = [
        _TIMESTAMP.sub("<time>", _DURATION.sub("<t>s", _TOOK.sub("took <timing>", line))) for line in lines
    ]
    # Tasks that ran in parallel report in either order: each run of report lines is sorted.
    result: list[str] = []
    group: list[str] = []
    for line in [*out, ""]:
        if _REPORT_LINE.match(line) and "..." not in line:
            group.append(line)
            continue
        result.extend(sorted(group))
        group = []
        result.append(line)
    return result[:-1]


def matches(expected: list[str], actual: list[str]) -> bool:
    pattern = "".join(
        r"(?:.*\n)*?" if line.strip() == "..." else ".*".join(map(re.escape, line.split("..."))) + r"\n"
        for line in expected
    )
    return re.fullmatch(pattern, "".join(line + "\n" for line in actual)) is not None


def scratch_copy(destination: Path) -> Path:
    shutil.copytree(REPO / "examples", destination / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "luigi.cfg", destination / "luigi.cfg")
    return destination


def run(command: Command, cwd: Path) -> tuple[int, list[str]]:
    bin_dir = str(Path(sys.executable).parent)  # where pip put the dashpipe script
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("LUIGI_", "DASHPIPE_"))
    }
    environment.update(PATH=f"{bin_dir}{os.pathsep}{environment.get('PATH', '')}", COLUMNS="200")
    completed = subprocess.run(
        ["bash", "-c", command.line],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
    )
    return completed.returncode, completed.stdout.rstrip("\n").splitlines()


EXAMPLES = [document for document in DOCUMENTS if any(step.command for step in steps_of(document))]


def test_the_documents_have_examples_to_run() -> None:
    names = {document.name for document in EXAMPLES}
    assert {"README.md", "yaml-pipelines.md", "staleness.md", "nightly.md"} <= names


@pytest.mark.parametrize("document", EXAMPLES, ids=[document.name for document in EXAMPLES])
def test_console_examples_print_what_they_show(document: Path, tmp_path: Path) -> None:
    cwd = scratch_copy(tmp_path)
    problems = []
    for step in steps_of(document):
        if step.file is not None:
            name, text = step.file
            (cwd / name).parent.mkdir(parents=True, exist_ok=True)
            (cwd / name).write_text(text, encoding="utf-8")
            continue
        command = step.command
        assert command is not None
        code, output = run(command, cwd)
        if code != command.expected_exit:
            problems.append(
                f"{command.where}: $ {command.line}\n  exited {code}, expected {command.expected_exit}"
            )
        if not matches(masked(command.output), masked(output)):
            shown = "\n".join(f"    {line}" for line in output)
            problems.append(f"{command.where}: $ {command.line}\n  printed:\n{shown}")
    assert not problems, "\n".join(problems)


def test_the_yaml_guide_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    guide = (REPO / "docs" / "yaml-pipelines.md").read_text(encoding="utf-8")
    code = re.search(r"## From Python\s+```python\n(.*?)```", guide, re.S).group(1)
    monkeypatch.chdir(REPO)
    namespace: dict = {}
    exec(compile(code, "docs/yaml-pipelines.md", "exec"), namespace)
    assert namespace["task"].task_family == "sales.report"
    assert str(namespace["task"].date) == "2026-11-24"
