"""Task families defined in more than one module.

luigi names a task by its family and parameters only, never its module: two teams' ``Part(i=8)``
from different modules are one task to a shared scheduler, which hands it to whichever run asks
first and holds it done for the other. In one process this shows in luigi's task registry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from luigi.task_register import Register


def family_clashes(families: Iterable[str] | None = None) -> list[str]:
    """A warning per family (of ``families``, default all) that classes of several modules share."""
    modules: defaultdict[str, set[str]] = defaultdict(set)
    for task_class in Register._reg:
        modules[task_class.get_task_family()].add(task_class.__module__)
    wanted = set(modules) if families is None else set(families)
    return [
        f"task family {family} is defined in {len(modules[family])} modules "
        f"({', '.join(sorted(modules[family]))}): "
        "a shared scheduler takes their tasks for the same ones; give each a task_namespace"
        for family in sorted(wanted)
        if len(modules.get(family, ())) > 1
    ]
