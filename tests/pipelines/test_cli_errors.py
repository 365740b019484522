"""User mistakes on the command line: one clear line naming the culprit, a distinct exit code,
never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import ExitCode
from tests.helpers import REPO, CliResult, built_nothing, run_cli
from tests.servers import Server, free_port

EXAMPLE = str(REPO / "examples" / "sales" / "pipeline.py")


def run_example(*extra: str, date: str = "2026-11-24", **kwargs) -> CliResult:
    """``dashpipe run`` on the example's final task for ``date``."""
    return run_cli("run", f"{EXAMPLE}:SalesReport", "--date", date, *extra, **kwargs)


def assert_one_clear_line(result, exit_code: int, *fragments: str) -> None:
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["no_such_module:Task"], ["cannot import module 'no_such_module'"]),
        (["missing/file.py:Task"], ["no such file: missing/file.py"]),
        (
            [f"{EXAMPLE}:SalesReprot", "--date", "2026-11-24"],
            ["no task 'SalesReprot'", "did you mean 'SalesReport'"],
        ),
        ([f"{EXAMPLE}:RAW_DATA"], ["is a str, not a luigi Task class"]),
        (["examples.sales.pipeline"], ["expected MODULE:TASK"]),
        ([f"{EXAMPLE}:SalesReport"], ["SalesReport needs --date"]),
        (
            [f"{EXAMPLE}:SalesReport", "--date", "yesterday-ish"],
            ["--date of SalesReport: cannot read 'yesterday-ish'"],
        ),
        (
            [f"{EXAMPLE}:SalesReport", "--date", "2026-11-24", "--roots", "x"],
            ["has no parameter --roots", "did you mean '--root'"],
        ),
        ([f"{EXAMPLE}:SalesReport", "--date"], ["--date of SalesReport needs a value"]),
        ([f"{EXAMPLE}:SalesReport", "--date", "2026-11-24", "stray"], ["unexpected argument 'stray'"]),
    ],
)
def test_invalid_invocations(args: list[str], fragments: list[str], tmp_path: Path) -> None:
    result = run_cli("run", *args, cwd=tmp_path)
    assert_one_clear_line(result, ExitCode.INVALID_PIPELINE, "dashpipe: error:", *fragments)


def test_broken_user_module_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text(
        "import luigi\n\nclass T(luigi.Task):\n    def run(self)\n        pass\n"
    )
    result = run_cli("run", "broken.py:T", cwd=tmp_path)
    assert_one_clear_line(result, ExitCode.INVALID_PIPELINE, "syntax error at", "broken.py:4")


def test_usage_errors_use_exit_code_2(tmp_path: Path) -> None:
    assert run_cli("run", cwd=tmp_path).exit_code == ExitCode.USAGE
    assert run_cli("frobnicate", cwd=tmp_path).exit_code == ExitCode.USAGE
    assert run_cli("run", f"{EXAMPLE}:SalesReport", "-j", "0", cwd=tmp_path).exit_code == ExitCode.USAGE


@pytest.mark.parametrize(
    ("root", "fragments"),
    [
        ("nosuchproto://bucket/sales", ["unknown storage protocol 'nosuchproto'"]),
        ("s3:/bucket/sales", ["did you mean 's3://'"]),
        ("s3://Not_A_Bucket/sales", ["'Not_A_Bucket' is not a valid bucket name"]),
    ],
)
def test_bad_output_urls(root: str, fragments: list[str], tmp_path: Path) -> None:
    # A target declared wrongly is the user's mistake, found before anything runs: exit 4, with
    # the line of the output() that declared it.
    result = run_example("--root", root, cwd=tmp_path)
    assert_one_clear_line(
        result, ExitCode.INVALID_PIPELINE, f"(date=2026-11-24, root={root}): ", "pipeline.py:", *fragments
    )
    plain_luigi = run_example("--root", root, "--existence-only", cwd=tmp_path)
    assert_one_clear_line(plain_luigi, ExitCode.INVALID_PIPELINE, "SalesReport(", "pipeline.py:", *fragments)


def test_unreachable_endpoint(tmp_path: Path) -> None:
    config = (
        f"[s3]\nendpoint_url = http://127.0.0.1:{free_port()}\n"
        'config_kwargs = {"retries": {"max_attempts": 1}}\n'
    )
    result = run_example("--root", "s3://bucket/sales", cwd=tmp_path, config=config)
    assert_one_clear_line(result, ExitCode.TASK_FAILED, "s3://bucket/sales/", "storage endpoint unreachable")


def test_missing_credentials(s3_server: Server, tmp_path: Path) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
    }
    config = f"[s3]\nendpoint_url = {s3_server.url}\n"
    result = run_example("--root", "s3://bucket/sales", cwd=tmp_path, config=config, env=env)
    assert_one_clear_line(result, ExitCode.TASK_FAILED, "s3://bucket/sales/", "no credentials found")


def test_missing_external_input(tmp_path: Path) -> None:
    result = run_example("--root", str(tmp_path / "out"), date="2026-01-01", cwd=tmp_path)
    assert_one_clear_line(result, ExitCode.MISSING_INPUT, "MISSING", "2026-01-01.csv", "not run")
    assert built_nothing(tmp_path / "out")


def one_task_module(directory: Path, class_name: str, run_body: str) -> str:
    """Write a module with one plain luigi task; return its MODULE:TASK reference."""
    (directory / f"{class_name.lower()}.py").write_text(
        "import luigi\n\n"
        f"class {class_name}(luigi.Task):\n"
        "    def output(self):\n        return luigi.LocalTarget('promised.txt')\n"
        f"    def run(self):\n        {run_body}\n"
    )
    return f"{class_name.lower()}.py:{class_name}"


def test_failing_task_exits_1_and_names_the_error(tmp_path: Path) -> None:
    spec = one_task_module(tmp_path, "Explode", "raise ValueError('the input had 3 columns, expected 4')")
    result = run_cli("run", spec, cwd=tmp_path)
    assert_one_clear_line(
        result, ExitCode.TASK_FAILED, "FAILED", "Explode()", "ValueError: the input had 3 columns, expected 4"
    )
    verbose = run_cli("run", spec, "-v", cwd=tmp_path)
    assert "Traceback" in verbose.output  # -v shows the details a developer needs


def test_help_reads_well(tmp_path: Path) -> None:
    top = run_cli("--help", cwd=tmp_path)
    assert top.exit_code == 0 and "run" in top.stdout and "Exit codes" in top.stdout
    sub = run_cli("run", "--help", cwd=tmp_path)
    assert sub.exit_code == 0 and "MODULE:TASK" in sub.stdout and "--workers" in sub.stdout


def test_task_that_writes_no_output_fails(tmp_path: Path) -> None:
    result = run_cli("run", one_task_module(tmp_path, "Lazy", "pass"), cwd=tmp_path)
    assert_one_clear_line(
        result,
        ExitCode.TASK_FAILED,
        "FAILED",
        "Lazy()",
        "run() finished without writing its output: promised.txt",
    )


def test_private_parameters_never_appear_in_output(tmp_path: Path) -> None:
    (tmp_path / "secretive.py").write_text(
        "import luigi\n"
        "from luigi.parameter import ParameterVisibility\n\n"
        "class Fetch(luigi.Task):\n"
        "    day = luigi.Parameter()\n"
        "    api_token = luigi.Parameter(visibility=ParameterVisibility.PRIVATE)\n"
        "    def output(self):\n        return luigi.LocalTarget(f'out-{self.day}.txt')\n"
        "    def run(self):\n        raise RuntimeError('upstream API said no')\n"
    )
    token = "tok-5f1c0ffee-must-not-leak"
    result = run_cli("run", "secretive.py:Fetch", "--day", "mon", "--api-token", token, cwd=tmp_path)
    assert_one_clear_line(result, ExitCode.TASK_FAILED, "Fetch(day=mon)", "upstream API said no")
    assert token not in result.output


def test_parameters_after_double_dash_belong_to_the_task(tmp_path: Path) -> None:
    (tmp_path / "clash.py").write_text(
        "import luigi\n\n"
        "class Clash(luigi.Task):\n"
        "    workers = luigi.IntParameter()\n"
        "    label = luigi.Parameter()\n"
        "    def output(self):\n        return luigi.LocalTarget(f'out-{self.workers}{self.label}.txt')\n"
        "    def run(self):\n        self.output().open('w').close()\n"
    )
    result = run_cli("run", "clash.py:Clash", "-j", "1", "--", "--workers", "3", "--label=-v", cwd=tmp_path)
    assert result.exit_code == ExitCode.OK, result.output
    assert (tmp_path / "out-3-v.txt").exists()
