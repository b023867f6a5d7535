"""The notebooks as files: valid, clean, and written to the course's grading conventions."""
from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

from keras_course.coursedir import hidden_markers, is_test_cell

SOURCE = sorted((ROOT / "source").glob("*/*.ipynb"))
RELEASE = sorted((ROOT / "release").glob("*/*.ipynb"))
POINTS_HEADING = re.compile(r"^#+ .*\((\d+(?:\.\d+)?) points?\)", re.MULTILINE)


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def test_every_assignment_has_a_release_notebook():
    assert SOURCE, "source/ holds no notebooks"
    assert [p.relative_to(ROOT / "source") for p in SOURCE] == \
        [p.relative_to(ROOT / "release") for p in RELEASE]


@pytest.mark.parametrize("path", SOURCE + RELEASE, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_valid_and_committed_without_outputs(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"cells {dirty} of {path.name} carry outputs: commit notebooks clean"


@pytest.mark.parametrize("path", SOURCE, ids=lambda p: p.parent.name)
def test_graded_cells_follow_the_naming_contract(path: Path):
    """A solution cell defining `f` has grade_id `f`; each test cell's grade_id starts `test_f`."""
    nb = nbformat.read(path, as_version=4)
    solutions = {}
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and cell.cell_type == "code":
            tree = ast.parse(cell.source)
            defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)} | {
                t.id for n in tree.body if isinstance(n, ast.Assign)
                for t in n.targets if isinstance(t, ast.Name)}
            assert meta["grade_id"] in defined, \
                f"solution cell {meta['grade_id']} defines {defined}"
            solutions[meta["grade_id"]] = cell
    tests = [nbgrader_meta(c)["grade_id"] for c in nb.cells if is_test_cell(c)]
    assert tests, f"{path.name} has no test cells"
    for grade_id in tests:
        assert any(grade_id == f"test_{f}" or grade_id.startswith(f"test_{f}_")
                   for f in solutions), f"test cell {grade_id} names no solution cell"
    for f in solutions:
        assert any(t == f"test_{f}" or t.startswith(f"test_{f}_") for t in tests), \
            f"solution `{f}` has no test cell"


@pytest.mark.parametrize("path", SOURCE, ids=lambda p: p.parent.name)
def test_test_cells_are_written_as_the_grader_needs(path: Path):
    """Docstring first, no bare last expression, evidence through `call`/`submitted`, no keras."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if not is_test_cell(cell):
            continue
        gid = nbgrader_meta(cell)["grade_id"]
        tree = ast.parse(cell.source)
        assert ast.get_docstring(tree), f"{gid} does not open with a one-line docstring"
        assert not isinstance(tree.body[-1], ast.Expr) or isinstance(
            tree.body[-1].value, ast.Call), f"{gid} ends in a bare expression (partial credit)"
        assert "call(" in cell.source or "submitted(" in cell.source, \
            f"{gid} records no evidence: use keras_course.grading.call or submitted"
        assert not re.search(r"^\s*(import|from)\s+(keras|tensorflow)\b", cell.source, re.M), \
            f"{gid} imports Keras: the grader re-runs test cells without TensorFlow"
        assert "print(" not in cell.source and ".fit(" not in cell.source, \
            f"{gid} prints or trains: test cells do neither"


@pytest.mark.parametrize("path", SOURCE, ids=lambda p: p.parent.name)
def test_points_add_up_to_each_heading(path: Path):
    """The graded cells after a heading 'Part ... (N points)' are worth N points together."""
    nb = nbformat.read(path, as_version=4)
    sections: list[list] = []
    for cell in nb.cells:
        match = POINTS_HEADING.search(cell.source) if cell.cell_type == "markdown" else None
        if match:
            sections.append([float(match.group(1)), 0.0, cell.source.splitlines()[0]])
        elif nbgrader_meta(cell).get("grade"):
            assert sections, f"graded cell {nbgrader_meta(cell)['grade_id']} before any heading"
            sections[-1][1] += float(nbgrader_meta(cell)["points"])
    assert sections, f"{path.name} announces no points"
    for announced, counted, heading in sections:
        assert announced == counted, \
            f"{heading!r} announces {announced} points, its cells give {counted}"


@pytest.mark.parametrize("path", RELEASE, ids=lambda p: p.parent.name)
def test_release_hides_solutions_and_hidden_tests(path: Path):
    text = path.read_text()
    for marker in ("BEGIN SOLUTION", *hidden_markers(), "hidden=True", "BEGIN MARK SCHEME"):
        assert marker not in text, f"{path} still contains {marker!r}"


def pins(lines) -> dict[str, str]:
    found = {}
    for line in lines:
        m = re.match(r"^\s*(?:-\s+)?([A-Za-z0-9_.-]+)==([^\s#]+)", line)
        if m:
            found[m.group(1).lower()] = m.group(2)
    return found


def test_environment_yml_and_requirements_pin_the_same_versions():
    req = pins((ROOT / "requirements.txt").read_text().splitlines())
    env = pins((ROOT / "environment.yml").read_text().splitlines())
    assert req == env
    for name in ("tensorflow", "keras", "nbgrader", "jupyterlab", "matplotlib", "pytest",
                 "scikit-learn", "networkx"):
        assert name in req, f"{name} is not pinned"
    assert req["tensorflow"].startswith("2.21") and req["nbgrader"] == "0.9.6"


def test_every_pin_says_what_uses_it():
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if "==" in line:
            assert "#" in line, f"environment.yml pin without a comment: {line.strip()}"


def test_demo_class_names_existing_variants():
    with (ROOT / "demo" / "class.toml").open("rb") as f:
        klass = tomllib.load(f)
    assignments = {p.parent.name for p in SOURCE}
    for student, work in klass.items():
        for assignment, variant in work.items():
            assert assignment in assignments, f"{student}: no assignment {assignment}"
            if variant not in ("reference", "blank"):
                assert (ROOT / "demo" / "variants" / assignment / f"{variant}.py").exists(), \
                    f"{student}: no variant {variant} for {assignment}"
