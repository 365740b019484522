"""A user's own ``pipelines/`` or ``targets/`` folder, hiding dash-pipeline's packages of those names:
one line naming the folder and what to do instead (exit 4), never a traceback; the path form works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import ExitCode
from tests.helpers import CliResult, run_cli

TASK_FILE = """\
import luigi


class Report(luigi.Task):
    def output(self):
        return luigi.LocalTarget(__file__ + ".out")

    def run(self):
        with self.output().open("w") as out:
            out.write("done")
"""

# What pip writes for the `dashpipe` console script: its sys.path[0] is the script's own folder,
# not the working directory, unlike `python -m pipelines`'s (which tests.helpers.run_cli runs).
CONSOLE_SCRIPT = """\
import sys
from pipelines.cli import entry
sys.exit(entry())
"""

# An editable install finds our packages after everything on sys.path (a finder at the end of
# sys.meta_path): then even a folder without __init__.py in the working directory comes first.
EDITABLE = any("__editable__" in getattr(finder, "__module__", "") for finder in sys.meta_path)


def run_dashpipe_command(*args: str, cwd: Path, tmp_path: Path) -> CliResult:
    """Run the CLI as the installed ``dashpipe`` command runs: from a script in its own folder."""
    script = tmp_path / "bin" / "dashpipe"
    script.parent.mkdir(exist_ok=True)
    script.write_text(CONSOLE_SCRIPT)
    completed = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def one_clear_line(result: CliResult, *fragments: str) -> None:
    assert result.exit_code == ExitCode.INVALID_PIPELINE, result.output
    assert "Traceback" not in result.output, result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("dashpipe: error: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def project(tmp_path: Path, folder: str, package: bool) -> Path:
    """``tmp_path/project/<folder>/sales.py`` defining ``Report``; a package when ``package``."""
    root = tmp_path / "project"
    (root / folder).mkdir(parents=True)
    (root / folder / "sales.py").write_text(TASK_FILE)
    if package:
        (root / folder / "__init__.py").write_text("")
    return root


@pytest.mark.parametrize("package", [False, True], ids=["folder", "package"])
def test_module_reference_into_own_pipelines_folder_names_it_and_the_path_form(
    tmp_path: Path, package: bool
) -> None:
    root = project(tmp_path, "pipelines", package)
    result = run_dashpipe_command("run", "pipelines.sales:Report", cwd=root, tmp_path=tmp_path)
    one_clear_line(
        result,
        "./pipelines/ is your own folder, but 'pipelines' is dash-pipeline's package",
        "run the file by its path: dashpipe run pipelines/sales.py:Report",
    )


@pytest.mark.parametrize("package", [False, True], ids=["folder", "package"])
def test_the_path_form_runs_a_file_of_an_own_pipelines_folder(tmp_path: Path, package: bool) -> None:
    root = project(tmp_path, "pipelines", package)
    result = run_dashpipe_command("run", "pipelines/sales.py:Report", cwd=root, tmp_path=tmp_path)
    assert result.exit_code == ExitCode.OK, result.output
    assert (root / "pipelines" / "sales.py.out").read_text() == "done"


def test_module_reference_into_own_targets_folder(tmp_path: Path) -> None:
    root = project(tmp_path, "targets", package=True)
    result = run_dashpipe_command("run", "targets.sales:Report", cwd=root, tmp_path=tmp_path)
    one_clear_line(result, "./targets/ is your own folder", "dashpipe run targets/sales.py:Report")


def test_an_unrelated_module_reference_is_not_blamed_on_the_folder(tmp_path: Path) -> None:
    root = project(tmp_path, "pipelines", package=False)
    result = run_dashpipe_command("run", "pipelines.nothing_here:Report", cwd=root, tmp_path=tmp_path)
    assert result.exit_code == ExitCode.INVALID_PIPELINE, result.output
    assert "no module named 'pipelines.nothing_here'" in result.stderr, result.stderr


@pytest.mark.parametrize("package", [False, True], ids=["folder", "package"])
def test_the_dashpipe_command_does_not_see_a_targets_folder_in_the_working_directory(
    tmp_path: Path, package: bool
) -> None:
    root = project(tmp_path, "targets", package)
    (root / "report.py").write_text(TASK_FILE)
    result = run_dashpipe_command("run", "report.py:Report", cwd=root, tmp_path=tmp_path)
    assert result.exit_code == ExitCode.OK, result.output


@pytest.mark.parametrize("package", [False, True], ids=["folder", "package"])
def test_python_m_pipelines_beside_an_own_targets_folder_names_it(tmp_path: Path, package: bool) -> None:
    # An installed (not editable) dash-pipeline's targets wins over a folder without __init__.py;
    # then nothing is shadowed and the command simply works.
    root = project(tmp_path, "targets", package)
    result = run_cli("--version", cwd=root)
    if result.exit_code == ExitCode.OK and not package:
        return
    one_clear_line(
        result,
        "./targets/ shadows dash-pipeline's 'targets' package",
        "rename the folder or run dashpipe from another directory",
    )


@pytest.mark.parametrize("package", [False, True], ids=["folder", "package"])
def test_python_m_pipelines_beside_an_own_pipelines_folder_names_it(tmp_path: Path, package: bool) -> None:
    if package and not EDITABLE:
        pytest.skip("Python itself runs the folder's package and fails: no pipelines.__main__ there")
    # Which message depends on the install: an editable one finds the folder as `pipelines` itself
    # (the startup check), an installed one finds ours and refuses the reference (the loading check).
    root = project(tmp_path, "pipelines", package)
    result = run_cli("run", "pipelines.sales:Report", cwd=root)
    one_clear_line(result, "./pipelines/")
    assert any(
        said in result.stderr
        for said in ("shadows dash-pipeline's 'pipelines' package", "'pipelines' is dash-pipeline's package")
    ), result.stderr


def test_a_pipeline_file_beside_an_own_pipelines_folder_is_told_the_path_to_write(tmp_path: Path) -> None:
    root = project(tmp_path, "pipelines", package=False)
    pipeline = root / "report.yaml"
    pipeline.write_text(
        "pipeline: report\n"
        "steps:\n"
        "  copy:\n"
        "    shell: 'cp {inputs.rep} {outputs.out}'\n"
        "    inputs:\n"
        "      rep: {task: 'pipelines.sales:Report'}\n"
        "    outputs:\n"
        "      out: out.txt\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_dashpipe_command("run", str(pipeline), cwd=elsewhere, tmp_path=tmp_path)
    assert result.exit_code == ExitCode.INVALID_PIPELINE, result.output
    assert "Traceback" not in result.output, result.output
    assert "pipelines/ is your own folder, but 'pipelines' is dash-pipeline's package" in result.stderr
    assert "name the file by its path: pipelines/sales.py:Report" in result.stderr

    pipeline.write_text(pipeline.read_text().replace("pipelines.sales:Report", "pipelines/sales.py:Report"))
    result = run_dashpipe_command("run", str(pipeline), cwd=elsewhere, tmp_path=tmp_path)
    assert result.exit_code == ExitCode.OK, result.output
    assert (elsewhere / "out.txt").read_text() == "done"  # outputs are relative to the working directory
