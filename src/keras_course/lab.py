"""JupyterLab on the course, the way `make lab` and `make lab-student` start it.

    keras-course lab instructor     # the whole course: formgrader, create assignment
    keras-course lab self-learner   # release/ only: the notebooks and Validate

Further arguments go to `jupyter lab` (`--no-browser`, `--port 8890`, ...).

- **instructor**: JupyterLab in the course root, where nbgrader's extensions read
  `nbgrader_config.py`, so formgrader grades into the course's gradebook. nbgrader's extension
  is used as installed: releasing and collecting through nbgrader's exchange work where the
  machine has one (`c.Exchange.root`, set up by whoever runs the shared server); without one,
  formgrader says so and grading works as usual.
- **self-learner**: JupyterLab in `release/`, with the configuration in
  `labconfig/self_learner/` on `JUPYTER_CONFIG_PATH`: nbgrader's Validate button stays,
  everything that needs an instructor or an exchange (formgrader, assignment and course lists,
  create assignment) is switched off, and Validate gets the course's cell timeout.

Both listen on localhost only. The kernels inherit this Python, so they import the course's
helpers and the pinned Keras.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from . import messages
from .coursedir import nbgrader_env

#: Configuration folders (for `JUPYTER_CONFIG_PATH`), by mode.
CONFIG_DIRS = {"self-learner": Path(__file__).parent / "labconfig" / "self_learner"}

#: Where JupyterLab starts, relative to the course root, by mode.
START_DIRS = {"instructor": ".", "self-learner": "release"}


def lab_command(mode: str, root: Path, extra: list[str]) -> tuple[list[str], Path, dict[str, str]]:
    """The `jupyter lab` command line, working directory and environment for `mode`."""
    if mode not in START_DIRS:
        raise ValueError(messages.NO_LAB_MODE.format(mode=mode, modes=messages.names(
            sorted(START_DIRS), "or")))
    cwd = (root / START_DIRS[mode]).resolve()
    env = nbgrader_env()  # formgrader's gradebook: nbgrader runs `alembic` through PATH
    if mode in CONFIG_DIRS:
        paths = [str(CONFIG_DIRS[mode]), *filter(None, env.get("JUPYTER_CONFIG_PATH", "")
                                                 .split(os.pathsep))]
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
    args = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={cwd}",
            "--ServerApp.ip=127.0.0.1"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")  # containers and CI run as root; Jupyter refuses otherwise
    return args + list(extra), cwd, env


def start_lab(mode: str, root: Path, extra: list[str]) -> None:
    """Replace this process by JupyterLab for `mode` on the course in `root`."""
    args, cwd, env = lab_command(mode, root, extra)
    print(f"JupyterLab for the {mode} in {cwd}", flush=True)
    os.chdir(cwd)
    os.execve(sys.executable, args, env)  # Ctrl-C reaches Jupyter directly


if __name__ == "__main__":  # the program is keras_course.cli; this spelling still works
    from keras_course.cli import main

    sys.exit(main(["lab", *sys.argv[1:]]))
