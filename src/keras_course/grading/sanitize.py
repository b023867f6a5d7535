"""Autograde's sanitize step for damaged notebooks, and hooks that keep the gradebook honest.

Configured in `nbgrader_config.py` in place of nbgrader's `DeduplicateIds` and `OverwriteCells`:

- `KeepFirstIds`: a copied graded cell (its `grade_id` twice) keeps the first cell of each
  `grade_id`; later copies become ordinary cells. nbgrader's `DeduplicateIds` leaves them with
  empty nbgrader metadata, which fails validation as an old schema and stops the whole
  `nbgrader autograde` run, so the students after that one are not graded.
- `RestoreCells`: nbgrader's `OverwriteCells`, made to repair what it can and never crash.
  Every cell with a `grade_id` gets the instructor's flags and points back (a solution cell
  marked as graded, inflated points); a cell whose `grade_id` is not in the assignment becomes
  an ordinary cell; a graded cell whose nbgrader metadata was stripped is recognised (a locked
  cell by its code, a solution cell by the function or variable it defines) and gets it back;
  a retyped cell gets its type back; and a deleted graded cell is put back from the gradebook
  next to its neighbours (nbgrader's own `add_missing_cells` raises when a neighbour is
  missing too).

`forget_old_grades`, nbgrader's `pre_convert_hook`, sets the automatic scores of a submission
to zero before nbgrader grades it: a regrade that fails leaves zeros, never the last run's
grades as if they were current.
"""
from __future__ import annotations

import ast
import functools
import re
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells

from ..coursedir import hidden_markers

#: Keys of nbgrader's cell metadata that the gradebook decides.
FLAGS = ("grade", "solution", "locked", "task")


def _nbgrader_meta(cell: NotebookNode) -> Any:
    return cell.get("metadata", {}).get("nbgrader")


def _drop_meta(cell: NotebookNode) -> None:
    cell.metadata.pop("nbgrader", None)


class KeepFirstIds(NbGraderPreprocessor):
    """Keep the first cell of each `grade_id`; later copies become ordinary cells."""

    def preprocess(self, nb, resources):
        seen: set[str] = set()
        for index, cell in enumerate(nb.cells):
            meta = _nbgrader_meta(cell)
            if meta is None:
                continue
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            if not isinstance(grade_id, str) or not grade_id:
                if not isinstance(meta, dict) or any(meta.get(k) for k in FLAGS):
                    self.log.warning("cell %s: nbgrader metadata without a usable grade_id; "
                                     "graded as an ordinary cell", index)
                    _drop_meta(cell)
                continue
            if grade_id in seen:
                self.log.warning("cell %s: a second cell with grade_id '%s' (a copied cell); "
                                 "the first one is graded, this one is an ordinary cell",
                                 index, grade_id)
                _drop_meta(cell)
            else:
                seen.add(grade_id)
        return nb, resources


def _without_hidden_tests(source: str) -> str:
    begin, end = (re.escape(marker) for marker in hidden_markers())
    return re.sub(rf"[ \t]*### {begin}.*?### {end}[ \t]*\n?", "", source, flags=re.S)


def _normalised(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _defines(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


class RestoreCells(OverwriteCells):
    """nbgrader's `OverwriteCells`, repairing damaged metadata instead of failing on it."""

    def preprocess(self, nb, resources):
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        with Gradebook(resources["nbgrader"]["db_url"]) as gb:
            source_nb = gb.find_notebook(self.notebook_id, self.assignment_id)
            grade_cells = {c.name: float(c.max_score) for c in source_nb.grade_cells}
            solution_cells = {c.name for c in source_nb.solution_cells}
            task_cells = {c.name: float(c.max_score) for c in source_nb.task_cells}
            self._known = {
                c.name: {"cell_type": c.cell_type, "locked": bool(c.locked), "source": c.source,
                         "grade": c.name in grade_cells, "solution": c.name in solution_cells,
                         "task": c.name in task_cells,
                         "points": grade_cells.get(c.name, task_cells.get(c.name))}
                for c in source_nb.source_cells}
        self._reattach(nb)
        return super().preprocess(nb, resources)

    def _reattach(self, nb) -> None:
        """Give cells that lost their nbgrader metadata their `grade_id` back."""
        present = {m.get("grade_id") for c in nb.cells
                   if isinstance(m := _nbgrader_meta(c), dict)}
        for grade_id, known in self._known.items():
            if grade_id in present:
                continue
            for index, cell in enumerate(nb.cells):
                if _nbgrader_meta(cell) is not None:
                    continue
                if known["locked"]:
                    wanted = {_normalised(known["source"]),
                              _normalised(_without_hidden_tests(known["source"]))}
                    match = _normalised(cell.source) in wanted
                else:
                    match = cell.cell_type == "code" and known["cell_type"] == "code" \
                        and grade_id in _defines(cell.source)
                if match:
                    self.log.warning("cell %s had lost its nbgrader metadata; recognised as "
                                     "'%s'", index, grade_id)
                    cell.metadata["nbgrader"] = {"grade_id": grade_id, "schema_version": 3}
                    present.add(grade_id)
                    break

    def update_cell_type(self, cell, cell_type):
        """Turn a retyped cell back into `cell_type`, whatever type it was changed to."""
        if cell.cell_type == cell_type:
            return
        if cell_type == "code":
            fresh = nbformat.v4.new_code_cell(cell.source)
        else:
            fresh = nbformat.v4.new_markdown_cell(cell.source)
        fresh.metadata = cell.metadata
        if "id" in cell:
            fresh.id = cell.id
        cell.clear()
        cell.update(fresh)

    def preprocess_cell(self, cell, resources, cell_index):
        meta = _nbgrader_meta(cell)
        if meta is None:
            return cell, resources
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        known = self._known.get(grade_id) if isinstance(grade_id, str) else None
        if known is None:
            if grade_id is not None:
                self.log.warning("cell '%s' is not part of the assignment; graded as an "
                                 "ordinary cell", grade_id)
            _drop_meta(cell)
            return cell, resources
        for flag in FLAGS:
            meta[flag] = known[flag]
        if known["grade"] or known["task"]:
            meta["points"] = known["points"]
        else:
            meta.pop("points", None)
        meta["schema_version"] = 3
        if "cell_type" in meta:
            meta["cell_type"] = known["cell_type"]
        return super().preprocess_cell(cell, resources, cell_index)

    def add_missing_grade_cells(self, nb, resources):
        """Put deleted graded cells back after the nearest earlier cell that is still there."""
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        order = [c.name for c in source_nb.source_cells]
        cells = {c.name: c for c in source_nb.source_cells}
        solutions = {c.name for c in source_nb.solution_cells}

        def position(grade_id):
            for index, cell in enumerate(nb.cells):
                meta = _nbgrader_meta(cell)
                if isinstance(meta, dict) and meta.get("grade_id") == grade_id:
                    return index
            return None

        for grade_cell in source_nb.grade_cells:
            if position(grade_cell.name) is not None:
                continue
            self.log.warning("graded cell '%s' is missing; put back from the gradebook",
                             grade_cell.name)
            new = self.missing_cell_transform(cells[grade_cell.name], grade_cell.max_score,
                                              is_solution=grade_cell.name in solutions)
            k = order.index(grade_cell.name)
            before = [position(name) for name in reversed(order[:k])]
            after = [position(name) for name in order[k + 1:]]
            before = [i for i in before if i is not None]
            after = [i for i in after if i is not None]
            if before:
                nb.cells.insert(before[0] + 1, new)
            elif after:
                nb.cells.insert(after[0], new)
            else:
                nb.cells.append(new)
        return nb, resources


# ---------------------------------------------------------------------------------------------
# The hook that runs before nbgrader grades one submission.

def _submission(notebooks: list[str]) -> tuple[str, str] | None:
    """(student, assignment) of a submission, from its notebooks' paths."""
    for notebook in notebooks:
        path = Path(notebook)
        return path.parent.parent.name, path.parent.name
    return None


def zero_grades(db_url: str, assignment: str, student: str) -> int:
    """Set the automatic scores of one submission to zero; returns how many there were.

    Manual scores (an instructor's) are kept; cells that only a human grades are left alone.
    """
    count = 0
    with Gradebook(db_url) as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            return 0
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                if grade.auto_score is not None:
                    grade.auto_score = 0
                    count += 1
        gb.db.commit()
    return count


def forget_old_grades(assignment=None, student=None, notebooks=(), *, db_url: str) -> None:
    """`pre_convert_hook`: before a submission is graded, its old automatic scores become zero.

    A grading that then fails (a file that is not a notebook, a renamed notebook, a crash of the
    grader) leaves zeros and a failure in the log, never the previous run's grades as if they
    were current. nbgrader calls the hook with the command's `--student` pattern, so the
    student and assignment are read from the submission's notebook paths.
    """
    found = _submission(list(notebooks))
    if found is not None:
        zero_grades(db_url, found[1], found[0])


def pre_convert_hook(db_url: str):
    """The `pre_convert_hook` for `nbgrader_config.py`."""
    return functools.partial(forget_old_grades, db_url=db_url)
