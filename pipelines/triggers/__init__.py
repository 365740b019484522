"""``dashpipe watch``: keep a pipeline's goals built as its inputs change.

Level-triggered: each pass asks what ``status`` asks (is anything stale now?) and runs exactly
that, so a change made while no watcher ran is caught on its first pass, and a burst of
changes makes one run. Between passes the external inputs of the graph are observed as
``status`` observes them (one listing per directory or prefix) and compared.

- ``input_watch.py``: the external inputs' identities in one bulk look, and waiting for them to
  change and then settle;
- ``watcher.py``: the loop of passes, and stopping it cleanly;
- ``schedule.py``: the slots of a cron expression that came due, and their goals;
- ``sqs_events.py``: S3 event notifications from SQS, as wake-ups for a look;
- ``status_line.py``: what the watcher says between passes, in place on a terminal;
- ``watch_lock.py``: one watcher per pipeline and parameters on a machine.

May import every layer below it; only ``pipelines.cli`` imports it.
"""
