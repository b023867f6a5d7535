"""Under autograde, the instructor's demonstration cells that no verdict needs do not run.

A training run and the cells that only plot its history cost a graded notebook more time than
the student's own cells and the test calls together, and no grade depends on them. The
instructor marks such cells in `source/`, in the cell's metadata, in one place:

    "metadata": {"keras_course": {"grading": "skip"}, "nbgrader": {"locked": true, ...}}

(a locked nbgrader cell with a `grade_id` of its own, so that students cannot change it and
autograde restores it from the gradebook). `SkipDemoCells`, right before the sandboxed Execute
in `c.Autograde.autograde_preprocessors`, gives the cells it skips nbclient's `skip-execution`
tag and a one-line output saying why they did not run. Validate, `make lab-student` and a
self-learner's JupyterLab never run this step: they run every cell as before.

What it trusts: nothing of the submitted notebook's metadata. A cell is skipped only when all
of these hold:

- the instructor's notebook in `source/` has a code cell with the same `grade_id`, locked, not
  a solution, test or task cell, that carries the marker;
- the submitted cell (already repaired from the gradebook by `RestoreCells`: locked cells get
  the instructor's source and flags back) is locked, not graded, not a solution, and its source
  equals the instructor's;
- no cell that runs reads a name the skipped cell would have bound: no later cell that is not
  skipped, no test cell (its hidden calls may be sent after the last cell) and no solution cell
  (the student's code, anywhere). A cell that cannot be parsed (a magic, a syntax error) may
  read anything: marked cells before it run. So a demonstration that a later cell needs runs,
  whatever the marker says.

A `skip-execution` tag the submission put on any other cell is removed, so a student cannot skip
a test cell (stock nbgrader would skip it and score it as passed). Adding or removing the
marker in a submission changes nothing: the decision is read from `source/`.
"""
from __future__ import annotations

import ast
import builtins
import json
import symtable
from pathlib import Path

from nbformat.notebooknode import from_dict
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool

from ..messages import SKIPPED_DEMO

#: The instructor's marker: cell.metadata[MARKER_KEY][MARKER_FIELD] == MARKER_VALUE in source/.
MARKER_KEY, MARKER_FIELD, MARKER_VALUE = "keras_course", "grading", "skip"
#: nbclient's tag for a cell it does not run (`NotebookClient.skip_cells_with_tag`).
SKIP_TAG = "skip-execution"


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def marked(cell) -> bool:
    """True when an (instructor's) cell carries the skip marker."""
    ours = cell.get("metadata", {}).get(MARKER_KEY)
    return isinstance(ours, dict) and ours.get(MARKER_FIELD) == MARKER_VALUE


# --------------------------------------------------------------------------------------------
# Which names a cell binds and which it reads before binding them
# --------------------------------------------------------------------------------------------

class Unparsable(ValueError):
    """A cell that is not plain Python: it may read or bind anything."""


def _parse(source: str) -> ast.Module:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError) as exc:
        raise Unparsable(str(exc)) from exc


def _statement_names(stmt: ast.stmt) -> tuple[set[str], set[str]]:
    """(names read, names bound) at module level by one top-level statement, nested scopes'
    reads of module-level names included (symtable decides what is global in a function)."""
    code = ast.unparse(stmt)
    table = symtable.symtable(code, "<cell>", "exec")
    reads, binds = set(), set()
    for sym in table.get_symbols():
        if sym.is_referenced():
            reads.add(sym.get_name())
        if sym.is_assigned() or sym.is_imported() or sym.is_namespace():
            binds.add(sym.get_name())
    stack = list(table.get_children())
    while stack:
        child = stack.pop()
        stack.extend(child.get_children())
        for sym in child.get_symbols():
            if (sym.is_global() or sym.is_free()) and sym.is_referenced():
                reads.add(sym.get_name())
            if sym.is_declared_global() and sym.is_assigned():
                binds.add(sym.get_name())
    return reads, binds


def cell_names(source: str) -> tuple[set[str], set[str]]:
    """(names the cell reads before it binds them, names it binds); raises `Unparsable`."""
    tree = _parse(source)
    free: set[str] = set()
    bound: set[str] = set()
    for stmt in tree.body:
        reads, binds = _statement_names(stmt)
        free |= reads - bound
        bound |= binds
    return {n for n in free if not hasattr(builtins, n)}, bound


def _reads(source: str) -> set[str] | None:
    """Names a cell may read from earlier cells; None when it may read anything."""
    try:
        return cell_names(source)[0]
    except (Unparsable, SyntaxError, ValueError, RecursionError):
        return None


# --------------------------------------------------------------------------------------------
# The decision
# --------------------------------------------------------------------------------------------

def instructor_marks(source_nb: dict) -> dict[str, str]:
    """grade_id -> source of the instructor's cells that may be skipped (marked, locked code
    cells that are neither solution, test nor task cells)."""
    out = {}
    for cell in source_nb.get("cells", []):
        meta = _meta(cell)
        grade_id = meta.get("grade_id")
        if (cell.get("cell_type") == "code" and marked(cell) and isinstance(grade_id, str)
                and meta.get("locked") and not meta.get("solution") and not meta.get("grade")
                and not meta.get("task")):
            out[grade_id] = _source(cell)
    return out


def instructor_tests(source_nb: dict) -> list[str]:
    """Sources of the instructor's test cells (hidden tests included)."""
    return [_source(c) for c in source_nb.get("cells", [])
            if c.get("cell_type") == "code" and _meta(c).get("grade")
            and not _meta(c).get("solution")]


def cells_to_skip(nb, source_nb: dict) -> list[int]:
    """Indices of the submitted notebook's cells that need not run (see the module)."""
    marks = instructor_marks(source_nb)
    if not marks:
        return []
    candidates = []
    for index, cell in enumerate(nb.cells):
        meta = _meta(cell)
        grade_id = meta.get("grade_id")
        if (cell.get("cell_type") == "code" and grade_id in marks and meta.get("locked")
                and not meta.get("solution") and not meta.get("grade") and not meta.get("task")
                and _source(cell).strip() == marks[grade_id].strip()):
            candidates.append(index)
    if not candidates:
        return []
    # what runs anyway and may read names: every test cell (its hidden calls may come after the
    # last cell) and every solution cell (the student's code), wherever they are
    anywhere: set[str] = set()
    for source in instructor_tests(source_nb) + [
            _source(c) for c in nb.cells if c.get("cell_type") == "code"
            and (_meta(c).get("solution") or _meta(c).get("grade"))]:
        reads = _reads(source)
        if reads is None:
            return []
        anywhere |= reads
    skip: set[int] = set()
    later: set[str] = set(anywhere)  # names read by what runs after the current cell
    chosen = set(candidates)
    for index in range(len(nb.cells) - 1, -1, -1):
        cell = nb.cells[index]
        if cell.get("cell_type") != "code":
            continue
        if index in chosen:
            try:
                binds = cell_names(_source(cell))[1]
            except (Unparsable, SyntaxError, ValueError, RecursionError):
                binds = None
            if binds is not None and not binds & later:
                skip.add(index)
                continue
        reads = _reads(_source(cell))
        if reads is None:  # it may read anything: every earlier marked cell runs
            chosen = set()
            later = set()
            continue
        later |= reads
    return sorted(skip)


class SkipDemoCells(NbGraderPreprocessor):
    """Marks the instructor's demonstration cells that no verdict needs so Execute skips them."""

    enabled = Bool(True, help="skip the cells source/ marks (False: run every cell)"
                   ).tag(config=True)

    def _source_notebook(self, resources) -> dict | None:
        info = resources.get("nbgrader", {})
        assignment, notebook = info.get("assignment"), info.get("notebook")
        if not assignment or not notebook:
            return None
        coursedir = CourseDirectory(config=self.config)
        folder = Path(coursedir.root) / coursedir.source_directory / assignment
        path = folder / f"{notebook}.ipynb"
        try:
            if path.resolve().parent != folder.resolve() or not path.is_file():
                return None
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def preprocess(self, nb, resources):
        for cell in nb.cells:  # no cell is skipped because the submission says so
            tags = cell.get("metadata", {}).get("tags")
            if isinstance(tags, list) and SKIP_TAG in tags:
                cell.metadata["tags"] = [t for t in tags if t != SKIP_TAG]
                if not cell.metadata["tags"]:
                    del cell.metadata["tags"]
            elif tags is not None and not isinstance(tags, list):
                del cell.metadata["tags"]
        source_nb = self._source_notebook(resources) if self.enabled else None
        skipped = cells_to_skip(nb, source_nb) if source_nb else []
        for index in skipped:
            cell = nb.cells[index]
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), SKIP_TAG]
            cell.outputs = [from_dict({"output_type": "stream", "name": "stdout",
                                       "text": SKIPPED_DEMO})]
            cell.execution_count = None
        if skipped:
            self.log.info("not run (instructor's demonstrations no grade needs): %s",
                          ", ".join(_meta(nb.cells[i]).get("grade_id", "?") for i in skipped))
        resources.setdefault("keras_course", {})["skipped"] = [
            _meta(nb.cells[i]).get("grade_id") for i in skipped]
        return nb, resources


__all__ = ["SkipDemoCells", "cells_to_skip", "cell_names", "marked", "SKIP_TAG"]
