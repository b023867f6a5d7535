"""The instructor pipeline on a temporary copy of the course, with the real nbgrader.

One class is graded once for the whole module: the demo class through the main job
(`python -m keras_course.course demo`), then every other variant of every assignment, the
reference solution and the untouched release notebook through `grade`. The tests read the
gradebook, the feedback and the grades CSV that real nbgrader wrote.
"""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, copy_course
from nbgrader.api import Gradebook

from keras_course.course import demo_class, load_variant, submit
from keras_course.submissions import read_variant, test_cells

pytestmark = pytest.mark.pipeline

ASSIGNMENTS = sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir())
VARIANTS = sorted((ROOT / "demo" / "variants").glob("*/*.py"))


def course_cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "keras_course.course", *args, "--root", str(root)],
                          capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def variant_student(path: Path) -> str:
    return f"v-{path.stem}"


def read_grades(root: Path) -> dict[tuple[str, str], dict[str, tuple[float, float]]]:
    """(student, assignment) -> {grade_id: (score, max_score)} for every autograded test cell."""
    grades = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for assignment in ASSIGNMENTS:
            for submission in gb.assignment_submissions(assignment):
                cells = {}
                for nb in submission.notebooks:
                    for grade in nb.grades:
                        if grade.cell_type == "code" and grade.auto_score is not None:
                            cells[grade.name] = (grade.score, grade.max_score)
                grades[(submission.student.id, assignment)] = cells
    return grades


_FAILURE: list[str] = []


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    """The graded class; if grading it fails once, every test here fails at once with why."""
    if _FAILURE:
        pytest.fail(_FAILURE[0], pytrace=False)
    try:
        return _grade_class(tmp_path_factory)
    except BaseException as exc:
        _FAILURE.append(f"grading the test class failed: {exc}")
        raise


def _grade_class(tmp_path_factory) -> dict:
    root = copy_course(tmp_path_factory.mktemp("pipeline") / "course")
    demo = course_cli(root, "demo")
    demo_grades = read_grades(root)
    for assignment in ASSIGNMENTS:
        submit(root, "reference", assignment, None)
        submit(root, "blank", assignment, load_variant(root, assignment, "blank"))
    for path in VARIANTS:
        submit(root, variant_student(path), path.parent.name, read_variant(path))
    more = course_cli(root, "grade")
    again = course_cli(root, "grade")
    return {"root": root, "demo": demo, "more": more, "again": again,
            "demo_grades": demo_grades, "grades": read_grades(root)}


def max_points(assignment: str) -> dict[str, float]:
    nb = nbformat.read(next((ROOT / "source" / assignment).glob("*.ipynb")), as_version=4)
    return {gid: float(c.metadata["nbgrader"]["points"]) for gid, c in test_cells(nb).items()}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_solution_earns_full_marks(graded, assignment):
    cells = graded["grades"][("reference", assignment)]
    assert cells, "the reference submission was not graded"
    lost = {gid: s for gid, s in cells.items() if s[0] != s[1]}
    assert not lost, f"the reference solution lost points: {lost}"
    assert {gid: s[1] for gid, s in cells.items()} == max_points(assignment)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_notebook_scores_zero(graded, assignment):
    cells = graded["grades"][("blank", assignment)]
    assert cells and all(score == 0 for score, _ in cells.values()), cells


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_variant_loses_exactly_the_points_of_its_mistakes(graded, path):
    variant = read_variant(path)
    cells = graded["grades"][(variant_student(path), path.parent.name)]
    assert cells, "the variant was not graded"
    lost = sorted(gid for gid, (score, top) in cells.items() if score != top)
    assert lost == sorted(variant.loses), \
        f"{variant.summary}: lost {lost}, expected {variant.loses}"
    partial = {gid: s for gid, s in cells.items() if s[0] not in (0, s[1])}
    assert not partial, f"cells scored neither zero nor full: {partial}"


def test_demo_grades_every_demo_submission_and_writes_feedback_and_csv(graded):
    root = graded["root"]
    klass = demo_class(root)
    expected = {(s, a) for s, work in klass.items() for a in work}
    assert expected <= set(graded["demo_grades"])
    for student, assignment in expected:
        html = list((root / "feedback" / student / assignment).glob("*.html"))
        assert html, f"no feedback for {student}/{assignment}"
    rows = list(csv.DictReader((root / "grades" / "grades.csv").open()))
    graded_rows = {(r["student_id"], r["assignment"]) for r in rows if r["timestamp"]}
    assert expected <= graded_rows
    out = graded["demo"].stdout
    assert "grades CSV:" in out and "feedback:" in out and "autograded notebooks:" in out
    for student in klass:
        assert student in out, f"the demo summary does not list {student}"


def test_demo_grades_agree_with_each_variants_promise(graded):
    """The demo class's spread comes from the variants: each demo student loses what it says."""
    root = graded["root"]
    for student, work in demo_class(root).items():
        for assignment, name in work.items():
            cells = graded["demo_grades"][(student, assignment)]
            lost = sorted(g for g, (s, m) in cells.items() if s != m)
            if name == "reference":
                assert lost == []
            elif name == "blank":
                assert lost == sorted(cells)
            else:
                assert lost == sorted(load_variant(root, assignment, name).loses), (student, name)


def test_feedback_shows_failures_but_not_hidden_tests(graded):
    root = graded["root"]
    failed_any = False
    for html in (root / "feedback").glob("*/*/*.html"):
        text = html.read_text()
        assert "BEGIN HIDDEN TESTS" not in text and "hidden=True" not in text, html
        assert "BEGIN MARK SCHEME" not in text and "Rubric for the grader" not in text, html
        failed_any |= "Error" in text
    assert failed_any, "no feedback shows a failure message"
    hard = root / "feedback" / "v-hard_coded_sizes" / "a1_sequential"
    text = next(hard.glob("*.html")).read_text()
    assert "(None, 13)" not in text and "build_sequential(13" not in text


def test_second_grade_run_regrades_nothing_and_keeps_grades(graded):
    assert "0 submissions to grade" in graded["again"].stdout
    assert read_grades(graded["root"]) == graded["grades"]
