"""How a name on the command line picks tasks: one rule for --force, status, explain, mark-fresh,
forget and history, so that a name that works in one works in all.

A name picks a task family when it is the family (``sales.totals``, ``SalesReport``), a YAML
step's own name (``totals``), a YAML pipeline's name (``sales``: all its steps), or a glob
matching the family (``sales.*``, ``Sales*``). Matching is case-sensitive, as luigi's names are.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from pipelines.common.suggest import did_you_mean
from pipelines.errors import PipelineError

_GLOB = frozenset("*?[")


def picks(name: str, family: str) -> bool:
    """Whether ``name`` picks tasks of ``family``."""
    if _GLOB & set(name):
        return fnmatch.fnmatchcase(family, name)
    return family == name or family.rsplit(".", 1)[-1] == name or family.startswith(name + ".")


def picked(names: Iterable[str], family: str) -> bool:
    return any(picks(name, family) for name in names)


def check_names(names: Iterable[str], families: Iterable[str], what: str) -> None:
    """Refuse a name that picks none of ``families``, suggesting the closest one."""
    families = sorted(set(families))
    for name in names:
        if not any(picks(name, family) for family in families):
            known = sorted(set(families) | {family.rsplit(".", 1)[-1] for family in families})
            raise PipelineError(f"{what} {name}: no such step or task here{did_you_mean(name, known)}")
