"""Base classes for pipeline steps."""

from __future__ import annotations

import importlib
import logging
from typing import Any

import luigi
import luigi.worker
from luigi.parameter import ParameterVisibility
from luigi.task import flatten
from luigi.task_register import Register, TaskClassException

from pipelines.errors import TaskNotLoadable
from targets import BaseTarget, target_for_url
from targets.storage import redact

logger = logging.getLogger("dashpipe")


class Task(luigi.Task):
    """A luigi Task with helpers for dash-pipeline targets.

    Any ``luigi.Task`` runs under dash-pipeline; deriving from this one adds the
    helpers below and is where later features (build records, staleness) hook in.
    """

    def output_targets(self) -> list[luigi.Target]:
        """Every target of ``output()``, flattened from dicts, lists and tuples."""
        return flatten(self.output())

    def input_targets(self) -> list[luigi.Target]:
        """Every target of ``input()``, flattened."""
        return flatten(self.input())

    @staticmethod
    def target(url: str, type: str | None = None, **options: Any) -> BaseTarget:
        """The target for ``url``, chosen by ``type`` or by the URL's scheme."""
        return target_for_url(url, type=type, **options)

    @classmethod
    def get_param_values(cls, params: Any, args: Any, kwargs: Any) -> list[tuple[str, Any]]:
        # luigi resolves the same arguments twice per new task, once to look up its instance
        # cache and once in __init__; the second time is served from the first. Only a call for
        # this class's own parameters may be: luigi.util.common_params asks with a subset, and
        # with another class's parameters, and must get luigi's answer. The parameter list is the
        # one luigi_internals caches; without that cache installed, luigi answers every time.
        own = cls.__dict__.get("_dashpipe_params")
        if (
            own is None
            or len(params) != len(own)
            or any(mine is not theirs for mine, theirs in zip(own, params, strict=True))
        ):
            return super().get_param_values(params, args, kwargs)
        try:
            key = (tuple(args), tuple(sorted(kwargs.items())))
            hash(key)
        except TypeError:
            return super().get_param_values(params, args, kwargs)
        last = cls.__dict__.get("_dashpipe_last_values")
        if last is not None and last[0] == key:
            return list(last[1])
        values = super().get_param_values(params, args, kwargs)
        type.__setattr__(cls, "_dashpipe_last_values", (key, values))
        return list(values)


class External(luigi.ExternalTask):
    """An input the pipeline reads but does not build, such as a file another system drops.

    It is complete when the target at ``url`` exists; a run waiting on a missing
    one ends with the "missing input" exit code instead of running anything
    downstream. ``fallbacks`` are URLs tried in order when ``url`` is missing (a
    mirror bucket, yesterday's file); the first that exists stands in for it, and
    the run says so.
    """

    url: luigi.Parameter[str] = luigi.Parameter(description="URL of the input")
    type: luigi.OptionalParameter = luigi.OptionalParameter(
        default=None, description="target type; default: by URL scheme"
    )
    fallbacks: luigi.ListParameter[tuple[str, ...]] = luigi.ListParameter(
        default=(), description="URLs tried in order when url is missing"
    )
    # Storage options may carry credentials: they never name the task nor show anywhere.
    options: luigi.DictParameter[dict[str, Any]] = luigi.DictParameter(
        default={}, significant=False, visibility=ParameterVisibility.PRIVATE
    )
    _chosen: tuple[str, BaseTarget] | None = None  # (URL, target) of the first that exists

    def output(self) -> BaseTarget:
        if not self.fallbacks:
            return self._target(self.url)
        # Chosen once per run, when first found: every reader of this input sees the same file.
        if self._chosen is None:
            self._chosen = self._first_existing()
        if self._chosen is None:
            return self._target(self.url)  # none there: reported as the primary URL
        return self._chosen[1]

    @property
    def fallback_used(self) -> str | None:
        """The fallback URL (passwords masked) standing in for a missing ``url``, once chosen."""
        if self._chosen is None or self._chosen[0] == self.url:
            return None
        return redact(self._chosen[0])

    def _first_existing(self) -> tuple[str, BaseTarget] | None:
        for position, url in enumerate((self.url, *self.fallbacks)):
            target = self._target(url)
            if target.exists():
                if position:
                    logger.warning("input %s is missing; using fallback %s", redact(self.url), redact(url))
                return url, target
        return None

    def _target(self, url: str) -> BaseTarget:
        return target_for_url(url, type=self.type, **self.resolved_options())

    def resolved_options(self) -> dict[str, Any]:
        """The storage options for the target; subclasses may resolve references in them."""
        return dict(self.options)


def _unregister(*classes: type[luigi.Task]) -> None:
    """Take our base classes out of luigi's registry of task names.

    luigi finds a task class by family name in ``Register._reg``; there ours, named ``Task`` and
    ``External``, would make a user's own un-namespaced ``Task`` or ``External`` ambiguous, the
    way a second luigi.Task would. Subclasses register as usual.
    """
    Register._reg[:] = [registered for registered in Register._reg if registered not in classes]


_unregister(Task, External)


_luigi_load_task = luigi.worker.load_task  # luigi's own, whatever is installed later


def load_task_from_its_module(module: str | None, task_name: str, params_str: dict[str, str]) -> luigi.Task:
    """What a run() yielded, or what a central scheduler handed an assistant, rebuilt in the
    worker from (module, family, params) as luigi does, but looked up in that module first and
    in the registry of names only after.

    By name alone, our unregistered base classes are not found, and two modules' classes of one
    family are ambiguous (TaskClassAmbigiousException) though luigi was told which module. Any
    reason it cannot be rebuilt is a :class:`TaskNotLoadable`, which luigi's worker turns into a
    failure of that task instead of a crash of the worker.
    """
    try:
        return _load_task(module, task_name, params_str)
    except TaskNotLoadable:
        raise
    except TaskClassException as exc:  # luigi's: no such family registered, or two of them
        raise TaskNotLoadable(f"cannot load task {task_name}: {exc}") from None
    except (luigi.parameter.ParameterException, ValueError) as exc:  # missing, unknown, unparsable
        raise TaskNotLoadable(f"cannot rebuild task {task_name} from the parameters sent: {exc}") from None


def _load_task(module: str | None, task_name: str, params_str: dict[str, str]) -> luigi.Task:
    if module is not None:
        try:
            found_module = importlib.import_module(module)
        except Exception as exc:  # the user's module: anything at all can go wrong importing it
            raise TaskNotLoadable(
                f"cannot load task {task_name}: importing its module {module!r} failed: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        candidates = [
            value
            for value in vars(found_module).values()
            if isinstance(value, type) and issubclass(value, luigi.Task) and value.__module__ == module
        ]
        found = [candidate for candidate in candidates if candidate.get_task_family() == task_name]
        if len(found) == 1:
            return found[0].from_str_params(params_str)
    return _luigi_load_task(module, task_name, params_str)
