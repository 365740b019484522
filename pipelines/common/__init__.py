"""Small helpers every layer may use: how a task is named in messages (describe), "did you
mean" suggestions, counts and value words in good English, calling user callables and hooks,
the lines of an error worth showing, the check of a task class's retry/timeout attributes.

May import: ``pipelines.errors``, ``targets``, luigi. Nothing else of ``pipelines``.
"""
