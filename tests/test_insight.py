"""The report's insight sections and the feedback summary, on hand-made data (no kernels)."""
from __future__ import annotations

from collections import Counter

import nbformat

from keras_course.grading.feedback import FeedbackSummary
from keras_course.report import ClassReport, Submission

ORDER = ["t1", "t2", "t3", "t4"]


def sub(student: str, marks: list[int]) -> Submission:
    return Submission(student, "a", sum(marks), len(marks),
                      {g: (float(m), 1.0) for g, m in zip(ORDER, marks)})


def test_false_failures_are_single_failures_between_passing_checks():
    report = ClassReport(["a"], {"a": 4}, {"a": ORDER},
                         [sub("one", [1, 0, 1, 1]), sub("edge", [1, 1, 1, 0]),
                          sub("two", [1, 0, 0, 1]), sub("all", [1, 1, 1, 1]),
                          sub("blank", [0, 0, 0, 0])])
    assert [(s.student, gid) for s, gid in report.false_failures("a")] == \
        [("edge", "t4"), ("one", "t2")]


def test_top_messages_in_notebook_order_with_counts():
    report = ClassReport(["a"], {"a": 4}, {"a": ORDER}, [])
    report.messages = {"a": {"t3": Counter({"x": 1}), "t1": Counter({"y": 3, "z": 1, "w": 2})}}
    assert report.top_messages("a", n=2) == [("t1", [("y", 3), ("w", 2)]), ("t3", [("x", 1)])]


def test_summary_escapes_what_the_notebook_says():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## Part <b>1</b>"),
                nbformat.v4.new_code_cell('"""Checks `f` <script>."""\nf()')]
    nb.cells[1].metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t<1>",
                                        "points": 2, "score": 0}
    nb.cells[1].outputs = [nbformat.v4.new_output(
        "error", ename="WrongLayersError", evalue="found a layer named `<img src=x>`",
        traceback=[])]
    out, _ = FeedbackSummary().preprocess(nb, {"nbgrader": {"score": 0, "max_score": 2}})
    html = out.cells[0].source
    assert "<script>" not in html and "<img src=x>" not in html and "<b>1</b>" not in html
    assert "<code>&lt;img src=x&gt;</code>" in html and "0 / 2" in html
    assert "\n\n" not in html  # one HTML block for the Markdown renderer
