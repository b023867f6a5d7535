"""Grading fails closed: a damaged, missing or replaced course configuration grades nothing.

nbgrader logs and ignores a config file that raises, so without the guard a broken
`nbgrader_config.py` would mean stock nbgrader: student code outside the sandbox and test cells
scored on what the kernel printed. These tests break the configuration of a real temporary
course in the ways an instructor could, then run both grading commands and check that no
student code ran and nothing was scored.
"""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import hostile_catalog as hc
import pytest

from keras_course.course import submit
from keras_course.grading import protections
from keras_course.submissions import read_variant

ROOT = Path(__file__).resolve().parents[1]
MARKER = "ran-outside-the-protections"

#: A wrong solution that leaves a mark if it ever runs (stock nbgrader runs it in this folder).
MARKING = f'''"""Writes a file next to the notebook whenever it runs."""
LOSES = []

SOLUTIONS = {{
    "build_sequential": """
def build_sequential(input_dim, num_classes):
    open("{MARKER}", "w").write("x")
    raise NotImplementedError()
""",
}}
'''


def test_the_course_configuration_passes():
    assert protections.pipeline_problems(protections.load_course_config(ROOT)) == []
    protections.check_course(ROOT)


def test_the_environment_guard_is_installed():
    """`make` writes it; nbgrader loads it before the course's configuration."""
    from jupyter_core.paths import jupyter_config_path

    assert protections.installed(), protections.guard_path()
    assert str(protections.guard_path().parent) in jupyter_config_path()


@pytest.mark.parametrize("change, problem", [
    ({"autograde_preprocessors": [protections.REFUSE]}, "was not loaded"),
    ({"autograde_preprocessors": ["nbgrader.preprocessors.Execute", protections.VERIFY_EVIDENCE,
                                  "nbgrader.preprocessors.SaveAutoGrades"]}, "is not in"),
    ({"autograde_preprocessors": [protections.SANDBOXED_EXECUTE,
                                  "nbgrader.preprocessors.SaveAutoGrades",
                                  protections.VERIFY_EVIDENCE]}, "does not come right after"),
    ({"sanitize_preprocessors": ["nbgrader.preprocessors.ClearOutput"]}, "RestoreCells"),
    ({"autograde_preprocessors": [protections.SKIP_CELLS, "nbgrader.preprocessors.IgnorePattern",
                                  protections.SANDBOXED_EXECUTE, protections.VERIFY_EVIDENCE]},
     "SkipDemoCells` does not come right before"),
])
def test_a_weakened_pipeline_is_named(change, problem):
    config = protections.load_course_config(ROOT)
    for key, value in change.items():
        setattr(config.Autograde, key, value)
    problems = protections.pipeline_problems(config)
    assert any(problem in p for p in problems), problems


def test_a_kernel_without_bubblewrap_is_named():
    config = protections.load_course_config(ROOT)
    config.SandboxedKernelManager.required = False
    assert any("bubblewrap" in p for p in protections.pipeline_problems(config))


BROKEN = {
    "raises": lambda text: text + "\nraise RuntimeError('half-edited')\n",
    "syntax error": lambda text: text.replace("c.Execute.timeout = 120", "c.Execute.timeout = ("),
    "missing": None,
    "replaced by a minimal one": lambda text: 'c = get_config()\nc.CourseDirectory.course_id = '
                                              '"keras-apis"\n',
}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course with one submission whose code leaves a mark if it runs."""
    root = hc.make_course(tmp_path_factory.mktemp("protections") / "course")
    variant_file = root / "marking.py"
    variant_file.write_text(MARKING)
    submit(root, "mark", hc.ASSIGNMENT, read_variant(variant_file))
    return root


def _break(root: Path, how: str) -> str:
    config = root / "nbgrader_config.py"
    good = config.read_text()
    if BROKEN[how] is None:
        config.unlink()
    else:
        config.write_text(BROKEN[how](good))
    return good


def _scores(root: Path) -> list:
    with sqlite3.connect(root / "gradebook.db") as db:
        return db.execute("SELECT auto_score FROM grade").fetchall()


@pytest.mark.pipeline
@pytest.mark.parametrize("how", sorted(BROKEN))
def test_plain_nbgrader_refuses(course, how):
    """`nbgrader autograde` with the course's environment: nothing runs, the reason is named."""
    good = _break(course, how)
    try:
        proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", hc.ASSIGNMENT,
                               "--force"], cwd=course, env=hc.nbgrader_env(),
                              capture_output=True, text=True, timeout=600)
    finally:
        (course / "nbgrader_config.py").write_text(good)
    output = proc.stdout + proc.stderr
    assert "refuses to autograde" in output, output[-3000:]
    assert not list(course.rglob(MARKER))
    if (course / "gradebook.db").exists():
        assert all(score in (None, 0) for (score,) in _scores(course))


@pytest.mark.pipeline
@pytest.mark.parametrize("how", ["raises", "replaced by a minimal one"])
def test_make_grade_refuses(course, how):
    """`make grade` stops before any worker starts, and says what to do."""
    good = _break(course, how)
    try:
        proc = subprocess.run([sys.executable, "-m", "keras_course.course", "grade", "--root",
                               str(course)], env=hc.nbgrader_env(), capture_output=True,
                              text=True, timeout=600)
    finally:
        (course / "nbgrader_config.py").write_text(good)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Nothing was graded" in output or "before any submission ran" in output, output
    assert "git checkout nbgrader_config.py" in output or "protections check" in output
    assert not list(course.rglob(MARKER))
