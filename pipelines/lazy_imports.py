"""Libraries luigi imports on start-up but most commands never use, loaded on first use instead.

luigi imports ``requests`` (for talking to a central scheduler, which ``dashpipe`` does over
``http.client``) and ``jsonschema`` (for DictParameter schemas) when it is imported: about a
fifth of the start-up of every command. Each is put in ``sys.modules`` as a stand-in module
before luigi is imported; the first attribute anyone reads from it imports the real module
(which then takes its place in ``sys.modules``) and answers from that, so a program that uses
either library gets it, only later. ``importlib.util.LazyLoader`` cannot do this: the import
statement itself reads the module's ``__spec__``, which loads it. Standard library only.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

DEFERRED = ("requests", "jsonschema")


class _StandIn(types.ModuleType):
    """Imports the module it stands for when an attribute it does not have is read."""

    def __getattr__(self, attribute: str) -> Any:
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        return getattr(importlib.import_module(name), attribute)


def defer_imports(names: tuple[str, ...] = DEFERRED) -> None:
    """Make each of ``names`` that is installed and not imported yet load on first use."""
    for name in names:
        if name in sys.modules:
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue  # not installed: luigi's own ``try: import`` finds that out, as before
        sys.modules[name] = _StandIn(name)
