"""Validate a YAML pipeline and build its :class:`PipelineSpec`, reporting every problem at once."""

from __future__ import annotations

import difflib
import functools
import importlib
import json
import math
import os
import re
import types
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast, overload

import targets
from pipelines.common import hooks
from pipelines.common.callables import accepts_keyword, signature_problems
from pipelines.common.suggest import did_you_mean
from pipelines.common.value_words import kind_and_value
from pipelines.errors import PipelineError, TaskLoadError
from pipelines.loading import load_task_class, make_importable_from, relative_task_reference
from pipelines.task import Task
from pipelines.yaml import source, watch_keys
from pipelines.yaml.errors import PipelineInvalid
from pipelines.yaml.issues import Issue, dotted
from pipelines.yaml.params import default_problem, luigi_parameter
from pipelines.yaml.spec import (
    PARAM_TYPES,
    SAMPLE_VALUES,
    STEP_ATTRIBUTES,
    InputSpec,
    OutputSpec,
    ParamSpec,
    PipelineSpec,
    StepSpec,
)
from pipelines.yaml.templates import ENV_REFERENCE, env_names, placeholders, quoted_placeholders, render
from targets import FileTarget, TargetError
from targets.registry import type_for_url

RESERVED_NAMES = frozenset(name for name in dir(Task) if not name.startswith("__")) | STEP_ATTRIBUTES
SCHEMA_PATH = Path(__file__).with_name("pipeline.schema.json")
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.cache
def _schema_validator() -> Any:
    import jsonschema  # a few hundredths of a second: only once a YAML file is read

    return jsonschema.Draft202012Validator(SCHEMA)


NUMBER_KEYS = ("priority", "retries", "retry_delay", "retry_backoff", "timeout")
_REFERENCE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")
CALLABLE_ARGUMENTS = ("inputs", "outputs", "params")
_NAME_RULES = {
    "pipeline": "a pipeline name starts with a letter and uses letters, digits, _ and -",
    "run": "expected module:function, e.g. my_package.steps:clean",
}


def _expected(types: str | list[str]) -> str:
    words = {
        "object": "a mapping",
        "array": "a list",
        "string": "text",
        "integer": "an integer",
        "number": "a number",
        "boolean": "true/false",
    }
    types = [types] if isinstance(types, str) else types
    return " or ".join(words.get(name, name) for name in types)


def load_pipeline_spec(path: str | Path) -> PipelineSpec:
    """Read, validate and return the pipeline in ``path``; :class:`PipelineInvalid` lists all problems."""
    path = Path(path)
    try:
        document = source.load(path)
    except FileNotFoundError:
        raise PipelineError(f"no such pipeline file: {path}") from None
    except IsADirectoryError:
        raise PipelineError(f"{path} is a directory, not a pipeline file") from None
    except source.YamlSyntaxError as exc:
        raise PipelineInvalid([Issue(path, exc.position, (), exc.message)]) from None
    checker = _Checker(document)
    spec = checker.check()
    if checker.issues:
        raise PipelineInvalid(checker.issues)
    assert spec is not None
    return spec


class _Checker:
    def __init__(self, document: source.Document) -> None:
        self.document = document
        self.path = document.path
        self.issues: list[Issue] = []
        self.misshapen: set[tuple] = set()  # key paths whose value the schema found of the wrong type

    def add(self, key_path: tuple, message: str, *, key: bool = False) -> None:
        self.issues.append(Issue(self.path, self.document.where(key_path, key=key), key_path, message))

    def position_text(self, key_path: tuple) -> str:
        return f"{self.path}:{self.document.where(key_path).line}: {dotted(key_path)}"

    # -- structure, from the JSON Schema -------------------------------------------------

    def check(self) -> PipelineSpec | None:
        data = self.document.data
        if not isinstance(data, dict):
            self.add(
                (),
                "expected a mapping with the keys 'pipeline' and 'steps'"
                + ("" if data is None else f", got {kind_and_value(data)}"),
            )
            return None
        for key_path, position in self.document.duplicates:
            first = self.document.key_positions.get(key_path)
            self.issues.append(
                Issue(
                    self.path,
                    position,
                    key_path,
                    f"duplicate key {key_path[-1]!r}" + (f" (first at line {first.line})" if first else ""),
                )
            )
        misshapen: list[tuple] = []
        for error in _schema_validator().iter_errors(data):
            self._schema_issue(error)
            if error.validator == "type":
                misshapen.append(tuple(error.absolute_path))
        # The checks of meaning below see only values whose shape the schema vouched for: a list
        # where a mapping belongs is reported once, above, and never reaches code that calls .items().
        self.misshapen = set(misshapen)
        return self._semantics(_without(data, misshapen))

    def _schema_issue(self, error: Any) -> None:
        path = tuple(error.absolute_path)
        validator, value = error.validator, error.validator_value
        if validator in ("minimum", "maximum", "exclusiveMinimum") and not _finite(error.instance):
            return  # NaN and infinity get one message of their own ("must be a finite number")
        if "propertyNames" in error.schema_path:
            self.add(
                (*path, error.instance),
                f"invalid name {error.instance!r}: use letters, digits and _, not starting with a digit",
                key=True,
            )
        elif validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = list(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in allowed:
                    self.add((*path, key), f"unknown key {key!r}{did_you_mean(key, allowed)}", key=True)
        elif validator == "required" and isinstance(error.instance, dict):
            present = list(error.instance)
            for key in value:
                # A misspelt key is reported once, as unknown with a suggestion, not also as missing.
                if key not in error.instance and not difflib.get_close_matches(key, present, n=1, cutoff=0.6):
                    self.add(path, f"missing required key {key!r}", key=True)
        elif validator == "type":
            self.add(path, f"expected {_expected(value)}, got {kind_and_value(error.instance)}")
        elif validator == "enum":
            self.add(
                path,
                f"must be one of {', '.join(map(str, value))}; got {error.instance!r}"
                + did_you_mean(error.instance, value),
            )
        elif validator == "pattern":
            rule = _NAME_RULES.get(str(path[-1]) if path else "", "does not have the expected form")
            self.add(path, f"{error.instance!r}: {rule}")
        elif validator == "minProperties":
            what = {
                "steps": "a pipeline needs at least one step",
                "outputs": "a step needs at least one output",
            }
            self.add(path, what.get(str(path[-1]) if path else "", error.message))
        elif validator == "uniqueItems":
            self.add(path, f"lists a name twice: {error.instance}")
        elif validator == "minimum":
            self.add(path, f"must be at least {value}, got {error.instance}")
        elif validator == "maximum":
            self.add(path, f"must be at most {value}, got {error.instance}")
        elif validator == "exclusiveMinimum":
            self.add(path, f"must be more than {value}, got {error.instance}")
        elif validator == "minLength":
            self.add(path, "must not be empty")
        else:
            self.add(path, error.message)

    # -- meaning: references, templates, imports, cycles ---------------------------------

    def _semantics(self, data: dict) -> PipelineSpec | None:
        params = self._params(data.get("params"))
        raw_steps = _mapping(data.get("steps"))
        steps: dict[str, StepSpec] = {}
        for name, raw in raw_steps.items():
            if isinstance(raw, dict):
                steps[name] = self._step(name, raw, params, raw_steps)
        self._check_references(steps)
        self._check_cycles(steps)
        self._check_output_collisions(steps)
        raw_hooks = data.get("hooks")
        run_hooks = (
            self._hooks(("hooks",), raw_hooks, hooks.RUN_ARGUMENTS) if isinstance(raw_hooks, dict) else {}
        )
        schedule = watch_keys.schedule_spec(self, data.get("schedule"), params)
        after = watch_keys.after_specs(self, data.get("after"), params)
        name = data.get("pipeline")
        if self.issues or not isinstance(name, str):
            return None
        return PipelineSpec(
            name=name,
            path=self.path,
            params=params,
            steps=steps,
            description=str(data.get("description", "")),
            hooks=run_hooks,
            schedule=schedule,
            after=after,
        )

    def _params(self, raw: Any) -> dict[str, ParamSpec]:
        params: dict[str, ParamSpec] = {}
        if not isinstance(raw, dict):
            return params
        for name, declaration in raw.items():
            declaration = declaration if isinstance(declaration, dict) else {}
            if declaration.get("type") not in PARAM_TYPES:
                # Reported by the schema; still a known name, so templates using it are not flagged too.
                params[name] = ParamSpec(name, "string")
                continue
            spec = ParamSpec(
                name,
                declaration["type"],
                declaration.get("default"),
                "default" in declaration,
                str(declaration.get("description", "")),
            )
            problem = default_problem(spec) or (
                None if _finite(spec.default) else f"must be a finite number, got {spec.default}"
            )
            if problem:
                self.add(("params", name, "default"), problem)
            if name in RESERVED_NAMES:
                self.add(
                    ("params", name),
                    f"{name!r} is a name luigi or dash-pipeline uses for the step itself; "
                    "choose another parameter name",
                    key=True,
                )
            params[name] = spec
        return params

    def _step(self, name: str, raw: dict, params: dict[str, ParamSpec], all_steps: dict) -> StepSpec:
        where = ("steps", name)
        for key in NUMBER_KEYS:
            # JSON Schema knows no NaN or infinity, and NaN passes every minimum: refused here.
            if not _finite(raw.get(key)):
                self.add((*where, key), f"must be a finite number, got {raw[key]}")
        run, shell = raw.get("run"), raw.get("shell")
        if run is None and shell is None:
            self.add(where, "a step needs 'run' (a Python callable, module:function) or 'shell' (a command)")
        if run is not None and shell is not None:
            self.add((*where, "shell"), "a step has either 'run' or 'shell', not both", key=True)
        if "env" in raw and shell is None:
            self.add((*where, "env"), "'env' applies to shell steps only", key=True)
        function = None
        if isinstance(run, str) and ":" in run:
            function = self._check_callable((*where, "run"), run, CALLABLE_ARGUMENTS, "steps")
        declared = raw.get("params") if isinstance(raw.get("params"), list) else None
        if declared is not None:
            self._check_declared_params((*where, "params"), declared, params, shell, run, function)
        step_hooks = self._hooks(where, raw, hooks.STEP_ARGUMENTS)
        outputs = {
            output_name: self._output((*where, "outputs", output_name), output_name, value, params)
            for output_name, value in (raw.get("outputs") or {}).items()
            if isinstance(raw.get("outputs"), dict)
        }
        inputs = {
            input_name: self._input((*where, "inputs", input_name), input_name, value, params)
            for input_name, value in (raw.get("inputs") or {}).items()
            if isinstance(raw.get("inputs"), dict)
        }
        env = _mapping(raw.get("env"))
        for key, value in env.items():
            self._check_env_values((*where, "env", key), value)
        if isinstance(shell, str):
            self._check_shell((*where, "shell"), shell, params, inputs, outputs)
        version = raw.get("version")
        return StepSpec(
            name=name,
            run=run if isinstance(run, str) else None,
            shell=shell if isinstance(shell, str) else None,
            env={str(k): str(v) for k, v in env.items()},
            params=None if declared is None else tuple(name for name in declared if name in params),
            inputs={k: v for k, v in inputs.items() if v is not None},
            outputs={k: v for k, v in outputs.items() if v is not None},
            version=None if version is None else str(version),
            priority=raw.get("priority", 0) if isinstance(raw.get("priority", 0), int) else 0,
            resources=_mapping(raw.get("resources")),
            retries=raw.get("retries", 0) if isinstance(raw.get("retries", 0), int) else 0,
            retry_delay=_number(raw.get("retry_delay"), 5.0),
            retry_backoff=_number(raw.get("retry_backoff"), 2.0),
            timeout=_number(raw.get("timeout"), None),
            description=str(raw.get("description", "")),
            hooks=step_hooks,
        )

    def _hooks(
        self, where: tuple, raw: dict, arguments: dict[str, tuple[str, ...]]
    ) -> dict[str, tuple[str, ...]]:
        """The hooks declared in ``raw``, each checked to import and to take the arguments offered."""
        found: dict[str, tuple[str, ...]] = {}
        for event in hooks.EVENTS:
            value = raw.get(event)
            if isinstance(value, list):
                entries = [((*where, event, position), item) for position, item in enumerate(value)]
            else:
                entries = [((*where, event), value)]
            # The schema reports a malformed reference; only well-formed ones are imported.
            valid = [(at, item) for at, item in entries if isinstance(item, str) and ":" in item]
            for at, reference in valid:
                self._check_callable(at, reference, arguments[event], f"{event} hooks")
            if valid:
                found[event] = tuple(reference for _, reference in valid)
        return found

    def _import_callable(self, where: tuple, reference: str) -> Any:
        """The function ``module:function`` (or ``module:Class.method``) names, or None once the
        problem is reported."""
        module_name, _, name = reference.partition(":")
        make_importable_from(self.path)
        try:
            target: Any = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            self.add(where, f"cannot import {reference!r}: no module named {exc.name!r}")
            return None
        except BaseException as exc:  # SystemExit too: a module that parses argv when imported
            if isinstance(exc, KeyboardInterrupt):
                raise
            self.add(where, f"cannot import {reference!r}: {type(exc).__name__}: {exc}")
            return None
        owner = f"module {module_name!r}"
        for part in name.split("."):
            found = getattr(target, part, None)
            if found is None:
                names = [n for n, v in vars(target).items() if callable(v) and not n.startswith("_")]
                self.add(where, f"{owner} has no {part!r}{did_you_mean(part, names)}")
                return None
            target, owner = found, repr(part)
        if not callable(target):
            self.add(where, f"{reference!r} is a {type(target).__name__}, not a function")
            return None
        return target

    def _check_callable(self, where: tuple, reference: str, offered: tuple[str, ...], callers: str) -> Any:
        """The callable, once checked to import and to take the keyword arguments ``offered``."""
        function = self._import_callable(where, reference)
        if function is not None:
            for problem in signature_problems(function, offered, callers):
                self.add(where, f"{reference!r} {problem}")
        return function

    def _check_declared_params(
        self, where: tuple, declared: list, params: dict, shell: Any, run: Any, function: Any
    ) -> None:
        if shell is not None:
            self.add(
                where,
                "'params' applies to run steps only: a shell command uses the parameters its template names",
                key=True,
            )
            return
        for position, name in enumerate(declared):
            if isinstance(name, str) and name not in params:
                self.add(
                    (*where, position),
                    f"{name!r} is not a parameter of this pipeline" + did_you_mean(name, params),
                )
        if function is not None and not accepts_keyword(function, "params"):
            self.add(
                where,
                f"'params' says what {run} receives as params, but it takes no 'params' argument",
                key=True,
            )

    def check_template(
        self, where: tuple, template: str, allowed: dict[str, ParamSpec], extra: Iterable[str] = ()
    ) -> str | None:
        """Report problems in ``template``; return it filled in with sample values when it works."""
        if ENV_REFERENCE.search(template):
            self.add(
                where,
                "${env:...} is allowed only in 'options' and 'env', where values are never printed; "
                "use a parameter here",
            )
            return None
        try:
            names = placeholders(template)
        except ValueError as exc:
            self.add(where, f"bad template {template!r}: {exc}")
            return None
        known = [*allowed, *extra]
        unknown = False
        for name in names:
            root = re.split(r"[.\[]", name, maxsplit=1)[0]
            if name in known or root in allowed:
                continue
            unknown = True
            hint = did_you_mean(name, known) or (
                f" (for the shell variable write ${name} or ${{{{{name}}}}})" if name.isupper() else ""
            )
            self.add(where, f"template uses {{{name}}}, which is not a parameter{hint}")
        if unknown:
            return None
        samples: dict[str, Any] = {name: SAMPLE_VALUES[spec.type] for name, spec in allowed.items()}
        for entry in extra:  # {inputs.NAME} and {outputs.NAME} in shell commands
            kind, _, item = entry.partition(".")
            if not isinstance(samples.get(kind), types.SimpleNamespace):
                samples[kind] = types.SimpleNamespace()
            setattr(samples[kind], item, "/tmp/path")
        try:
            return render(template, samples)
        except (ValueError, KeyError, AttributeError, IndexError, TypeError) as exc:
            self.add(where, f"template {template!r} cannot be filled in: {type(exc).__name__}: {exc}")
            return None

    def _check_env_values(self, where: tuple, value: Any) -> None:
        pending = [(where, value)]
        while pending:
            at, item = pending.pop()
            if isinstance(item, dict):
                pending.extend(((*at, key), child) for key, child in reversed(item.items()))
            elif isinstance(item, list):
                pending.extend(((*at, index), child) for index, child in reversed(list(enumerate(item))))
            else:
                for name in sorted(env_names(item)):
                    if name not in os.environ:
                        self.add(at, f"environment variable {name} is not set")

    def _check_type(self, where: tuple, type_name: Any) -> None:
        if type_name is None:
            return
        try:
            targets.target_class(str(type_name))
        except TargetError:
            known = targets.known_types()
            self.add(
                where,
                f"unknown target type {type_name!r} (known: {', '.join(known)})"
                + did_you_mean(type_name, known),
            )

    def _output(self, where: tuple, name: str, value: Any, params: dict) -> OutputSpec | None:
        if isinstance(value, str):
            value = {"url": value}
        if not isinstance(value, dict) or not isinstance(value.get("url"), str):
            return None
        url_where = (*where, "url") if "type" in value or "options" in value else where
        sample = self.check_template(url_where, value["url"], params)
        self._check_type((*where, "type"), value.get("type"))
        options = _mapping(value.get("options"))
        self._check_env_values((*where, "options"), options)
        self._check_target(url_where, value["url"], sample, value.get("type"), options)
        return OutputSpec(name, value["url"], value.get("type"), options)

    def _check_target(
        self, where: tuple, template: str, sample_url: str | None, type_name: Any, options: dict
    ) -> None:
        """Build the target once from a sample URL, so a malformed URL or unfit options show now."""
        if sample_url is None or env_names(options):
            return
        try:
            target_class = targets.target_class(str(type_name) if type_name else type_for_url(sample_url))
        except TargetError:
            return  # reported as an unknown type
        if template.startswith("{") and "://" not in sample_url and target_class.schemes:
            # The scheme and host come from a parameter ("{base}/orders"): try the rest under one.
            sample_url = f"{target_class.schemes[0]}://sample.invalid/{sample_url}"
        try:
            target_class(sample_url, **options)
        except TargetError as exc:
            self.add(where, str(exc).replace(repr(sample_url), repr(template)))
        except TypeError as exc:
            self.add(where, f"options do not fit a {target_class.__name__}: {exc}")

    def _input(self, where: tuple, name: str, value: Any, params: dict) -> InputSpec | None:
        if isinstance(value, str):
            reference = _REFERENCE.match(value)
            if reference and "/" not in value:
                return InputSpec(name, step=reference.group(1), output=reference.group(2))
            if "/" in value or "://" in value or value.startswith("."):
                self._check_target(where, value, self.check_template(where, value, params), None, {})
                return InputSpec(name, url=value)
            self.add(where, f"{value!r} is neither STEP.OUTPUT nor a URL (write ./{value} for a local file)")
            return None
        if not isinstance(value, dict):
            return None
        kinds = [kind for kind in ("url", "from", "task") if kind in value]
        if len(kinds) != 1:
            self.add(
                where,
                "an input mapping needs exactly one of 'url', 'from' or 'task'"
                + (f", got {', '.join(kinds)}" if kinds else ""),
            )
            return None
        allowed_keys = {
            "url": {"url", "type", "options", "fallbacks"},
            "from": {"from"},
            "task": {"task", "params", "output"},
        }
        for key in value:
            if key not in allowed_keys[kinds[0]]:
                self.add((*where, key), f"{key!r} does not go with {kinds[0]!r}", key=True)
        if kinds[0] == "url" and isinstance(value["url"], str):
            sample = self.check_template((*where, "url"), value["url"], params)
            self._check_type((*where, "type"), value.get("type"))
            options = _mapping(value.get("options"))
            self._check_env_values((*where, "options"), options)
            self._check_target((*where, "url"), value["url"], sample, value.get("type"), options)
            fallbacks = _listing(value.get("fallbacks"))
            for position, url in enumerate(fallbacks):
                if isinstance(url, str):
                    fallback_where = (*where, "fallbacks", position)
                    fallback_sample = self.check_template(fallback_where, url, params)
                    self._check_target(fallback_where, url, fallback_sample, value.get("type"), options)
            return InputSpec(
                name,
                url=value["url"],
                type=value.get("type"),
                options=options,
                fallbacks=tuple(url for url in fallbacks if isinstance(url, str)),
            )
        if kinds[0] == "from" and isinstance(value["from"], str):
            reference = _REFERENCE.match(value["from"])
            if not reference:
                self.add((*where, "from"), f"expected STEP.OUTPUT, got {value['from']!r}")
                return None
            return InputSpec(name, step=reference.group(1), output=reference.group(2))
        if kinds[0] == "task" and isinstance(value["task"], str):
            task_params = _mapping(value.get("params"))
            self._check_python_task(where, value["task"], task_params, params)
            return InputSpec(name, task=value["task"], task_params=task_params, output=value.get("output"))
        return None

    def _check_python_task(self, where: tuple, reference: str, task_params: dict, params: dict) -> None:
        make_importable_from(self.path)
        try:
            task_class = load_task_class(relative_task_reference(reference, self.path.parent))
        except TaskLoadError as exc:
            self.add((*where, "task"), str(exc))
            return
        family = task_class.get_task_family()
        declared = dict(task_class.get_params())
        for key, value in task_params.items():
            if key not in declared:
                self.add(
                    (*where, "params", key),
                    f"{family} has no parameter {key!r}" + did_you_mean(key, declared),
                    key=True,
                )
            elif isinstance(value, str):
                sample = self.check_template((*where, "params", key), value, params)
                self._check_parses((*where, "params", key), declared[key], sample, f"{family}.{key}")
        for key, parameter in declared.items():
            if key in task_params:
                continue
            if key in params:  # shared with the pipeline: passed through, read as the task reads text
                shared = luigi_parameter(params[key]).serialize(SAMPLE_VALUES[params[key].type])
                self._check_parses(("params", key), parameter, shared, f"{family}.{key}")
            elif not parameter.has_task_value(family, key):
                self.add((*where, "params"), f"{family} needs parameter {key!r}")

    def _check_parses(self, where: tuple, parameter: Any, text: str | None, name: str) -> None:
        if text is None:
            return
        try:
            parameter.parse(text)
        except Exception as exc:
            kind = type(parameter).__name__.removesuffix("Parameter").lower() or "text"
            self.add(where, f"{name} is a {kind} parameter: a value like {text!r} does not fit ({exc})")

    def _check_shell(self, where: tuple, command: str, params: dict, inputs: dict, outputs: dict) -> None:
        extra = [f"inputs.{name}" for name in inputs] + [f"outputs.{name}" for name in outputs]
        try:
            names = placeholders(command)
        except ValueError as exc:
            self.add(where, f"bad template: {exc}")
            return
        for name in quoted_placeholders(command):
            self.add(
                where,
                f"{{{name}}} is inside quotes: values are quoted for the shell already, "
                "so remove the quotes around it",
            )
        reported = []
        for name in names:
            if name.startswith(("inputs.", "outputs.")) and name not in extra:
                kind, _, item = name.partition(".")
                if {(*where[:-1], kind), (*where[:-1], kind, item)} & self.misshapen:
                    reported.append(name)  # its declaration was reported as misshapen already
                    continue
                choices = [entry.split(".", 1)[1] for entry in extra if entry.startswith(kind)]
                self.add(
                    where, f"{{{name}}}: this step has no {kind[:-1]} {item!r}{did_you_mean(item, choices)}"
                )
                reported.append(name)
        self.check_template(where, command, params, extra=[*extra, *reported])
        for output in outputs.values():
            if output is None:
                continue
            try:
                target_class = targets.target_class(output.type) if output.type else FileTarget
            except TargetError:
                continue
            if not issubclass(target_class, FileTarget) or output.options.get("partition_cols"):
                self.add(
                    where,
                    f"a shell command writes files; output {output.name!r} is a {target_class.__name__}"
                    " dataset or table: use a 'run' step",
                )

    def _check_references(self, steps: dict[str, StepSpec]) -> None:
        for step in steps.values():
            for spec in step.inputs.values():
                if spec.step is None:
                    continue
                where = ("steps", step.name, "inputs", spec.name)
                if spec.step not in steps:
                    hint = (
                        did_you_mean(spec.step, steps)
                        or f" (for a local file, write ./{spec.step}.{spec.output})"
                    )
                    self.add(where, f"unknown step {spec.step!r}{hint}")
                elif spec.output not in steps[spec.step].outputs:
                    outputs = steps[spec.step].outputs
                    self.add(
                        where,
                        f"step {spec.step!r} has no output {spec.output!r} (its outputs: "
                        # An input that names a step names its output too (STEP.OUTPUT).
                        f"{', '.join(outputs)}){did_you_mean(cast(str, spec.output), outputs)}",
                    )
                elif spec.step == step.name:
                    self.add(where, f"step {step.name!r} reads its own output {spec.output!r}")

    def _check_cycles(self, steps: dict[str, StepSpec]) -> None:
        """Depth-first search with an explicit stack: a chain of thousands of steps is no deeper a
        problem than three, and each cycle is reported once, in full, at the input that closes it."""
        state: dict[str, str] = {}
        reported: set[frozenset[str]] = set()
        for start in steps:
            if start in state:
                continue
            state[start] = "active"
            trail = [start]
            stack = [iter(steps[start].inputs.items())]
            while stack:
                name = trail[-1]
                for input_name, spec in stack[-1]:
                    upstream = spec.step
                    if upstream is None or upstream not in steps or upstream == name:
                        continue
                    if state.get(upstream) == "active":
                        cycle = [*trail[trail.index(upstream) :], upstream]
                        if frozenset(cycle) not in reported:
                            reported.add(frozenset(cycle))
                            self.add(
                                ("steps", name, "inputs", input_name),
                                "cycle: "
                                + " → ".join(reversed(cycle))
                                + " (each reads the next one's output)",
                            )
                    elif upstream not in state:
                        state[upstream] = "active"
                        trail.append(upstream)
                        stack.append(iter(steps[upstream].inputs.items()))
                        break
                else:
                    state[name] = "done"
                    trail.pop()
                    stack.pop()

    def _check_output_collisions(self, steps: dict[str, StepSpec]) -> None:
        writers: dict[str, tuple[str, str]] = {}
        for step in steps.values():
            for output in step.outputs.values():
                key = _location_key(output.url)
                if key in writers:
                    first_step, first_output = writers[key]
                    self.add(
                        ("steps", step.name, "outputs", output.name),
                        f"{output.url!r} is also written by steps.{first_step}.outputs.{first_output}: "
                        "two steps cannot write the same output",
                    )
                else:
                    writers[key] = (step.name, output.name)


def _finite(value: Any) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def _location_key(url: str) -> str:
    """Where an output lands, so two spellings of one file collide: local paths are normalised
    (build/tmp/../out.txt, ./build//out.txt and build/out.txt are one file, relative paths all being
    resolved from the same working directory); URLs keep their text except for a trailing slash or
    repeated slashes in the path, which object stores and file systems read alike."""
    url = url.strip()
    scheme, separator, rest = url.partition("://")
    if not separator:
        local = url.removeprefix("file:")
        return os.path.normpath(local) if local else url
    if scheme == "file":
        return os.path.normpath(rest)
    return f"{scheme}://{re.sub('/+', '/', rest).rstrip('/')}"


def _without(data: Any, paths: list[tuple]) -> Any:
    """``data`` minus the values at ``paths``, copying only the containers on the way (no recursion)."""
    if not paths:
        return data
    if () in paths:
        return None
    root: Any = data.copy() if isinstance(data, dict | list) else data
    copies: dict[tuple, Any] = {(): root}
    for path in sorted(set(paths), key=len):
        node = root
        for depth, part in enumerate(path[:-1], start=1):
            prefix = path[:depth]
            child = node[part] if _holds(node, part) else None
            if not isinstance(child, dict | list):
                break
            if prefix not in copies:
                copies[prefix] = child.copy()
                node[part] = copies[prefix]
            node = copies[prefix]
        else:
            last = path[-1]
            if isinstance(node, dict) and last in node:
                del node[last]
            elif isinstance(node, list) and isinstance(last, int) and 0 <= last < len(node):
                node[last] = None  # indexes of later items stay as the schema reported them
    return root


def _holds(node: Any, part: Any) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _mapping(value: Any) -> dict[Any, Any]:
    """``value`` when it is a mapping, else an empty one (wrong types were reported already)."""
    return value if isinstance(value, dict) else {}


def _listing(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty one (wrong types were reported already)."""
    return value if isinstance(value, list) else []


@overload
def _number(value: Any, default: float) -> float: ...
@overload
def _number(value: Any, default: None) -> float | None: ...
def _number(value: Any, default: float | None) -> float | None:
    # Wrong types were reported against the schema already; the spec only needs a usable value.
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
