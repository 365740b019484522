"""What a build on S3 asks the store, counted in moto_server's own access log: no request to
check what the assessment already saw or what an upload just answered, and a task whose input
is gone when its turn comes still fails naming it."""

from __future__ import annotations

import collections
import json
import uuid
from pathlib import Path

import fsspec
import pytest

from pipelines import ExitCode
from tests.helpers import run_cli
from tests.servers import AccessLog, Server

LEAVES = 20

TASKS = """
import luigi

from pipelines import Task
from targets import FileTarget


class Leaf(Task):
    root = luigi.Parameter()
    i = luigi.IntParameter()

    def output(self):
        return FileTarget(f"{self.root}/leaves/{self.i:03d}.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write(f"leaf {self.i}")


class Gather(Task):
    root = luigi.Parameter()
    n = luigi.IntParameter()

    def requires(self):
        return [Leaf(root=self.root, i=i) for i in range(self.n)]

    def output(self):
        return FileTarget(f"{self.root}/gathered.txt")

    def run(self):  # reads nothing: every request counted is dash-pipeline's
        with self.output().open("w") as out:
            out.write(str(len(self.input())))
"""


def requests_since(log: AccessLog, bucket: str) -> collections.Counter[str]:
    """The requests about ``bucket`` logged since ``log`` was made, by method."""
    return collections.Counter(method for method, path in log.since() if bucket in path)


@pytest.fixture
def bucket(s3_server: Server) -> str:
    name = f"t-{uuid.uuid4().hex[:12]}"
    fsspec.filesystem("s3", endpoint_url=s3_server.url, skip_instance_cache=True).mkdir(name)
    return name


def test_a_first_build_uploads_outputs_and_records_and_asks_almost_nothing(
    s3_server: Server, bucket: str, tmp_path: Path
) -> None:
    (tmp_path / "gather.py").write_text(TASKS)
    config = f"[s3]\nendpoint_url = {s3_server.url}\n"
    args = ["gather.py:Gather", "--root", f"s3://{bucket}/out", "--n", str(LEAVES)]
    log = AccessLog(s3_server)
    result = run_cli("run", *args, cwd=tmp_path, config=config)
    assert result.exit_code == ExitCode.OK, result.output
    made = requests_since(log, bucket)
    tasks = LEAVES + 1
    # luigi alone asks about each output three times (HEAD), once more on a miss (LIST).
    assert made["HEAD"] == 0, made
    # An output and a record a task; a build journal a directory; the run's journal, written once
    # by a run this short.
    assert made["PUT"] == 2 * tasks + 2 + 1, made
    # Listings only, a few per directory (the assessment's, the fan-in's inputs, the journals'):
    # none per task.
    assert made["GET"] < tasks, made
    fs = fsspec.filesystem("s3", endpoint_url=s3_server.url, skip_instance_cache=True)
    assert fs.cat(f"{bucket}/out/gathered.txt").decode() == str(LEAVES)
    assert fs.cat(f"{bucket}/out/leaves/007.txt").decode() == "leaf 7"
    status = run_cli("status", *args, "--json", cwd=tmp_path, config=config)
    states = {task["state"] for task in json.loads(status.stdout)["tasks"]}
    assert states == {"up to date"}, status.output


def test_an_input_removed_before_its_reader_runs_fails_it_naming_the_input(
    s3_server: Server, bucket: str, tmp_path: Path
) -> None:
    (tmp_path / "gather.py").write_text(
        TASKS
        + """

class Vanishing(Leaf):
    def run(self):
        super().run()
        if self.i == 3:  # gone again before the fan-in runs, as if another process removed it
            location = self.output().location
            location.fs.rm_file(location.path)


class GatherVanishing(Gather):
    def requires(self):
        return [Vanishing(root=self.root, i=i) for i in range(self.n)]
"""
    )
    config = f"[s3]\nendpoint_url = {s3_server.url}\n"
    args = ["gather.py:GatherVanishing", "--root", f"s3://{bucket}/out", "--n", str(LEAVES)]
    result = run_cli("run", *args, cwd=tmp_path, config=config)
    assert result.exit_code == ExitCode.TASK_FAILED, result.output
    assert "21 tasks: 20 ran, 1 failed" in result.output, result.output
    assert (
        f"FAILED  GatherVanishing(root=s3://{bucket}/out, n={LEAVES})" in result.output
        and "Unfulfilled dependency at run time: Vanishing_3_" in result.output
        and f"(s3://{bucket}/out/leaves/003.txt)" in result.output
    ), result.output
