"""``dashpipe dashboard``: a Dash (Plotly) app that shows what is up to date, what is stale and why,
what is running, what failed and how long things take. Read-only: it runs nothing and writes
nothing; it reads what ``status`` reads (one assessment), the runs' journals, and, with a
central scheduler, luigid's list of running tasks.

- ``monitor.py``: the one place data comes from, shared by every browser tab and cached;
- ``task_states.py``: each task's state as shown: its verdict, or running, failed or blocked
  as the runs tell it;
- ``graph_elements.py``: the task graph as cytoscape elements, families collapsed;
- ``figures.py``: the Gantt chart of a run and the trends, as plotly figures;
- ``luigid_watch.py``: luigid's running tasks, polled sparingly;
- ``api.py``: the same as JSON; ``app.py``: the pages.

May import every layer below it; only ``pipelines.cli`` imports it.
"""
