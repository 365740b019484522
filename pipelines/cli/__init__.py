"""The ``dashpipe`` command line: click commands that parse arguments and delegate, and the
per-command modules (PIPELINE sources, backfill dates, validate, status, list, dag, history,
scheduler).

The top layer: may import anything in ``pipelines``; nothing imports it but ``__main__``.
"""

from pipelines.cli.commands import entry, main

__all__ = ["entry", "main"]
