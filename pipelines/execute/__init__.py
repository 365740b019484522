"""Making it happen: the runner that hands goals to luigi, the recording worker that writes build
records after outputs are committed, the embedded scheduler, retries and timeouts, task logs, the
client side of the central scheduler, and what happened to each task (outcome).

May import: ``pipelines.assessment``, ``pipelines.common``, ``pipelines.errors``, ``targets``.
"""
