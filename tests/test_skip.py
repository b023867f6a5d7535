"""The instructor's demonstrations that no verdict needs do not run under grading, and only they.

`keras_course.grading.skip.SkipDemoCells` decides from source/ (never from the submission)
which locked demonstration cells (training runs, their plots) Execute skips. These tests check
the decision on the real notebooks, what a submission's own markers change (nothing), that a
demonstration a later cell needs still runs, and, with real nbgrader along both grading paths,
that a student who marks the test cells to be skipped or strips the marker gains nothing while
the graded notebook says in one line where a cell was skipped.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import hostile_catalog as hc
import nbformat
import pytest

from keras_course.grading import protections
from keras_course.grading.skip import (
    SKIP_TAG,
    SkipDemoCells,
    cell_names,
    cells_to_skip,
    marked,
)
from keras_course.messages import SKIPPED_DEMO

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir())

#: What source/ marks, per assignment: every one of them is skipped on an honest submission.
EXPECTED = {
    "a1_sequential": ["demo_fit", "demo_fit_plot"],
    "a2_functional": ["demo_fit", "demo_fit_plot"],
    "a3_multi_io": ["demo_fit", "demo_fit_plot", "demo_evaluate", "demo_predict",
                    "demo_predict_read", "demo_agree"],
    "a4_choosing": [],
}


def source_nb(assignment: str) -> dict:
    return json.loads((ROOT / "source" / assignment / f"{assignment}.ipynb").read_text())


def release_nb(assignment: str):
    return nbformat.read(ROOT / "release" / assignment / f"{assignment}.ipynb", as_version=4)


def grade_id(cell) -> str | None:
    meta = cell.metadata.get("nbgrader")
    return meta.get("grade_id") if isinstance(meta, dict) else None


def skipped_ids(nb, assignment: str) -> list[str]:
    return [grade_id(nb.cells[i]) for i in cells_to_skip(nb, source_nb(assignment))]


def by_id(nb, wanted: str):
    return next(c for c in nb.cells if grade_id(c) == wanted)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_marked_cells_are_locked_demonstrations_that_draw_no_student_model(assignment):
    cells = [c for c in source_nb(assignment)["cells"] if marked(c)]
    assert sorted(c["metadata"]["nbgrader"]["grade_id"] for c in cells) == sorted(
        EXPECTED[assignment])
    for cell in cells:
        meta = cell["metadata"]["nbgrader"]
        assert cell["cell_type"] == "code" and meta["locked"], meta
        assert not meta.get("grade") and not meta.get("solution") and not meta.get("task"), meta
        assert "plot_model_graph" not in "".join(cell["source"]), meta["grade_id"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_marked_cell_is_skipped_on_the_released_notebook(assignment):
    assert skipped_ids(release_nb(assignment), assignment) == EXPECTED[assignment]


def test_markers_in_the_submission_change_nothing():
    nb = release_nb("a1_sequential")
    for cell in nb.cells:  # the marker taken off the demonstrations, put on everything else
        if marked(cell):
            del cell.metadata["keras_course"]
        else:
            cell.metadata["keras_course"] = {"grading": "skip"}
    assert skipped_ids(nb, "a1_sequential") == EXPECTED["a1_sequential"]


def test_a_demonstration_whose_source_changed_runs():
    nb = release_nb("a1_sequential")
    by_id(nb, "demo_fit").source += "\nprint('mine')"
    assert skipped_ids(nb, "a1_sequential") == ["demo_fit_plot"]


def test_a_cell_claiming_a_demonstrations_grade_id_is_not_skipped_unless_it_is_the_same():
    nb = release_nb("a1_sequential")
    solution = by_id(nb, "build_sequential")
    solution.metadata.nbgrader.update(grade_id="demo_fit", solution=False, locked=True)
    assert "build_sequential" not in skipped_ids(nb, "a1_sequential")
    assert cells_to_skip(nb, source_nb("a1_sequential")) == [
        i for i, c in enumerate(nb.cells) if grade_id(c) in EXPECTED["a1_sequential"]
        and c is not solution]


def test_a_demonstration_that_the_students_code_reads_runs():
    nb = release_nb("a1_sequential")
    by_id(nb, "build_sequential").source = (
        "def build_sequential(input_dim, num_classes):\n"
        "    print(history)\n    return None\n")
    assert skipped_ids(nb, "a1_sequential") == ["demo_fit_plot"]


def test_a_demonstration_that_a_later_cell_needs_runs():
    source = source_nb("a3_multi_io")
    for cell in source["cells"]:  # the instructor unmarks the evaluation, which reads `model`
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "demo_evaluate":
            del cell["metadata"]["keras_course"]
    skipped = [grade_id(release_nb("a3_multi_io").cells[i])
               for i in cells_to_skip(release_nb("a3_multi_io"), source)]
    assert "demo_fit" not in skipped and "demo_evaluate" not in skipped
    assert "demo_predict" in skipped  # reads the model, binds what no running cell reads


def test_a_cell_that_cannot_be_parsed_keeps_the_demonstrations_before_it():
    nb = release_nb("a1_sequential")
    nb.cells.append(nbformat.v4.new_code_cell("%time history"))
    assert skipped_ids(nb, "a1_sequential") == []


def test_names_read_before_bound_count_function_bodies_and_order():
    reads, binds = cell_names("def f(x):\n    return model(x) + y\n"
                              "y = 1\nmodel = f\nprint(model)\nimport numpy as np\n")
    assert reads == {"model", "y"} and binds == {"f", "y", "model", "np"}
    assert cell_names("model = call(build, 3)\nexpect(model)")[0] == {"call", "build", "expect"}


def run_step(nb, assignment: str, root: Path = ROOT):
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(root)
    step = SkipDemoCells(config=config)
    return step.preprocess(nb, {"nbgrader": {"assignment": assignment,
                                             "notebook": assignment}})


def test_the_step_tags_skipped_cells_with_a_one_line_note_and_strips_the_students_tags():
    nb = release_nb("a1_sequential")
    for cell in nb.cells:
        if grade_id(cell) and grade_id(cell).startswith("test_"):
            cell.metadata["tags"] = ["skip-execution"]
    nb, resources = run_step(copy.deepcopy(nb), "a1_sequential")
    assert resources["keras_course"]["skipped"] == EXPECTED["a1_sequential"]
    for cell in nb.cells:
        if grade_id(cell) in EXPECTED["a1_sequential"]:
            assert cell.metadata["tags"] == [SKIP_TAG]
            assert [o["text"] for o in cell.outputs] == [SKIPPED_DEMO]
            assert SKIPPED_DEMO.count("\n") == 1
        else:
            assert SKIP_TAG not in cell.metadata.get("tags", []), grade_id(cell)


def test_without_the_instructors_notebook_nothing_is_skipped(tmp_path):
    nb, resources = run_step(release_nb("a1_sequential"), "a1_sequential", root=tmp_path)
    assert resources["keras_course"]["skipped"] == []
    assert not any(SKIP_TAG in c.metadata.get("tags", []) for c in nb.cells)


def test_the_course_pipeline_skips_right_before_the_sandboxed_execute():
    config = protections.load_course_config(ROOT)
    steps = list(config.Autograde.autograde_preprocessors)
    assert steps[steps.index(protections.SANDBOXED_EXECUTE) - 1] == protections.SKIP_CELLS
    assert protections.pipeline_problems(config) == []


# --------------------------------------------------------------------------------------------
# With real nbgrader, along both grading paths
# --------------------------------------------------------------------------------------------

CASES = [c for c in hc.catalog() if "skip" in c.name]
REFERENCE = next(c for c in hc.honest_cases() if c.student == "ok-reference")


@pytest.fixture(scope="module", params=hc.PATHS, ids=lambda p: p.replace(" ", "-"))
def graded(request, tmp_path_factory):
    root = hc.make_course(tmp_path_factory.mktemp("skip") / "course")
    return hc.grade_batch(root, [REFERENCE, *CASES], listen=False, path=request.param)


@pytest.mark.pipeline
def test_skip_markers_in_a_submission_gain_nothing(graded):
    points = hc.max_points()
    assert len(CASES) == 2, [c.name for c in CASES]
    for case in [REFERENCE, *CASES]:
        cells = graded.grades.get(case.student, {})
        assert set(cells) == set(points), (case.name, graded.output[-3000:])
        lost = sorted(g for g, (score, top) in cells.items() if score != top)
        assert lost == sorted(case.loses), (case.name, lost)


@pytest.mark.pipeline
def test_the_graded_notebook_says_where_a_cell_was_skipped(graded):
    for student in (REFERENCE.student, "d-skip_marker_stripped", "d-skip_marker_on_test_cells"):
        nb = nbformat.read(graded.root / "autograded" / student / hc.ASSIGNMENT / hc.NOTEBOOK,
                           as_version=4)
        for cell in nb.cells:
            texts = [o.get("text", "") for o in cell.get("outputs", [])]
            if grade_id(cell) in EXPECTED["a1_sequential"]:
                assert texts == [SKIPPED_DEMO], (student, grade_id(cell), cell.outputs)
            elif grade_id(cell) in hc.ALL_TESTS:
                assert SKIPPED_DEMO not in texts, (student, cell)
                assert SKIP_TAG not in cell.metadata.get("tags", []), (student, cell)
                assert cell.get("execution_count"), (student, cell)  # it ran
