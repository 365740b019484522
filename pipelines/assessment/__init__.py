"""What is built and what must rebuild: the task graph below some goals, build records and where
they live, and the staleness verdict of every task with its reasons. Nothing here runs a task.

May import: ``pipelines.common``, ``pipelines.errors``, ``targets``. Not ``execute``, ``report``,
``cli`` or ``yaml``: YAML steps are luigi tasks like any other by the time they get here.
"""
