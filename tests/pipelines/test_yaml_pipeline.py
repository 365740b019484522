"""YAML pipelines end to end: callable and shell steps, mixed with Python tasks, on real storage."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import shutil
from pathlib import Path

import luigi
import pytest

from pipelines import ExitCode, PipelineError
from pipelines.yaml.compile import load_pipeline
from tests.conftest import Backend, make_backend, s3_backend
from tests.helpers import REPO, run_cli
from tests.pipelines.test_example_pipeline import RAW, expected_totals, ran, stamps
from tests.servers import Server

DATA = REPO / "tests" / "data" / "yaml"
SALES_YAML = str(REPO / "examples" / "sales" / "pipeline.yaml")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_callable_and_shell_steps(tmp_path: Path) -> None:
    result = run_cli(
        "run", str(DATA / "greetings.yaml"), "--root", str(tmp_path), "--who", "ada", cwd=tmp_path
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert (tmp_path / "greeting-2026-11-24.txt").read_text() == "hello ada on 2026-11-24\n"
    assert (tmp_path / "loud-2026-11-24.txt").read_text() == "HELLO ADA ON 2026-11-24\n"
    assert (tmp_path / "words-20261124.txt").read_text().strip() == "4"  # {day:%Y%m%d} in a URL
    assert (tmp_path / "kwargs.txt").read_text() == "inputs,outputs,params\n"  # **kwargs gets all three
    assert ran(result) == ["greetings.greet", "greetings.kwargs", "greetings.loud", "greetings.words"]
    again = run_cli(
        "run", str(DATA / "greetings.yaml"), "--root", str(tmp_path), "--who", "ada", cwd=tmp_path
    )
    assert again.exit_code == ExitCode.OK and ran(again) == [] and "nothing to do" in again.stdout


@pytest.mark.parametrize("name", ["local", "s3"])
def test_sales_yaml_matches_the_python_pipeline(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    backend: Backend = make_backend(name, request, tmp_path)
    uploader = backend.fs()
    uploader.put_file(
        str(RAW / "2026-11-24.csv"), uploader._strip_protocol(backend.url("raw", "2026-11-24.csv"))
    )
    args = [
        "run",
        SALES_YAML,
        "--date",
        "2026-11-24",
        "--root",
        backend.url("out"),
        "--raw-root",
        backend.url("raw"),
    ]
    first = run_cli(*args, cwd=REPO, config=backend.config, env=backend.env)
    assert first.exit_code == ExitCode.OK, first.output
    assert ran(first) == ["sales.clean", "sales.report", "sales.row_count", "sales.totals"]
    with backend.target("out", "reports", "2026-11-24.md").open("r") as handle:
        report = handle.read()
    for store, (units, revenue) in expected_totals(RAW / "2026-11-24.csv").items():
        assert f"| {store} | {units} | {revenue:.2f} |" in report
    raw_rows = len((RAW / "2026-11-24.csv").read_text().strip().splitlines()) - 1
    with backend.target("out", "reports", "2026-11-24.rows.txt").open("r") as handle:
        assert handle.read().strip() == str(raw_rows)  # a shell step read from and wrote to this backend
    before = stamps(uploader, backend.url("out"))
    second = run_cli(*args, cwd=REPO, config=backend.config, env=backend.env)
    assert second.exit_code == ExitCode.OK and ran(second) == []
    assert stamps(uploader, backend.url("out")) == before


def test_task_ids_are_stable_across_loads() -> None:
    first = load_pipeline(SALES_YAML).task("report", date=dt.date(2026, 11, 24))
    second = load_pipeline(SALES_YAML).task("report", date=dt.date(2026, 11, 24))
    assert first.task_id == second.task_id
    assert first.get_task_family() == "sales.report"
    assert load_pipeline(SALES_YAML).task("report", date=dt.date(2026, 11, 25)).task_id != first.task_id


class Upper(luigi.Task):
    """A Python task that depends on a YAML step."""

    root = luigi.Parameter()

    def requires(self):
        return load_pipeline(DATA / "greetings.yaml").task("greet", root=self.root)

    def output(self):
        return luigi.LocalTarget(f"{self.root}/python-upper.txt")

    def run(self):
        with self.input()["greeting"].open("r") as source, self.output().open("w") as destination:
            destination.write(source.read().upper())


def test_python_task_depends_on_a_yaml_step(tmp_path: Path) -> None:
    assert luigi.build([Upper(root=str(tmp_path))], local_scheduler=True, log_level="WARNING")
    assert (tmp_path / "python-upper.txt").read_text() == "HELLO WORLD ON 2026-11-24\n"


def test_yaml_step_depends_on_a_python_task(tmp_path: Path) -> None:
    shutil.copy(DATA / "stepfuncs.py", tmp_path / "stepfuncs.py")
    write(
        tmp_path / "pytasks.py",
        (
            "import luigi\n\n"
            "class Seed(luigi.Task):\n"
            "    root = luigi.Parameter()\n"
            "    day = luigi.DateParameter()\n"
            "    def output(self):\n        return luigi.LocalTarget(f'{self.root}/seed-{self.day}.txt')\n"
            "    def run(self):\n"
            "        with self.output().open('w') as f:\n            f.write(f'seeded {self.day}')\n"
        ),
    )
    pipeline = write(
        tmp_path / "mixed.yaml",
        (
            "pipeline: mixed\n"
            "params:\n  day: {type: date}\n  root: {type: string}\n"
            "steps:\n"
            "  louder:\n"
            "    run: stepfuncs:shout\n"
            "    inputs:\n"
            "      text: {task: 'pytasks:Seed', params: {day: '{day}'}}\n"
            "    outputs:\n"
            "      loud: '{root}/loud.txt'\n"
        ),
    )
    result = run_cli(
        "run", str(pipeline), "--day", "2026-11-20", "--root", str(tmp_path / "out"), cwd=tmp_path
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert (tmp_path / "out" / "loud.txt").read_text() == "SEEDED 2026-11-20"
    assert "Seed(root=" in result.stdout and "mixed.louder(day=2026-11-20" in result.stdout


def shell_pipeline(tmp_path: Path, command: str, retries: int = 0) -> Path:
    return write(
        tmp_path / "shell.yaml",
        (
            "pipeline: shelly\n"
            "params:\n  root: {type: string}\n"
            "steps:\n"
            "  make:\n"
            f"    shell: {json.dumps(command)}\n"
            f"    retries: {retries}\n"
            "    retry_delay: 0\n"
            "    outputs:\n"
            "      out: '{root}/made.txt'\n"
        ),
    )


def test_failing_shell_command_publishes_nothing_and_says_why(tmp_path: Path) -> None:
    pipeline = shell_pipeline(tmp_path, "echo half > {outputs.out}; echo 'disk on fire' >&2; exit 3")
    result = run_cli("run", str(pipeline), "--root", str(tmp_path / "out"), cwd=tmp_path)
    assert result.exit_code == ExitCode.TASK_FAILED
    assert "command exited with 3: disk on fire" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "made.txt").exists()
    # No staging file left behind: only the build record, which marks the build unfinished.
    assert [p.name for p in (tmp_path / "out").iterdir()] == [".dashpipe"]


def test_shell_command_that_writes_nothing_fails(tmp_path: Path) -> None:
    result = run_cli(
        "run", str(shell_pipeline(tmp_path, "true")), "--root", str(tmp_path / "out"), cwd=tmp_path
    )
    assert result.exit_code == ExitCode.TASK_FAILED
    assert "command exited 0 but did not write {outputs.out}" in result.output


def test_retries_run_the_step_again(tmp_path: Path) -> None:
    counter = tmp_path / "attempts"
    command = f"echo x >> {counter}; test $(wc -l < {counter}) -ge 2 && echo ok > {{outputs.out}}"
    result = run_cli(
        "run",
        str(shell_pipeline(tmp_path, command, retries=2)),
        "--root",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert counter.read_text().count("x") == 2
    assert (tmp_path / "out" / "made.txt").read_text() == "ok\n"


def test_env_references_are_resolved_at_run_time_and_never_printed(s3_server: Server, tmp_path: Path) -> None:
    backend = s3_backend(s3_server)
    secret = "s3cr3t-from-the-environment"
    pipeline = write(
        tmp_path / "envy.yaml",
        (
            "pipeline: envy\n"
            "params:\n  root: {type: string}\n"
            "steps:\n"
            "  note:\n"
            "    shell: 'echo written > {outputs.out}'\n"
            "    outputs:\n"
            "      out:\n"
            "        url: '{root}/note.txt'\n"
            "        options:\n"
            "          endpoint_url: '${env:TEST_ENDPOINT}'\n"
            "          key: testing\n"
            "          secret: '${env:TEST_SECRET}'\n"
        ),
    )
    env = {"TEST_ENDPOINT": s3_server.url, "TEST_SECRET": secret}
    for extra in ([], ["--json"], ["-n"], ["-v"]):
        result = run_cli("run", str(pipeline), "--root", backend.url("envy"), *extra, cwd=tmp_path, env=env)
        assert result.exit_code == ExitCode.OK, result.output
        assert secret not in result.output and s3_server.url not in result.output
    with backend.target("envy", "note.txt").open("r") as handle:
        assert handle.read() == "written\n"


def test_two_files_cannot_share_a_pipeline_name(tmp_path: Path) -> None:
    text = "pipeline: twin\nsteps:\n  a:\n    shell: 'echo > {outputs.o}'\n    outputs: {o: out/a}\n"
    first, second = write(tmp_path / "eu" / "p.yaml", text), write(tmp_path / "us" / "p.yaml", text)
    load_pipeline(first)
    with pytest.raises(PipelineError, match=r"pipeline name 'twin' is already used by .*eu/p\.yaml"):
        load_pipeline(second)
    assert load_pipeline(first) is load_pipeline(first)  # the same file compiles once


def test_step_tasks_survive_pickling_for_spawned_workers() -> None:
    task = load_pipeline(SALES_YAML).task("report", date=dt.date(2026, 11, 24), root="somewhere")
    copy = pickle.loads(pickle.dumps(task))
    assert copy.task_id == task.task_id and copy.root == "somewhere"


def test_merge_keys_lists_in_urls_and_luigi_local_targets_in_shell_steps(tmp_path: Path) -> None:
    write(
        tmp_path / "pytasks.py",
        (
            "import luigi\n\n"
            "class Seed(luigi.Task):\n"
            "    root = luigi.Parameter()\n"
            "    def output(self):\n        return luigi.LocalTarget(f'{self.root}/seed.txt')\n"
            "    def run(self):\n"
            "        with self.output().open('w') as f:\n            f.write('one two three')\n"
        ),
    )
    pipeline = write(
        tmp_path / "merged.yaml",
        (
            "pipeline: merged\n"
            "x-defaults: &defaults\n  retries: 1\n  retry_delay: 0\n"
            "params:\n  root: {type: string}\n  stores: {type: list, default: [ams, ber]}\n"
            "steps:\n"
            "  count:\n"
            "    <<: *defaults\n"
            "    shell: 'wc -w < {inputs.seed} | tr -d \" \" > {outputs.n}'\n"
            "    inputs: {seed: {task: 'pytasks.py:Seed'}}\n"
            "    outputs: {n: '{root}/count-{stores}.txt'}\n"
        ),
    )
    result = run_cli(
        "run", str(pipeline), "--root", str(tmp_path / "out"), cwd=REPO
    )  # not the YAML's directory
    assert result.exit_code == ExitCode.OK, result.output
    assert (tmp_path / "out" / "count-ams,ber.txt").read_text().strip() == "3"


def test_python_input_with_several_outputs_must_name_one(tmp_path: Path) -> None:
    write(
        tmp_path / "pytasks.py",
        (
            "import luigi\n\n"
            "class Pair(luigi.Task):\n"
            "    def output(self):\n"
            "        return {'left': luigi.LocalTarget('l.txt'), 'right': luigi.LocalTarget('r.txt')}\n"
        ),
    )
    pipeline = write(
        tmp_path / "pair.yaml",
        (
            "pipeline: pair\nsteps:\n"
            "  use:\n    shell: 'cat {inputs.both} > {outputs.o}'\n"
            "    inputs: {both: {task: 'pytasks:Pair'}}\n    outputs: {o: out.txt}\n"
        ),
    )
    dry = run_cli("run", str(pipeline), "-n", cwd=tmp_path)
    assert dry.exit_code == ExitCode.INVALID_PIPELINE
    assert "pytasks:Pair has several outputs; say which with 'output'" in dry.stderr
    assert "Traceback" not in dry.output
