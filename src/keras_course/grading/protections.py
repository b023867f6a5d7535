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

from .. import messages

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


def autograde_steps(config: Any) -> list[str]:
    """The dotted names of the autograde preprocessors a loaded configuration names."""
    return [_name(p) for p in config.Autograde.get("autograde_preprocessors", [])]


def pipeline_problems(config: Any) -> list[str]:
    """What keeps a loaded nbgrader configuration from grading this course safely (empty: none).

    `config` is a traitlets `Config` as nbgrader sees it after loading every file.
    """
    autograde = config.Autograde
    steps = autograde_steps(config)
    sanitize = [_name(p) for p in autograde.get("sanitize_preprocessors", [])]
    found: list[tuple[str, str]] = []  # (code in messages.PROTECTION_PROBLEMS, the step)
    if REFUSE in steps or REFUSE in sanitize or not steps:
        found.append(("not_loaded", ""))
        return [messages.PROTECTION_PROBLEMS[code].format(step=step) for code, step in found]
    executes = [i for i, s in enumerate(steps) if s in (SANDBOXED_EXECUTE, FORKING_EXECUTE)]
    if not executes:
        found.append(("no_sandbox", SANDBOXED_EXECUTE))
    elif steps[executes[0] + 1: executes[0] + 2] != [VERIFY_EVIDENCE]:
        found.append(("verify_not_next", VERIFY_EVIDENCE))
    if SKIP_CELLS in steps and (not executes or steps.index(SKIP_CELLS) != executes[0] - 1):
        found.append(("skip_not_before", SKIP_CELLS))
    if STOCK_EXECUTE in steps:
        found.append(("stock_execute", STOCK_EXECUTE))
    if RESTORE_CELLS not in sanitize:
        found.append(("no_restore", RESTORE_CELLS))
    if config.SandboxedKernelManager.get("required", True) is False:
        found.append(("not_required", ""))
    return [messages.PROTECTION_PROBLEMS[code].format(step=step) for code, step in found]


def load_course_config(root: Path) -> Any:
    """The configuration nbgrader would grade `root` with; raises when any file fails to load."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    path = root / "nbgrader_config.py"
    if not path.is_file():
        raise ProtectionsMissingError(messages.CONFIG_MISSING.format(path=path))
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
        raise ProtectionsMissingError(messages.CONFIG_UNLOADABLE.format(
            error=f"{type(exc).__name__}: {exc}", root=root)) from exc
    problems = pipeline_problems(config)
    if problems:
        raise ProtectionsMissingError(messages.PROTECTIONS_NOT_IN_FORCE.format(
            problems="; ".join(problems)))


def guard_path(prefix: str | None = None) -> Path:
    """Where nbgrader looks for the environment's own configuration."""
    return Path(prefix or sys.prefix) / "etc" / "jupyter" / "nbgrader_config.py"


def install(prefix: str | None = None) -> Path:
    """Write the environment-level guard (idempotent); refuse to overwrite a foreign file."""
    path = guard_path(prefix)
    if path.is_file() and path.read_text() != GUARD_CONFIG:
        if "keras_course.grading.protections" not in path.read_text():
            raise ProtectionsMissingError(messages.FOREIGN_GUARD.format(path=path))
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
        raise ProtectionsMissingError(messages.REFUSE_TO_GRADE.format(root=root))


if __name__ == "__main__":
    if sys.argv[1:] == ["install"]:
        print(f"wrote {install()}")
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        check_course(Path(sys.argv[2]).resolve())
        print(messages.PROTECTIONS_IN_FORCE)
    else:
        raise SystemExit("usage: python -m keras_course.grading.protections install | check ROOT")
