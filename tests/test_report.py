"""The grading report: what it reads from the gradebook, what it flags, and the page it writes.

The first tests build a gradebook by hand with nbgrader's API (fast, no kernels). The last one
grades a small class with the real pipeline (`python -m keras_course.course grade`) and checks
the page and plots that run leaves in `reports/`.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import copy_course
from nbgrader.api import Gradebook

from keras_course.report import ClassReport, Submission, collect, plot_assignment, write_report

CHECKS = ["test_f_api", "test_f_inputs", "test_g_loss"]
PNG = b"\x89PNG\r\n\x1a\n"


def _course(tmp_path: Path) -> Path:
    """A course folder with one assignment whose source notebook lists the three checks."""
    import nbformat

    root = tmp_path / "course"
    (root / "source" / "a1").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    for gid in ["f", *CHECKS[:2], "g", CHECKS[2]]:
        cell = nbformat.v4.new_code_cell("pass")
        cell.metadata["nbgrader"] = {"grade_id": gid, "grade": gid.startswith("test_"),
                                     "solution": not gid.startswith("test_"), "locked": False,
                                     "points": 1 if gid.startswith("test_") else 0,
                                     "schema_version": 3}
        nb.cells.append(cell)
    nbformat.write(nb, root / "source" / "a1" / "a1.ipynb")
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    return root


def _gradebook(root: Path, scores: dict[str, list[float]]) -> str:
    """Students -> score of each check (1 passed, 0 failed) in a new SQLite gradebook."""
    url = f"sqlite:///{root / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.add_assignment("a1")
        gb.add_notebook("a1", "a1")
        for gid in CHECKS:
            gb.add_grade_cell(gid, "a1", "a1", max_score=1, cell_type="code")
        for student, marks in scores.items():
            gb.add_student(student)
            gb.add_submission("a1", student)
            for gid, mark in zip(CHECKS, marks):
                grade = gb.find_grade(gid, "a1", "a1", student)
                grade.auto_score = mark
                grade.needs_manual_grade = False
            gb.db.commit()
    return url


@pytest.fixture
def small_class(tmp_path: Path):
    root = _course(tmp_path)
    url = _gradebook(root, {"ana": [1, 1, 1], "bo": [1, 0, 1], "cy": [0, 0, 0],
                            "dee": [1, 0, 0], "eve": [1, 1, 1]})
    for student in ["ana", "bo", "cy", "dee", "eve"]:
        (root / "autograded" / student / "a1").mkdir(parents=True)
        (root / "submitted" / student / "a1").mkdir(parents=True)
    return root, url


def test_collect_reads_scores_and_checks_from_the_gradebook(small_class):
    root, url = small_class
    report = collect(root, url)
    assert report.assignments == ["a1"]
    assert report.check_order["a1"] == CHECKS
    by_student = {s.student: s for s in report.submissions}
    assert by_student["bo"].score == 2 and by_student["bo"].max_score == 3
    assert by_student["bo"].checks == {"test_f_api": (1, 1), "test_f_inputs": (0, 1),
                                       "test_g_loss": (1, 1)}
    assert report.pass_rates("a1") == [("test_f_api", 4, 5), ("test_f_inputs", 2, 5),
                                       ("test_g_loss", 3, 5)]


def test_flags_name_failures_zeros_and_stopped_kernels(small_class):
    root, url = small_class
    (root / "grades").mkdir()
    (root / "submitted" / "fox" / "a1").mkdir(parents=True)
    (root / "grades" / "failures.json").write_text(json.dumps({"fox/a1": {
        "student": "fox", "assignment": "a1", "reason": "the notebook file is not valid JSON"}}))
    stopped = {"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": [
        {"output_type": "error", "ename": "DeadKernelError", "evalue": "died",
         "traceback": []}]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (root / "autograded" / "dee" / "a1" / "a1.ipynb").write_text(json.dumps(stopped))
    flags = {(f.student, f.kind): f.detail for f in collect(root, url).flags}
    assert flags[("fox", "failed to grade")] == "the notebook file is not valid JSON"
    assert ("cy", "zero on everything") in flags
    assert flags[("dee", "timed out or stopped")] == "the kernel died"
    assert not [k for k in flags if k[0] in ("ana", "bo", "eve")]


def test_failures_of_submissions_that_are_gone_are_not_flagged(small_class):
    root, url = small_class
    (root / "grades").mkdir()
    (root / "grades" / "failures.json").write_text(json.dumps({"gone/a1": {
        "student": "gone", "assignment": "a1", "reason": "x"}}))
    from keras_course.grading.batch import record_failures

    record_failures(root, [])
    assert json.loads((root / "grades" / "failures.json").read_text()) == {}


def test_write_report_makes_a_page_with_one_plot_per_assignment(small_class):
    root, url = small_class
    index = write_report(root, report=collect(root, url), run={"graded in this run": 5})
    page = index.read_text()
    png = index.parent / "a1.png"
    assert png.read_bytes().startswith(PNG)
    assert "<img src='a1.png'" in page
    for text in ("Submissions to look at", "zero on everything", "<td>cy</td>",
                 "<code>test_f_inputs</code> (40%)", "graded in this run: 5"):
        assert text in page, text


def test_plot_handles_an_assignment_nobody_submitted(tmp_path):
    report = ClassReport(["a9"], {"a9": 10}, {"a9": ["test_x"]}, [])
    assert plot_assignment(report, "a9", tmp_path / "a9.png").read_bytes().startswith(PNG)
    one = ClassReport(["a9"], {"a9": 100}, {"a9": ["test_x"]},
                      [Submission("s", "a9", 55.5, 100, {"test_x": (0, 1)})])
    assert plot_assignment(one, "a9", tmp_path / "b.png").read_bytes().startswith(PNG)


@pytest.mark.pipeline
def test_grade_writes_the_report_of_a_graded_class(tmp_path):
    """A real run: reference, blank, a variant, a notebook that is not JSON, a dying kernel."""
    from keras_course.course import load_variant, release, submit
    from keras_course.submissions import Variant

    root = copy_course(tmp_path / "course")
    release(root)
    a = "a1_sequential"
    submit(root, "ref", a, None)
    submit(root, "blank", a, load_variant(root, a, "blank"))
    submit(root, "hard", a, load_variant(root, a, "hard_coded_sizes"))
    submit(root, "broken", a, None)
    nb = root / "submitted" / "broken" / a / f"{a}.ipynb"
    nb.write_text(nb.read_text()[:3000])
    submit(root, "dies", a, Variant("dies", "the kernel exits", [], cells={
        "compile_classifier": "import os\nos._exit(3)"}))
    proc = subprocess.run([sys.executable, "-m", "keras_course.course", "grade", "--root",
                           str(root)], capture_output=True, text=True, timeout=1800)
    assert "broken/a1_sequential: the notebook file is not valid JSON" in proc.stdout, \
        proc.stdout[-3000:] + proc.stderr[-3000:]
    page = (root / "reports" / "index.html").read_text()
    assert (root / "reports" / f"{a}.png").read_bytes().startswith(PNG)
    flags = {}
    for f in collect(root).flags:
        flags.setdefault(f.student, []).append(f.kind)
    assert flags == {"broken": ["failed to grade"], "blank": ["zero on everything"],
                     "dies": ["timed out or stopped"]}, flags
    for student in ("broken", "blank", "dies"):
        assert f"<td>{student}</td>" in page
    assert "test_build_sequential_inputs" in page
