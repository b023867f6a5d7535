"""The course directory: where the course is, what it holds, and how nbgrader is run on it.

The small questions every command asks, answered once (as `nbgrader/utils.py` does for
nbgrader): the course root, its assignments and their notebooks, the gradebook URL, the
environment nbgrader runs in, and "is this a test cell" with the hidden-test markers read from
nbgrader's own `ClearHiddenTests`, so a course that configures other markers changes them in
one place. A leaf: it imports nothing else of the package, and nbgrader only when asked (the
student's kernel imports helpers that import this module).
"""
from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

#: The file that makes a folder a course (with a `source/` folder next to it).
CONFIG_FILE = "nbgrader_config.py"

#: Environment that keeps TensorFlow's C++ start-up lines off stderr. nbgrader scores any
#: stderr output of a test cell as a failure, so this matters for grades, not only looks.
QUIET_TF_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}


def course_root(start: Path | None = None) -> Path:
    """The folder holding `nbgrader_config.py` and `source/`, from `start` (default: here) up."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file() and (folder / "source").is_dir():
            return folder
    raise SystemExit(f"No course here: no {CONFIG_FILE} next to a source/ folder above {here}. "
                     "Run this from the course repository.")


def assignments(root: Path) -> list[str]:
    """Assignment ids: the folders of source/, in order."""
    return sorted(p.name for p in (Path(root) / "source").iterdir()
                  if p.is_dir() and not p.name.startswith((".", "_")))


def notebooks(folder: Path) -> list[Path]:
    """The notebooks of one assignment folder (source/, release/, submitted/...), in order."""
    return sorted(p for p in Path(folder).glob("*.ipynb") if not p.name.startswith("."))


def source_notebooks(root: Path, assignment: str) -> list[Path]:
    """The instructor's notebooks of `assignment` (solutions and hidden tests)."""
    return notebooks(Path(root) / "source" / assignment)


def gradebook_url(root: Path) -> str:
    """The gradebook URL `nbgrader_config.py` gives in this environment (default: SQLite)."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    if "db_url" in config.CourseDirectory:
        return str(config.CourseDirectory.db_url)
    return f"sqlite:///{Path(root) / 'gradebook.db'}"


def bin_dir() -> Path:
    """This Python environment's `bin/` (nbgrader runs `alembic` through PATH)."""
    return Path(sys.executable).parent


def path_with_first(first: Path | str, path: str | None) -> str:
    """`path` (a PATH value) with `first` in front, unless it is in front already."""
    entries = [p for p in (path or "").split(os.pathsep) if p]
    if entries[:1] == [str(first)]:
        return os.pathsep.join(entries)
    return os.pathsep.join([str(first), *entries])


def quiet_tf(env: MutableMapping[str, str]) -> None:
    """Set TensorFlow's quiet variables in `env` (`os.environ` too) where they are not set."""
    for key, value in QUIET_TF_ENV.items():
        env.setdefault(key, value)


def nbgrader_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment nbgrader runs in: `base` (default: this process's) with this
    environment's bin first on PATH and TensorFlow quiet."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = path_with_first(bin_dir(), env.get("PATH"))
    quiet_tf(env)
    return env


@functools.cache
def hidden_markers() -> tuple[str, str]:
    """nbgrader's markers around hidden tests (`ClearHiddenTests`' begin and end delimiters)."""
    from nbgrader.preprocessors import ClearHiddenTests

    traits = ClearHiddenTests.class_traits()
    return (str(traits["begin_test_delimeter"].default()),
            str(traits["end_test_delimeter"].default()))


def has_hidden_tests(source: str) -> bool:
    """Whether a cell's source holds a hidden-tests region."""
    return hidden_markers()[0] in source


def is_test_cell(cell: Any) -> bool:
    """An autograded test cell: a code cell nbgrader grades that is not a solution cell.

    `cell` is an nbformat cell or the plain dict of a notebook read as JSON."""
    if not isinstance(cell, Mapping) or cell.get("cell_type") != "code":
        return False
    metadata = cell.get("metadata")
    marks = metadata.get("nbgrader") if isinstance(metadata, Mapping) else None
    if not isinstance(marks, Mapping):
        return False
    from nbformat import from_dict
    from nbgrader import utils

    node = from_dict({"metadata": {"nbgrader": dict(marks)}})
    return bool(utils.is_grade(node)) and not utils.is_solution(node)
