"""A user's own ``pipelines/`` or ``targets/`` folder hiding dash-pipeline's packages of those names.

The names are generic and fixed by the design, so a project may well have such a folder. Python then
finds one or the other first, and the symptom is far from the cause: an ImportError inside our own
imports, or "no module named 'pipelines.sales'" for a file the user can see. This module names the
folder instead.

It imports nothing of luigi's or ours: it runs before ``targets`` is imported (a shadowing
``targets`` would break that import), so it must not depend on anything that imports it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

INVALID_PIPELINE = 4  # pipelines.errors.ExitCode.INVALID_PIPELINE, whose module imports ``targets``

# Both sit side by side in the source tree and in site-packages: this file is in one of them.
_OUR_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipelines", "targets")


def our_folder(name: str) -> Path:
    """Where dash-pipeline's own package ``name`` is."""
    return _OUR_ROOT / name


def is_ours(folder: Path) -> bool:
    """Whether ``folder`` is dash-pipeline's own package of that name (run from our checkout, it is)."""
    try:
        return folder.resolve() == our_folder(folder.name)
    except OSError:
        return False


def hides_our_package(folder: Path) -> bool:
    """Whether ``folder`` is a user's own folder under the name of one of our packages."""
    return folder.name in PACKAGES and not is_ours(folder)


def shown(path: Path) -> str:
    """``./targets/`` for a folder under the working directory, the full path otherwise."""
    path = Path(os.path.abspath(path))
    try:
        text = "./" + path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        text = str(path)
    return text + "/" if path.is_dir() else text


def _running_dashpipe() -> bool:
    """Whether this process is the ``dashpipe`` command (or ``python -m pipelines``).

    The same test as pipelines.config.unreadable_config's, copied: importing that package would
    import ``pipelines.errors`` and so ``targets``, the very import that may be broken here.
    """
    if os.path.basename(sys.argv[0]) == "dashpipe":
        return True
    argv = list(getattr(sys, "orig_argv", ()))
    return any(
        word == "-m" and argv[index + 1 : index + 2] == ["pipelines"] for index, word in enumerate(argv)
    )


def _locations(name: str) -> list[str]:
    """The files or folders the top-level module ``name`` is (or would be) imported from."""
    module = sys.modules.get(name)
    if module is not None:
        paths = list(getattr(module, "__path__", None) or [])
        return paths or [getattr(module, "__file__", None) or ""]
    try:
        # A top-level name: finding its spec runs no code of the module (a submodule's would
        # import its parent first).
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    return list(spec.submodule_search_locations or []) or [spec.origin or ""]


def shadowing_package(name: str) -> Path | None:
    """The folder (or ``name.py``) Python takes for dash-pipeline's ``name``, when it is not ours."""
    for location in _locations(name):
        if not location:
            continue
        path = Path(location)
        folder = path.parent if path.name == "__init__.py" else path
        if (folder.suffix == ".py" or folder.name == name) and not is_ours(folder):
            return folder
    return None


def startup_problem() -> str | None:
    """One line naming a folder that hides one of our packages from this process, or None."""
    for name in PACKAGES:
        folder = shadowing_package(name)
        if folder is None:
            continue
        # For `python -m pipelines` the working directory comes first on sys.path; the installed
        # `dashpipe` command's comes from its own bin directory, so it does not see the folder.
        from_cwd = folder.parent.resolve() == Path.cwd().resolve()
        argv = list(getattr(sys, "orig_argv", ()))
        via_m = any(argv[index : index + 2] == ["-m", "pipelines"] for index in range(len(argv)))
        instead = "rename the folder or run dashpipe from another directory"
        if from_cwd and via_m:
            instead += " (or use the dashpipe command rather than python -m pipelines)"
        return f"{shown(folder)} shadows dash-pipeline's {name!r} package; {instead}"
    return None


def refuse_shadowed_packages() -> None:
    """Stop with one line (exit 4) as ``dashpipe``, or raise ImportError saying why as a library.

    To be called before anything imports ``targets``: that import is what a shadowing folder breaks.
    """
    problem = startup_problem()
    if problem is None:
        return
    if _running_dashpipe():
        sys.stderr.write(f"dashpipe: error: {problem}\n")
        sys.stderr.flush()
        os._exit(INVALID_PIPELINE)
    raise ImportError(problem)


def shadowed_reference(module_name: str, task_name: str, directories: list[str]) -> str | None:
    """Why ``module_name`` (``pipelines.sales``) is the user's own file rather than our module.

    A ``MODULE:TASK`` under one of our names cannot be imported from a user's folder of that name:
    ``pipelines`` (or ``targets``) is already dash-pipeline's package in this process. When one of
    ``directories`` (the working directory, a pipeline file's own) has the file, say so and name
    the form that works: a path is loaded by its location, not by its package name.
    """
    top, _, rest = module_name.partition(".")
    if top not in PACKAGES:
        return None
    for directory in directories:
        folder = Path(directory or os.curdir) / top
        if not folder.is_dir() or is_ours(folder):
            continue
        below = folder.joinpath(*rest.split("."))
        candidates = (
            [below.with_name(below.name + ".py"), below / "__init__.py"] if rest else [below / "__init__.py"]
        )
        for candidate in candidates:
            if not candidate.is_file():
                continue
            mistake = f"{shown(folder)} is your own folder, but {top!r} is dash-pipeline's package"
            base = folder.parent
            if base.resolve() == Path.cwd().resolve():
                return f"{mistake}; run the file by its path: dashpipe run {shown(candidate)[2:]}:{task_name}"
            # Found beside a pipeline file, not in the working directory: there a path is looked
            # up beside the pipeline file, so that is the form to write in it.
            path = candidate.relative_to(base).as_posix()
            return f"{mistake}; name the file by its path: {path}:{task_name} (relative to {shown(base)})"
    return None
