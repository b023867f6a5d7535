"""The course directory's answers (`keras_course.coursedir`), against nbgrader's own."""
from __future__ import annotations

import json
import os

import nbformat
from conftest import ROOT
from nbgrader.preprocessors import ClearHiddenTests

from keras_course import coursedir


def test_the_course_is_found_from_inside_it_and_nowhere_else(tmp_path):
    assert coursedir.course_root(ROOT / "source" / "a1_sequential") == ROOT
    try:
        coursedir.course_root(tmp_path)
    except SystemExit as exc:
        assert "No course here" in str(exc) and str(tmp_path) in str(exc)
    else:
        raise AssertionError("a folder outside any course was taken for one")


def test_assignments_and_notebooks_are_the_source_folders():
    names = coursedir.assignments(ROOT)
    assert names == sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir()
                           and not p.name.startswith((".", "_")))
    for name in names:
        assert [p.name for p in coursedir.source_notebooks(ROOT, name)] == [f"{name}.ipynb"]


def test_test_cells_are_the_cells_nbgrader_grades_that_are_no_solutions():
    """Every notebook, read as nbformat and as plain JSON, gives the same test cells."""
    for path in (ROOT / "source").glob("*/*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        expected = [c.metadata.nbgrader["grade_id"] for c in nb.cells if c.cell_type == "code"
                    and c.metadata.get("nbgrader", {}).get("grade")
                    and not c.metadata.nbgrader.get("solution")]
        assert expected, path
        assert [c.metadata.nbgrader["grade_id"] for c in nb.cells
                if coursedir.is_test_cell(c)] == expected
        raw = json.loads(path.read_text())["cells"]
        assert [c["metadata"]["nbgrader"]["grade_id"] for c in raw
                if coursedir.is_test_cell(c)] == expected
    odd = [{"cell_type": "code", "metadata": {"nbgrader": "grade"}}, {"cell_type": "code"},
           {"cell_type": "markdown", "metadata": {"nbgrader": {"grade": True}}}, "cell", None]
    assert not any(coursedir.is_test_cell(c) for c in odd)


def test_hidden_markers_are_nbgraders():
    traits = ClearHiddenTests.class_traits()
    assert coursedir.hidden_markers() == (traits["begin_test_delimeter"].default(),
                                          traits["end_test_delimeter"].default())
    source = (ROOT / "source" / "a1_sequential" / "a1_sequential.ipynb").read_text()
    assert all(marker in source for marker in coursedir.hidden_markers())


def test_nbgrader_runs_with_this_environments_bin_first_and_tensorflow_quiet():
    env = coursedir.nbgrader_env({"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "1"})
    assert env["PATH"].split(os.pathsep) == [str(coursedir.bin_dir()), "/usr/bin", "/bin"]
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "1"  # a setting of the user's stays
    assert env["TF_ENABLE_ONEDNN_OPTS"] == "0"
    assert coursedir.nbgrader_env(env)["PATH"] == env["PATH"]  # not prepended twice


def test_the_gradebook_is_the_one_the_course_config_names(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()  # noqa\n")
    assert coursedir.gradebook_url(tmp_path) == f"sqlite:///{tmp_path / 'gradebook.db'}"
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa\nc.CourseDirectory.db_url = 'postgresql://db/course'\n")
    assert coursedir.gradebook_url(tmp_path) == "postgresql://db/course"
