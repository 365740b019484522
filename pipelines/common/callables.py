"""User callables named ``module:function`` (YAML ``run:`` steps and hooks): importing them,
checking their signatures, and calling them with the keyword arguments they accept."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def resolve(reference: str) -> Callable[..., Any]:
    """The object ``module:name`` (``name`` may be dotted: ``Class.method``) refers to."""
    module_name, _, name = reference.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in name.split("."):
        target = getattr(target, part)
    return target


def call_with_accepted(function: Callable[..., Any], offered: Mapping[str, Any]) -> Any:
    """Call ``function`` with those of ``offered`` it takes as keywords (all, with ``**kwargs``)."""
    accepted = inspect.signature(function).parameters
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in accepted.values()):
        return function(**offered)
    return function(**{name: value for name, value in offered.items() if name in accepted})


def accepts_keyword(function: Callable[..., Any], name: str) -> bool:
    """Whether ``call_with_accepted`` would pass ``function`` the keyword argument ``name``."""
    try:
        accepted = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return name in accepted or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())


def signature_problems(function: Callable[..., Any], offered: Iterable[str], callers: str) -> list[str]:
    """Why ``function`` cannot be called with keyword arguments among ``offered``, as sentences."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return ["does not say which arguments it takes (a builtin?); wrap it in a Python function"]
    offered = tuple(offered)
    problems = []
    for parameter in signature.parameters.values():
        if parameter.kind in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL):
            continue
        if parameter.default is not inspect.Parameter.empty:
            continue
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
            problems.append(f"takes {parameter.name!r} by position only; {callers} pass keyword arguments")
        elif parameter.name not in offered:
            problems.append(
                f"needs an argument {parameter.name!r}; {callers} are called with keyword arguments "
                f"{', '.join(offered)} (those it accepts)"
            )
    return problems
