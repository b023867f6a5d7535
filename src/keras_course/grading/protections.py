"""Grading fails closed: no submission is graded unless the course's protections are in force.

nbgrader reads the course's `nbgrader_config.py` with traitlets, which logs and *ignores* a config
file that raises (a syntax error, an import that fails, a file nobody can read). Without this
module a damaged, unreadable or missing course configuration would make `nbgrader autograde` run
stock nbgrader: student code outside the box, and test cells scored on what the kernel printed.

Two guards stop that, both outside anything a submission can reach:

- The Python environment's own nbgrader configuration (`<sys.prefix>/etc/jupyter/
  nbgrader_config.py`, written by `make` and by `install()`), which nbgrader loads *before* the
  course's. It sets both of autograde's pipelines to `RefuseToGrade`. The course's configuration
  replaces them with the protected pipeline; when it does not load, every notebook fails with a
  message that says why, before a kernel starts. It changes nothing else: formgrader,
  `generate_assignment`, `validate` and feedback work as configured by the course.
- `pipeline_problems(config)`: what is missing from a loaded configuration's pipeline (the
  sandboxed kernel, the out-of-kernel verdicts right after it, the cell repairs; the skipped
  demonstrations, when configured, decided right before the kernel runs). `make grade`
  loads the course configuration with errors raised and refuses to start any worker while
  anything is missing, and `RefuseToGrade` says the same for plain `nbgrader autograde`.

A course configuration that spells out nbgrader's stock pipeline (as the comparison runs of
`scripts/tricks_table.py` and `benchmarks/grading_speed.py` do) is an instructor's explicit
choice and is honoured by plain nbgrader; `make grade` still refuses it. Who can write the
course folder is trusted: a kernel cannot, since it never sees the course folder (sandbox.py).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from nbgrader.preprocessors import NbGraderPreprocessor

SANDBOXED_EXECUTE = "keras_course.grading.execute.SandboxedExecute"
FORKING_EXECUTE = "keras_course.grading.forkserver.ForkingExecute"
VERIFY_EVIDENCE = "keras_course.grading.verify.VerifyEvidence"
RESTORE_CELLS = "keras_course.grading.sanitize.RestoreCells"
SKIP_CELLS = "keras_course.grading.skip.SkipDemoCells"
STOCK_EXECUTE = "nbgrader.preprocessors.Execute"
REFUSE = "keras_course.grading.protections.RefuseToGrade"

#: The environment-level configuration nbgrader loads before the course's own.
GUARD_CONFIG = '''"""Keras APIs course: no autograde unless the course's nbgrader_config.py loads.

Written by keras_course.grading.protections (see its docstring); nbgrader loads this file before
the course's own configuration, which replaces both pipelines with the protected ones.
"""
c = get_config()  # noqa: F821
c.Autograde.sanitize_preprocessors = ["keras_course.grading.protections.RefuseToGrade"]
c.Autograde.autograde_preprocessors = ["keras_course.grading.protections.RefuseToGrade"]
'''


class ProtectionsMissingError(RuntimeError):
    """The course's grading protections are not in force: nothing may be graded."""


def _name(entry: Any) -> str:
    if isinstance(entry, type):
        return f"{entry.__module__}.{entry.__qualname__}"
    return str(entry)


def pipeline_problems(config: Any) -> list[str]:
    """What keeps a loaded nbgrader configuration from grading this course safely (empty: none).

    `config` is a traitlets `Config` as nbgrader sees it after loading every file.
    """
    autograde = config.Autograde
    steps = [_name(p) for p in autograde.get("autograde_preprocessors", [])]
    sanitize = [_name(p) for p in autograde.get("sanitize_preprocessors", [])]
    problems = []
    if REFUSE in steps or REFUSE in sanitize or not steps:
        problems.append("the course's nbgrader_config.py was not loaded (it is missing, "
                        "unreadable, or raised an error while loading)")
        return problems
    executes = [i for i, s in enumerate(steps) if s in (SANDBOXED_EXECUTE, FORKING_EXECUTE)]
    if not executes:
        problems.append(f"`{SANDBOXED_EXECUTE}` is not in Autograde.autograde_preprocessors: "
                        "student code would run outside the sandbox")
    elif steps[executes[0] + 1: executes[0] + 2] != [VERIFY_EVIDENCE]:
        problems.append(f"`{VERIFY_EVIDENCE}` does not come right after the sandboxed Execute: "
                        "test cells would be scored on what the student's kernel printed")
    if SKIP_CELLS in steps and (not executes or steps.index(SKIP_CELLS) != executes[0] - 1):
        problems.append(f"`{SKIP_CELLS}` does not come right before the sandboxed Execute: a "
                        "step between them could change a cell after it was found equal to "
                        "the instructor's")
    if STOCK_EXECUTE in steps:
        problems.append(f"`{STOCK_EXECUTE}` is in Autograde.autograde_preprocessors: it runs "
                        "student code without the sandbox")
    if RESTORE_CELLS not in sanitize:
        problems.append(f"`{RESTORE_CELLS}` is not in Autograde.sanitize_preprocessors: "
                        "tampered test cells would not be restored")
    if config.SandboxedKernelManager.get("required", True) is False:
        problems.append("c.SandboxedKernelManager.required is False: kernels could start "
                        "without bubblewrap")
    return problems


def load_course_config(root: Path) -> Any:
    """The configuration nbgrader would grade `root` with; raises when any file fails to load."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    path = root / "nbgrader_config.py"
    if not path.is_file():
        raise ProtectionsMissingError(f"{path} does not exist")
    merged = Config()
    merged.merge(PyFileConfigLoader(str(path)).load_config())
    return merged


def check_course(root: Path) -> None:
    """Raise `ProtectionsMissingError`, naming the cause and the fix, unless grading is safe."""
    try:
        config = load_course_config(root)
    except ProtectionsMissingError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever it is, nothing is graded
        raise ProtectionsMissingError(
            f"the course's nbgrader_config.py could not be loaded ({type(exc).__name__}: "
            f"{exc}). Nothing was graded. Fix the file (`python -m "
            f"keras_course.grading.protections check {root}` shows the error again) and grade "
            "again.") from exc
    problems = pipeline_problems(config)
    if problems:
        raise ProtectionsMissingError(
            "grading stopped before any submission ran, because the course's protections are "
            "not in force: " + "; ".join(problems) + ". Restore nbgrader_config.py from the "
            "course repository (`git checkout nbgrader_config.py`) and grade again.")


def guard_path(prefix: str | None = None) -> Path:
    """Where nbgrader looks for the environment's own configuration."""
    return Path(prefix or sys.prefix) / "etc" / "jupyter" / "nbgrader_config.py"


def install(prefix: str | None = None) -> Path:
    """Write the environment-level guard (idempotent); refuse to overwrite a foreign file."""
    path = guard_path(prefix)
    if path.is_file() and path.read_text() != GUARD_CONFIG:
        if "keras_course.grading.protections" not in path.read_text():
            raise ProtectionsMissingError(
                f"{path} exists and is not this course's guard; merge its settings by hand "
                f"with the guard (see keras_course/grading/protections.py) and run again")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text() != GUARD_CONFIG:
        path.write_text(GUARD_CONFIG)
    return path


def installed(prefix: str | None = None) -> bool:
    path = guard_path(prefix)
    return path.is_file() and path.read_text() == GUARD_CONFIG


class RefuseToGrade(NbGraderPreprocessor):
    """Stands in for autograde's pipelines until the course's configuration replaces them."""

    def preprocess(self, nb, resources):
        root = getattr(getattr(self.parent, "coursedir", None), "root", None) or os.getcwd()
        raise ProtectionsMissingError(
            "This course refuses to autograde: its nbgrader_config.py did not load, so the "
            "grading sandbox and the out-of-kernel verdicts are not in force and no student "
            f"code was run. Run `python -m keras_course.grading.protections check {root}` to see "
            "why, fix or restore the file (`git checkout nbgrader_config.py`), and grade again.")


if __name__ == "__main__":
    if sys.argv[1:] == ["install"]:
        print(f"wrote {install()}")
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        check_course(Path(sys.argv[2]).resolve())
        print("the course's grading protections are in force")
    else:
        raise SystemExit("usage: python -m keras_course.grading.protections install | check ROOT")
