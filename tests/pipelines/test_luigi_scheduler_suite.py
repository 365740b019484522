"""luigi's own scheduler tests, run against our schedulers: they keep luigi's semantics.

The tests come from the sdist of the luigi release installed (they are not in its wheel). They run
in subprocesses, once as luigi ships them, then with ``luigi.scheduler.Scheduler`` replaced by
:class:`~pipelines.execute.heap_scheduler.HeapScheduler` (the embedded one) and by
:class:`~pipelines.execute.central_scheduler.CentralScheduler` (``dashpipe scheduler``'s), and
the process-wide replacements of a dashpipe run installed; ours may fail only where luigi's
does (a test that needs a library we do not install, such as datadog).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import luigi
import pytest

# The scheduler's own tests, and the worker tests that depend on when it prunes. All of
# worker_test.py would add 90 s, worker_keep_alive_test.py 45 s.
SUITE = [
    "scheduler_api_test.py",
    "scheduler_test.py",
    "priority_test.py",
    "worker_test.py::WorkerEmailTest",
]

SWAP_PLUGIN = """
import luigi.scheduler

from pipelines.execute import luigi_internals
from pipelines.execute.{module} import {name}

luigi_internals.install()
luigi.scheduler.Scheduler = {name}
"""
SWAPS = {
    "embedded": ("heap_scheduler", "HeapScheduler"),
    "central": ("central_scheduler", "CentralScheduler"),
}


@pytest.fixture(scope="module")
def luigi_tests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """luigi's test/ folder, from the sdist of the installed release."""
    where = tmp_path_factory.mktemp("luigi-sdist")
    release = f"luigi=={luigi.__version__}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            release,
            "-d",
            str(where),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (archive,) = where.glob("luigi-*.tar.gz")
    with tarfile.open(archive) as sdist:
        members = [m for m in sdist.getmembers() if m.name.split("/")[1:2] == ["test"]]
        sdist.extractall(where, members=members, filter="data")
    for label, (module, name) in SWAPS.items():
        (where / f"swap_{label}.py").write_text(SWAP_PLUGIN.format(module=module, name=name))
    return where / archive.name.removesuffix(".tar.gz")


def start(root: Path, label: str, *extra: str) -> tuple[subprocess.Popen[str], Path]:
    """The tests of SUITE, started in a new process from ``root``; their report goes to the path."""
    report = root / f"{label}.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", "/dev/null"]
    command += ["--rootdir", str(root), "--timeout", "120", f"--junitxml={report}", *extra]
    command += [f"test/{name}" for name in SUITE]
    environment = {**_environment(), "PYTHONPATH": str(root.parent)}
    process = subprocess.Popen(
        command, cwd=root, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return process, report


def failures(process: subprocess.Popen[str], report: Path) -> set[str]:
    """The tests that failed (or erred) in a run :func:`start` began."""
    output, _ = process.communicate(timeout=900)
    assert report.is_file(), output[-3000:]
    cases = list(ElementTree.parse(report).getroot().iter("testcase"))
    assert len(cases) > 240, f"only {len(cases)} of luigi's tests ran"
    return {
        f"{case.get('classname')}.{case.get('name')}"
        for case in cases
        if case.find("failure") is not None or case.find("error") is not None
    }


def _environment() -> dict[str, str]:
    # luigi's tests read a luigi.cfg from the working directory (none there) and the environment.
    return {key: value for key, value in os.environ.items() if not key.startswith("LUIGI_CONFIG")}


@pytest.mark.timeout(1200)
def test_our_schedulers_pass_luigis_scheduler_tests(luigi_tests: Path) -> None:
    # One after the other: some of luigi's tests time real runs, and fail on a busy machine.
    as_shipped = failures(*start(luigi_tests, "luigi"))
    for label in SWAPS:
        swapped = failures(*start(luigi_tests, label, "-p", f"swap_{label}"))
        assert swapped - as_shipped == set(), label
