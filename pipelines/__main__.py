# Before anything imports ``targets``: a ./targets/ in the working directory, first on sys.path
# for ``python -m``, would otherwise break that import with a traceback that never names it.
from pipelines.shadowing import refuse_shadowed_packages

refuse_shadowed_packages()

from pipelines.cli.commands import entry  # noqa: E402

entry()
