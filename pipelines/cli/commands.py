"""``dashpipe``: the command line. It parses and delegates; the work happens in the library."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import gc
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import luigi

from pipelines.assessment.errors import GraphInvalid
from pipelines.assessment.graph import build_graph
from pipelines.assessment.staleness import Assessment, Policy, assess
from pipelines.cli.backfill import backfill_goals
from pipelines.cli.dag_render import FORMATS, render
from pipelines.cli.history import recent_runs
from pipelines.cli.history_location import find_history
from pipelines.cli.listing import listing, listing_text
from pipelines.cli.scheduler import serve
from pipelines.cli.sources import load_sources, open_pipeline
from pipelines.cli.validation import valid_text, validate_source
from pipelines.common.family_clash import family_clashes
from pipelines.common.task_names import check_names
from pipelines.config import config_file
from pipelines.errors import ExitCode, PipelineError
from pipelines.execute import luigi_internals
from pipelines.execute.assistant import assist
from pipelines.execute.outcome import Outcome, RunReport, plan_exit_code
from pipelines.execute.runner import configure_logging
from pipelines.execute.scheduler_client import configured_scheduler_url
from pipelines.loading import UnknownParameter
from pipelines.report.status import (
    explain_text,
    forget_records,
    mark_fresh,
    status_json,
    status_text,
    verdict_line,
)
from pipelines.report.summary import LineDisplay, display, plan_json, print_plan, print_report, report_json
from pipelines.session import RunOptions, RunSession
from pipelines.yaml.errors import PipelineInvalid
from targets.errors import DashPipelineError

F = TypeVar("F", bound=Callable[..., Any])
PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True}


def reports_errors(command: F) -> F:
    """The one place project errors become a message on stderr and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DashPipelineError as exc:
            code = int(exc.exit_code)  # each error class says what it means for the exit code
            message = _with_own_options(exc)
            click.echo(f"dashpipe: error: {message}", err=True)
            settings = kwargs.get("settings")
            if kwargs.get("json_output") or getattr(settings, "json_output", False):
                # A program reading stdout still gets a document.
                document: dict[str, Any] = {"error": message, "exit_code": int(code)}
                if isinstance(exc, PipelineInvalid):
                    document["issues"] = [issue.as_dict() for issue in exc.issues]
                click.echo(json.dumps(document, indent=2))
            sys.exit(code)

    return wrapper  # type: ignore[return-value]


def _with_own_options(exc: DashPipelineError) -> str:
    """The error's message; an unknown parameter also gets a hint from the command's own options."""
    context = click.get_current_context(silent=True)
    if not isinstance(exc, UnknownParameter) or context is None:
        return str(exc)
    # Options the command does not know pass through to the pipeline as parameters.
    own = [name for param in context.command.params for name in param.opts if name.startswith("--")]
    return exc.describe(own)


@dataclass(frozen=True)
class RunSettings:
    """The options run and backfill share."""

    workers: int
    keep_going: bool
    dry_run: bool
    json_output: bool
    scheduler_url: str | None
    verbose: int
    existence_only: bool
    force_all: bool
    force: tuple[str, ...]
    rebuild_unrecorded: bool

    @property
    def policy(self) -> Policy:
        return Policy(self.force_all, frozenset(self.force), self.rebuild_unrecorded)


def _with_options(command: F, options: Sequence[Callable[[F], F]]) -> F:
    """Apply click options so that they list in the order given."""
    for option in reversed(options):
        command = option(command)
    return command


def staleness_options(command: F) -> F:
    """How to decide what is stale: shared by run, backfill and status."""
    options = [
        click.option("-B", "--force-all", is_flag=True, help="Rebuild everything, like make -B."),
        click.option(
            "--force",
            "force",
            metavar="STEP",
            multiple=True,
            help="Rebuild STEP (a YAML step or task family) and everything downstream. Repeatable.",
        ),
        click.option(
            "--rebuild-unrecorded",
            is_flag=True,
            help="Treat outputs without a build record (made by hand, or before dash-pipeline) as stale.",
        ),
    ]
    return _with_options(command, options)


def run_options(command: F) -> F:
    """Add the options run and backfill share; the command receives them as ``settings``."""

    @functools.wraps(command)
    def collect(*args: Any, **kwargs: Any) -> Any:
        names = [field.name for field in dataclasses.fields(RunSettings)]
        settings = RunSettings(**{name: kwargs.pop(name) for name in names})
        return command(*args, settings=settings, **kwargs)

    options = [
        click.option(
            "-j",
            "--workers",
            type=click.IntRange(min=1),
            default=1,
            show_default=True,
            help="Tasks to run in parallel.",
        ),
        click.option(
            "-k",
            "--keep-going",
            is_flag=True,
            help="After a failure, go on with every task that does not need the failed one.",
        ),
        click.option("-n", "--dry-run", is_flag=True, help="List what would run, in order, and run nothing."),
        click.option("--json", "json_output", is_flag=True, help="Print one JSON document instead of text."),
        click.option(
            "--scheduler",
            "scheduler_url",
            metavar="URL",
            help="Use the central scheduler (luigid) at URL instead of the embedded one.",
        ),
        click.option(
            "-v", "--verbose", count=True, help="Show luigi's log (-v) or debug log (-vv), and tracebacks."
        ),
        click.option(
            "--existence-only",
            is_flag=True,
            help="Plain luigi: a task is done when its outputs exist; nothing is checked for staleness.",
        ),
    ]
    return _with_options(staleness_options(collect), options)  # type: ignore[return-value]


def verbose_option(command: F) -> F:
    """``-v`` on the commands that do not run tasks: luigi's log, and tracebacks (see entry())."""

    @functools.wraps(command)
    def configure(*args: Any, verbose: int, **kwargs: Any) -> Any:
        configure_logging(verbose)
        return command(*args, **kwargs)

    option = click.option(
        "-v", "--verbose", count=True, help="Show luigi's log (-v) or debug log (-vv), and tracebacks."
    )
    return option(configure)  # type: ignore[return-value]


class PipelineCommand(click.Command):
    """A command whose usage line also shows the steps and parameters it passes to the pipeline."""

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        if self.context_settings.get("allow_extra_args"):  # PASS_THROUGH: the words after PIPELINE
            pieces.append(_WORDS_USAGE.get(self.name or "", "[STEP]... [--PARAM VALUE]..."))
        return pieces

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # One line: click would wrap it at 80 columns, between --PARAM and VALUE.
        formatter.write(f"Usage: {ctx.command_path} {' '.join(self.collect_usage_pieces(ctx))}\n")


# The pass-through commands that do not take any number of STEPs.
_WORDS_USAGE = {"explain": "STEP [--PARAM VALUE]...", "validate": "[--PARAM VALUE]..."}


class DashpipeGroup(click.Group):
    command_class = PipelineCommand


@click.group(cls=DashpipeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dash-pipeline")
@reports_errors
def main() -> None:
    """dash-pipeline: a make system for data, built on luigi.

    Each step declares its outputs (local paths, s3://, gs://, ...). A run
    builds what is missing and skips what is done. PIPELINE is a YAML file
    (.yaml/.yml) or a Python luigi task as MODULE:TASK.

    \b
    Exit codes: 0 all done, 1 a task failed, 2 bad usage,
    3 an external input is missing, 4 invalid pipeline, task or parameter,
    5 the scheduler failed, 6 (run -n, status --check) something would run.
    """
    config_file.check()  # a luigi.cfg mistake is one error naming file:line and key, before any work
    luigi_internals.install()  # this process is dashpipe's: the luigi replacements its commands need


def _execute(goals: list[luigi.Task], settings: RunSettings, title: str) -> RunReport | None:
    """A run as pipelines.session makes it, with what the terminal or --json shows between its steps."""
    configure_logging(settings.verbose)
    json_output = settings.json_output
    options = RunOptions(
        settings.workers,
        settings.keep_going,
        settings.scheduler_url,
        settings.policy,
        settings.existence_only,
        title,
    )
    session = RunSession(goals, options)
    session.assess()
    if settings.dry_run:
        result, reasons, eta = session.plan(), session.reasons(), session.estimate()
        click.echo(plan_json(result, reasons, eta)) if json_output else print_plan(result, reasons, eta)
        sys.exit(plan_exit_code(result))
    if not json_output:
        for verdict in session.announced():
            click.echo(verdict_line(verdict))
    for problem in session.problems_before():
        click.echo(f"dashpipe: warning: {problem}", err=True)
    observer = display(json_output)

    def quiet_stdout() -> contextlib.AbstractContextManager:
        # With --json, stdout carries one document: whatever tasks and hooks print goes to stderr.
        return contextlib.redirect_stdout(sys.stderr) if json_output else contextlib.nullcontext()

    try:
        with quiet_stdout():
            report = session.execute(observer)
    finally:
        if hasattr(observer, "close"):
            observer.close()
    if json_output:
        click.echo(report_json(report))
    else:
        print_report(report, verbose=settings.verbose)
    with quiet_stdout():
        warnings = session.finish(report)
    for warning in warnings:
        click.echo(f"dashpipe: warning: {warning}", err=True)
    return report


@main.command(context_settings=PASS_THROUGH, short_help="Build a pipeline's goals and everything they need.")
@click.argument("pipeline")
@run_options
@click.pass_context
@reports_errors
def run(ctx: click.Context, pipeline: str, settings: RunSettings) -> None:
    """Build PIPELINE's goals and what they need; finished tasks are skipped.

    \b
    dashpipe run PIPELINE [STEP ...] [--PARAM VALUE ...] [-j N] [-k] [-n]

    PIPELINE is a YAML file (.yaml/.yml) or a Python luigi task as
    MODULE:TASK. For a YAML pipeline, the STEPs named are the goals (default:
    every final step). Parameters follow as --name value (dashes or
    underscores), --flag / --no-flag for booleans; write --name=VALUE when a
    value starts with '-'.
    Words after a lone -- are all parameters, even one named like an option of
    dashpipe. A Python task's module is a dotted name importable from the
    current directory, or a path to a .py file.

    \b
    Examples:
      dashpipe run examples/sales/pipeline.yaml --date 2026-11-24
      dashpipe run examples/sales/pipeline.yaml totals --date 2026-11-24 -n
      dashpipe run examples/sales/pipeline.py:SalesReport --date 2026-11-24 -j 2
    """
    goals = open_pipeline(pipeline).tasks(ctx.args)
    report = _execute(goals, settings, pipeline)
    sys.exit(report.exit_code if report else ExitCode.OK)


@main.command(context_settings=PASS_THROUGH, short_help="Run a pipeline for every date in a range.")
@click.argument("pipeline")
@click.option(
    "--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First date, YYYY-MM-DD."
)
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last date, included.")
@click.option("--param", "param", metavar="NAME", help="The date parameter to vary (default: the only one).")
@run_options
@click.pass_context
@reports_errors
def backfill(
    ctx: click.Context,
    pipeline: str,
    start: dt.datetime,
    end: dt.datetime,
    param: str | None,
    settings: RunSettings,
) -> None:
    """Build PIPELINE for every date from --from to --to as one scheduled graph.

    Dates already built are skipped; shared upstream tasks run once. Steps
    and other parameters are given as for run.

    \b
    Example:
      dashpipe backfill examples/sales/pipeline.yaml --from 2026-11-18 --to 2026-11-24 -j 2
    """
    source = open_pipeline(pipeline)
    name, per_day = backfill_goals(source, ctx.args, start.date(), end.date(), param)
    goals = [task for tasks in per_day.values() for task in tasks]
    report = _execute(goals, settings, f"{pipeline} backfill")
    if report and not settings.json_output:
        outcome = {task.task.task_id: task.outcome for task in report.tasks}
        built_before = sum(
            all(outcome.get(t.task_id) is Outcome.UP_TO_DATE for t in tasks) for tasks in per_day.values()
        )
        done = sum(
            all(outcome.get(t.task_id) in (Outcome.RAN, Outcome.UP_TO_DATE) for t in tasks)
            for tasks in per_day.values()
        )
        click.echo(
            f"{len(per_day)} dates of --{name.replace('_', '-')}: {built_before} already built, "
            f"{done - built_before} built now, {len(per_day) - done} not complete"
        )
    sys.exit(report.exit_code if report else ExitCode.OK)


@main.command(context_settings=PASS_THROUGH, short_help="Keep a pipeline built as its inputs change.")
@click.argument("pipeline")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=5.0,
    show_default=True,
    help="Seconds between looks at the inputs (a local file's change wakes the watcher at once).",
)
@click.option(
    "--settle",
    type=click.FloatRange(min=0),
    default=2.0,
    show_default=True,
    help="Seconds a changed input must stay unchanged before it counts (a file still being written).",
)
@click.option("--once", is_flag=True, help="Run one pass and exit with its exit code.")
@click.option("--cron", metavar="EXPR", help="Also run on this schedule (5 fields, or 6 with seconds last).")
@click.option("--timezone", help="The timezone the schedule is read in (default: the YAML's, else UTC).")
@click.option(
    "--catchup",
    type=click.IntRange(0, 1000),
    help="Slots that came due while no watcher ran, built on the first pass (default: the YAML's, else 1).",
)
@click.option("--slot-param", metavar="NAME", help="The date parameter a slot fills (default: the only one).")
@click.option(
    "--sqs-queue",
    metavar="URL",
    help="Also wake on S3 event notifications from this SQS queue (its own: messages are deleted).",
)
@run_options
@click.pass_context
@reports_errors
def watch(
    ctx: click.Context,
    pipeline: str,
    interval: float,
    settle: float,
    once: bool,
    cron: str | None,
    timezone: str | None,
    catchup: int | None,
    slot_param: str | None,
    sqs_queue: str | None,
    settings: RunSettings,
) -> None:
    """Keep PIPELINE's goals built: run what is stale now, then again each time an external input
    appears or changes, until stopped. Each pass is a normal run (report, records, journal,
    notifications); a failed one is reported and the watcher goes on. Local inputs are watched
    through the OS's notifications, every other storage by polling with one listing per
    directory. SIGTERM or Ctrl-C stops it after the running tasks finish (twice: at once).

    \b
    On a schedule (--cron, or a YAML pipeline's schedule:) each slot's time fills the pipeline's
    date parameter (--slot-param), each slot that comes due runs, and after downtime the last
    --catchup slots missed are built first. A YAML pipeline's after: names pipelines whose
    outputs changing runs this one's stale steps too.

    \b
    Examples:
      dashpipe watch examples/sales/pipeline.yaml --date 2026-11-24 --interval 10
      dashpipe watch examples/sales/pipeline.yaml --cron '0 6 * * *' --timezone Europe/Berlin
    """
    from pipelines.cli.watch_setup import WatchPlan  # only this command needs them
    from pipelines.triggers.status_line import StatusLine
    from pipelines.triggers.watch_lock import WatchLock
    from pipelines.triggers.watcher import Watcher, stopping_on_signals

    if settings.dry_run and not once:
        raise click.UsageError("-n/--dry-run runs nothing to watch for: give --once with it")
    plan = WatchPlan(open_pipeline(pipeline), ctx.args, cron, timezone, catchup, slot_param)
    events = None
    if sqs_queue and not once:
        from pipelines.triggers.sqs_events import SqsEvents

        events = SqsEvents(sqs_queue)
        events.check()

    def one_pass() -> int:
        goals = plan.goals()
        if not goals:
            return ExitCode.OK  # no slot has come due yet
        try:
            report = _execute(goals, settings, f"{pipeline} watch")
        except DashPipelineError as exc:  # this pass could not run; the next change may fix it
            click.echo(f"dashpipe: error: {exc}", err=True)
            return int(exc.exit_code)
        return int(report.exit_code) if report else ExitCode.OK

    if once:
        sys.exit(one_pass())
    with WatchLock(json.dumps([os.path.abspath(pipeline), plan.identity]), pipeline):
        watcher = Watcher(
            plan.watched,
            one_pass,
            interval,
            settle,
            status=StatusLine(),
            next_slot=plan.next_slot,
            wakers=[events.listen] if events else [],
        )
        with stopping_on_signals(watcher):
            sys.exit(watcher.forever())


@main.command(context_settings=PASS_THROUGH, short_help="Check a pipeline without running anything.")
@click.argument("pipeline")
@click.option("--json", "json_output", is_flag=True, help="Print the result as JSON.")
@click.pass_context
@verbose_option
@reports_errors
def validate(ctx: click.Context, pipeline: str, json_output: bool) -> None:
    """Check PIPELINE: YAML syntax, keys, types, references, cycles, templates, imports.

    For a Python task: its whole graph, every task's requires() and output(),
    for the parameters given (a sample value for each one left out). Every
    problem is reported at once, with its file and line.
    """
    try:
        source = open_pipeline(pipeline)
    except PipelineInvalid as exc:
        if not json_output:
            raise
        click.echo(
            json.dumps({"valid": False, "issues": [issue.as_dict() for issue in exc.issues]}, indent=2)
        )
        sys.exit(ExitCode.INVALID_PIPELINE)
    document, problems = validate_source(source, ctx.args)
    if problems and not json_output:
        raise GraphInvalid(source.name, problems)
    if not problems:
        for clash in family_clashes():
            click.echo(f"dashpipe: warning: {clash}", err=True)
    click.echo(json.dumps(document, indent=2) if json_output else valid_text(document))
    if problems:
        sys.exit(ExitCode.INVALID_PIPELINE)


@main.command("list", context_settings=PASS_THROUGH, short_help="List steps with their inputs and outputs.")
@click.argument("pipeline")
@click.option("--json", "json_output", is_flag=True, help="Print the listing as JSON.")
@click.pass_context
@verbose_option
@reports_errors
def list_(ctx: click.Context, pipeline: str, json_output: bool) -> None:
    """List PIPELINE's steps (or the STEPs named), inputs and outputs.

    For a Python task: its whole graph, for the parameters given.
    """
    data = listing(open_pipeline(pipeline), ctx.args)
    click.echo(json.dumps(data, indent=2) if json_output else listing_text(data))


@main.command(context_settings=PASS_THROUGH, short_help="Show the task graph.")
@click.argument("pipeline")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text is a tree; dot is Graphviz; mermaid renders in Markdown; json for programs.",
)
@click.pass_context
@verbose_option
@reports_errors
def dag(ctx: click.Context, pipeline: str, fmt: str) -> None:
    """Show the graph of tasks PIPELINE's goals need, for the parameters given.

    \b
    Example:
      dashpipe dag examples/sales/pipeline.yaml --date 2026-11-24 --format mermaid
    """
    click.echo(render(build_graph(open_pipeline(pipeline).tasks(ctx.args)), fmt))


def _check_names(names: Iterable[str], assessment: Assessment, what: str) -> None:
    check_names(names, (verdict.task.get_task_family() for verdict in assessment.verdicts.values()), what)


def _assessment_for(pipeline: str, words: list[str], policy: Policy) -> tuple[Any, frozenset[str]]:
    """Assess the whole pipeline for the parameters given; bare words name steps to select."""
    source = open_pipeline(pipeline)
    steps, values = source.parse(words)
    assessment = assess(source.goals([], values), policy)
    _check_names(steps, assessment, f"{source.name}:")
    return assessment, frozenset(steps)


@main.command(context_settings=PASS_THROUGH, short_help="What is up to date, what is stale, and why.")
@click.argument("pipeline")
@click.option("--json", "json_output", is_flag=True, help="Print the result as JSON.")
@click.option("-a", "--all", "show_all", is_flag=True, help="List up-to-date tasks too.")
@click.option(
    "--check",
    is_flag=True,
    help="Exit 6 if anything would rebuild, 3 if a missing input blocks it, 0 only if all is up to date.",
)
@staleness_options
@click.pass_context
@verbose_option
@reports_errors
def status(
    ctx: click.Context,
    pipeline: str,
    json_output: bool,
    show_all: bool,
    check: bool,
    force_all: bool,
    force: tuple[str, ...],
    rebuild_unrecorded: bool,
) -> None:
    """Each task of PIPELINE that is stale, missing or without a record (-a: every task), with one
    root cause per task that would rebuild and a footer counting the reasons. Nothing runs.

    \b
    Example:
      dashpipe status examples/sales/pipeline.yaml --date 2026-11-24
    """
    goals = open_pipeline(pipeline).tasks(ctx.args)
    assessment = assess(goals, Policy(force_all, frozenset(force), rebuild_unrecorded))
    _check_names(force, assessment, "--force")
    families = {verdict.task.get_task_family() for verdict in assessment.verdicts.values()}
    for clash in family_clashes(families):
        click.echo(f"dashpipe: warning: {clash}", err=True)
    click.echo(status_json(assessment) if json_output else status_text(assessment, show_all))
    if check:
        sys.exit(plan_exit_code(assessment.plan()))


@main.command(context_settings=PASS_THROUGH, short_help="The whole reasoning for one step.")
@click.argument("pipeline")
@click.pass_context
@verbose_option
@reports_errors
def explain(ctx: click.Context, pipeline: str) -> None:
    """Why a STEP of PIPELINE would or would not rebuild: its record, every difference, what it needs.

    \b
    dashpipe explain PIPELINE STEP [--PARAM VALUE ...]
    """
    assessment, steps = _assessment_for(pipeline, ctx.args, Policy())
    if len(steps) != 1:
        raise PipelineError("explain needs exactly one STEP (a YAML step or a task family)")
    (step,) = steps
    matches = [
        v
        for v in assessment.verdicts.values()
        if step in (v.task.get_task_family(), v.task.get_task_family().rsplit(".", 1)[-1])
    ]
    click.echo("\n\n".join(explain_text(assessment, verdict) for verdict in matches))


@main.command("mark-fresh", context_settings=PASS_THROUGH, short_help="Record current outputs as up to date.")
@click.argument("pipeline")
@click.pass_context
@verbose_option
@reports_errors
def mark_fresh_(ctx: click.Context, pipeline: str) -> None:
    """Record the outputs of PIPELINE's steps (or of the STEPs named) as up to date, without running,
    like snakemake --touch or dvc commit."""
    assessment, steps = _assessment_for(pipeline, ctx.args, Policy())
    recorded, skipped = mark_fresh(assessment, steps)
    for line in skipped:
        click.echo(f"skipped {line}", err=True)
    click.echo(f"recorded {recorded} task{'s' if recorded != 1 else ''} as up to date")


@main.command(context_settings=PASS_THROUGH, short_help="Drop build records.")
@click.argument("pipeline")
@click.pass_context
@verbose_option
@reports_errors
def forget(ctx: click.Context, pipeline: str) -> None:
    """Drop the build records of PIPELINE's steps (or of the STEPs named); outputs stay."""
    assessment, steps = _assessment_for(pipeline, ctx.args, Policy())
    dropped = forget_records(assessment, steps)
    click.echo(f"forgot {dropped} build record{'s' if dropped != 1 else ''}")


@main.command(short_help="Start the central scheduler (luigid) for a team.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on; luigid has no authentication, so loopback unless you front it.",
)
@click.option(
    "--port", default=8082, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on."
)
@click.option(
    "--state-dir",
    default=".dashpipe/scheduler",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Where the scheduler keeps its state across restarts.",
)
@verbose_option
@reports_errors
def scheduler(host: str, port: int, state_dir: Path) -> None:
    """Run luigi's central scheduler in the foreground, configured for dash-pipeline.

    It prints its URL on startup. Runs started with --scheduler http://HOST:PORT
    (or [core] default-scheduler-url in luigi.cfg) share it: each task runs once
    across all of them, and http://HOST:PORT shows what is happening. It notes
    where its task history is in $XDG_STATE_HOME/dashpipe/scheduler.json
    (default ~/.local/state), where `dashpipe history` finds it.
    """
    serve(host, port, state_dir)


@main.command("worker", short_help="Build tasks any run scheduled on a central scheduler.")
@click.argument("sources", nargs=-1, metavar="[SOURCE ...]")
@click.option(
    "--scheduler",
    "scheduler_url",
    metavar="URL",
    help="The central scheduler to take tasks from; default [core] default-scheduler-url in luigi.cfg.",
)
@click.option(
    "-j", "--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Tasks to run at once."
)
@verbose_option
@reports_errors
def worker(sources: tuple[str, ...], scheduler_url: str | None, workers: int) -> None:
    """Help a central scheduler: take the pending tasks of every run that uses it, and build them.

    Each SOURCE is a YAML pipeline file, a Python module (dotted, or a .py
    file; MODULE:TASK works too) whose tasks this worker may be handed:
    luigi rebuilds a task from its module, family and parameters, so its
    code must be importable here. Tasks of installed packages need no SOURCE.
    Start workers where the runs' luigi.cfg and credentials are, with
    outputs that every machine reaches (S3, GCS, a shared disk).

    It runs until stopped: Ctrl-C or SIGTERM stops running tasks (they
    stay stale and are built again), SIGUSR1 lets them finish first.

    \b
    Example:
      dashpipe worker --scheduler http://scheduler:8082 examples/sales/pipeline.yaml -j 4
    """
    url = scheduler_url or configured_scheduler_url()
    if not url:
        raise click.UsageError("give --scheduler URL, or set [core] default-scheduler-url in luigi.cfg")
    for loaded in load_sources(sources):
        click.echo(f"dashpipe worker: can build the tasks of {loaded}", err=True)
    observer = LineDisplay()
    click.echo(f"dashpipe worker: taking tasks from {url}, up to {workers} at once", err=True)
    try:
        assist(url, workers, observer)
    except KeyboardInterrupt:
        sys.exit(130)
    click.echo("dashpipe worker: stopped after its running tasks finished", err=True)


@main.command(
    context_settings=PASS_THROUGH, short_help="Watch a pipeline in the browser: states, runs, live."
)
@click.argument("pipeline")
@click.option(
    "--scheduler",
    "scheduler_url",
    metavar="URL",
    help="A central scheduler to ask what is running; default [core] default-scheduler-url in luigi.cfg.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8050, show_default=True, help="0 picks a free port."
)
@click.option(
    "-j",
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Workers a rebuild would have, for its time estimate.",
)
@click.pass_context
@verbose_option
@reports_errors
def dashboard(
    ctx: click.Context, pipeline: str, scheduler_url: str | None, host: str, port: int, workers: int
) -> None:
    """Serve a read-only dashboard of PIPELINE: the task graph coloured by state (the verdicts of
    `status`), each task's explanation, outputs and log, every run as a timeline, the run in
    progress, and trends. It runs nothing and changes nothing. Parameters follow as for run.

    \b
    Example:
      dashpipe dashboard examples/sales/pipeline.yaml --date 2026-11-24
    """
    from pipelines.dashboard.monitor import Monitor  # Dash and plotly load only for this command
    from pipelines.dashboard.serve import serve as serve_dashboard

    goals = open_pipeline(pipeline).tasks(ctx.args)
    url = scheduler_url or configured_scheduler_url()
    serve_dashboard(Monitor(goals, pipeline, url), host, port, workers)


@main.command(short_help="Recent task runs from the central scheduler's history.")
@click.argument("task_filter", required=False, metavar="[TASKS]")
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    help="The history database (an SQLAlchemy URL); default [task_history] db_connection in "
    "luigi.cfg, else the one the last `dashpipe scheduler` you started keeps.",
)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    help="Read the history of the scheduler started with this --state-dir.",
)
@click.option(
    "-n", "--limit", default=50, show_default=True, type=click.IntRange(1, 10_000), help="How many task runs."
)
@click.option("--json", "json_output", is_flag=True, help="Print the runs as JSON.")
@verbose_option
@reports_errors
def history(
    task_filter: str | None, db_url: str | None, state_dir: Path | None, limit: int, json_output: bool
) -> None:
    """Recent task runs, newest first: outcome, start, duration, host.

    TASKS, case-sensitive, is a task family (SalesReport), a YAML pipeline's
    name for all of its steps (sales), or a glob of families (sales.*, Sales*;
    quote it from the shell).
    """
    if db_url and state_dir:
        raise click.UsageError("give --db or --state-dir, not both")
    runs = recent_runs(find_history(db_url, state_dir), task_filter, limit)
    if json_output:
        click.echo(json.dumps(runs, indent=2))
        return
    for run in runs:
        params = ", ".join(f"{name}={value}" for name, value in sorted(run["params"].items()))
        seconds = f"{run['seconds']:.2f}s" if run["seconds"] is not None else "-"
        click.echo(
            f"{run['started'] or '-':19}  {run['outcome'] or '-':>8}  {seconds:>9}  "
            f"{run['task']}({params})  on {run['host'] or '?'}"
        )
    if not runs:
        click.echo(f"no task runs of {task_filter!r} recorded" if task_filter else "no task runs recorded")


def entry() -> None:
    """Console-script entry point; an unexpected crash still ends with one line unless -v."""
    # Checking a big pipeline builds tens of thousands of long-lived small objects, which
    # the cyclic collector would re-scan over and over (a tenth of a big status). Collect
    # less often, not never: a long run of user code still gets its garbage collected.
    gc.set_threshold(50_000, 20, 20)
    try:
        main(standalone_mode=True)
    except SystemExit as exit_:
        _exit_now(exit_.code)
    except Exception as exc:  # a bug in dash-pipeline, not a user mistake
        if any(arg == "--verbose" or (arg.startswith("-v") and set(arg[1:]) == {"v"}) for arg in sys.argv):
            traceback.print_exc()
        click.echo(
            f"dashpipe: internal error: {type(exc).__name__}: {exc} (rerun with -v for details)", err=True
        )
        _exit_now(ExitCode.INTERNAL_ERROR)


def _exit_now(code: object) -> None:
    """Exit without tearing down every object one by one: all output is flushed, every file
    written was closed (targets commit on close), and luigi's workers have already finished."""
    if code is None:
        code = 0
    elif not isinstance(code, int):
        click.echo(str(code), err=True)
        code = 1
    mysql = sys.modules.get("targets.mysql")
    if mysql is not None:
        mysql.close_connections()  # say goodbye to the server rather than drop the socket
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
