"""luigi.cfg: the checker that names the file, line and key of a mistake before any work, and
the one-line refusal of a file configparser cannot read.

May import: ``pipelines.errors``, ``pipelines.common``.
"""
