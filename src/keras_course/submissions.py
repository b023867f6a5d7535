"""Student submissions made from release notebooks: the reference solution, blanks and variants.

A variant is a Python file of top-level definitions: `def build_sequential(...)` replaces the
solution cell whose `grade_id` is `build_sequential`; `answer_q1 = "functional"` replaces the cell
`answer_q1` (a string assigned to a written-answer cell becomes its Markdown). Its imports go to
the top of the first cell it replaces. Solution cells the variant does not mention get the
reference solution, so a variant's mistakes cost only the points of its own functions. A
module-level `LOSES = [...]` lists the test cells the variant must fail (tests and the demo read
it); its docstring says in a sentence what the variant does.
"""
from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from .coursedir import is_test_cell

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"


def solution_cells(nb: NotebookNode) -> dict[str, NotebookNode]:
    """The cells students write in, by `grade_id`."""
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def test_cells(nb: NotebookNode) -> dict[str, NotebookNode]:
    """The autograded test cells, by `grade_id`."""
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if is_test_cell(c)}


# a helper, not a test: pytest must not collect it when imported
test_cells.__dict__["__test__"] = False


def reference_code(source_nb: NotebookNode) -> dict[str, str]:
    """The instructor's solutions: each solution cell with its solution markers removed."""
    out = {}
    for grade_id, cell in solution_cells(source_nb).items():
        lines = [line for line in cell.source.splitlines()
                 if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION)]
        out[grade_id] = "\n".join(lines)
    return out


@dataclass
class Variant:
    """A submission variant read from a Python file."""

    name: str
    summary: str
    loses: list[str]
    cells: dict[str, str] = field(default_factory=dict)
    imports: str = ""


def read_variant(path: Path) -> Variant:
    """Parse a variant file without running it."""
    text = path.read_text()
    tree = ast.parse(text)
    lines = text.splitlines()
    summary = (ast.get_docstring(tree) or "").split("\n\n")[0].replace("\n", " ")
    loses: list[str] = []
    cells: dict[str, str] = {}
    imports: list[str] = []
    for node in tree.body:
        segment = "\n".join(lines[node.lineno - 1 - len(getattr(node, "decorator_list", [])):
                                  node.end_lineno])
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(segment)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            cells[node.name] = cells.get(node.name, "") + segment
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name == "LOSES":
                loses = list(ast.literal_eval(node.value))
            else:
                cells[name] = segment
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        else:
            # helper code at top level (a class, a constant) joins the next definition's cell
            cells.setdefault("__prelude__", "")
            cells["__prelude__"] += segment + "\n"
    return Variant(path.stem, summary, loses, cells, "\n".join(imports))


def make_submission(release_nb: NotebookNode, source_nb: NotebookNode,
                    variant: Variant | None) -> NotebookNode:
    """A student's notebook: the release notebook with solution cells filled in.

    `variant=None` is the reference solution everywhere; a variant named `blank` leaves
    the release notebook untouched.
    """
    nb = nbformat.from_dict(json.loads(json.dumps(release_nb)))
    if variant is not None and variant.name == "blank":
        return nb
    reference = reference_code(source_nb)
    cells = solution_cells(nb)
    first_replaced = True
    prelude = variant.cells.get("__prelude__", "") if variant else ""
    for grade_id, cell in cells.items():
        if variant is not None and grade_id in variant.cells:
            body = variant.cells[grade_id]
            if cell.cell_type == "markdown":
                body = ast.literal_eval(body.split("=", 1)[1].strip())
            elif first_replaced:
                body = "\n\n".join(p for p in (variant.imports, prelude.strip(), body) if p)
                first_replaced = False
        else:
            body = reference[grade_id]
        cell.source = body
    return nb
