"""``dashpipe``: the command line. It parses and delegates; the work happens in the library."""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import click

from pipelines.errors import PipelineError
from pipelines.loading import build_task
from pipelines.outcome import ExitCode
from pipelines.report import print_progress, print_report
from pipelines.runner import configure_logging, run_tasks
from targets.errors import DashPipelineError

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """The one place project errors become one line on stderr and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PipelineError as exc:
            click.echo(f"dashpipe: error: {exc}", err=True)
            sys.exit(ExitCode.INVALID_PIPELINE)
        except DashPipelineError as exc:
            click.echo(f"dashpipe: error: {exc}", err=True)
            sys.exit(ExitCode.TASK_FAILED)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dash-pipeline")
def main() -> None:
    """dash-pipeline: a make system for data, built on luigi.

    Each step declares its outputs (local paths, s3://, gs://, ...). A run
    builds what is missing and skips what is done.

    \b
    Exit codes: 0 all done, 1 a task failed, 2 bad usage,
    3 an external input is missing, 4 invalid pipeline, task or parameter.
    """


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    short_help="Build a task and everything it needs.",
)
@click.argument("task_spec", metavar="MODULE:TASK")
@click.option(
    "-j",
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Tasks to run in parallel.",
)
@click.option("-v", "--verbose", count=True, help="Show luigi's log (-v) or debug log (-vv), and tracebacks.")
@click.pass_context
@reports_errors
def run(ctx: click.Context, task_spec: str, workers: int, verbose: int) -> None:
    """Build MODULE:TASK and the tasks it requires; finished tasks are skipped.

    MODULE is a dotted module name importable from the current directory, or a
    path to a .py file. Task parameters follow as --name value (dashes or
    underscores), --flag / --no-flag for booleans. Write --name=VALUE when a
    value starts with '-'. Parameters after a lone -- are all the task's, even
    one named like an option of dashpipe (--workers, --verbose, --help).

    \b
    Example:
      dashpipe run examples/sales/pipeline.py:SalesReport --date 2026-11-24
    """
    task = build_task(task_spec, ctx.args)
    configure_logging(verbose)
    report = run_tasks([task], workers=workers, progress=print_progress)
    print_report(report, verbose=verbose)
    sys.exit(report.exit_code)


def entry() -> None:
    """Console-script entry point; an unexpected crash still ends with one line unless -v."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # a bug in dash-pipeline, not a user mistake
        if "-v" in sys.argv or "--verbose" in sys.argv or "-vv" in sys.argv:
            traceback.print_exc()
        click.echo(
            f"dashpipe: internal error: {type(exc).__name__}: {exc} (rerun with -v for details)", err=True
        )
        sys.exit(70)
