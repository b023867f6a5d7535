"""Feedback students receive: every failure message, none of the hidden test code."""
from __future__ import annotations

import functools
import shutil
from pathlib import Path

from nbformat.notebooknode import from_dict
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor


class HideHiddenTests(ClearHiddenTests):
    """nbgrader's `ClearHiddenTests`, applied to the autograded copy that feedback is made from.

    Autograde puts the hidden tests back into each test cell before it runs them, so the stock
    feedback would show them. The verdicts in the outputs are kept: they name what failed
    without the hidden values (see `expect(..., hidden=True)`).
    """


#: What a student's feedback shows instead of the output of a cell that ran after hidden tests.
WITHHELD = ("(This cell's output is not shown in feedback: the cell ran after the hidden tests had "
            "been sent to the kernel. Your own notebook has it.)\n")


class WithholdOutputsAfterHiddenTests(NbGraderPreprocessor):
    """Keep the outputs of cells that ran after the first hidden test out of the feedback.

    During autograde the kernel receives each test cell's calls, hidden ones included, so code
    in an earlier cell can capture them and print them from a later cell. Test cells are safe
    (their outputs are the grader's verdicts) and so are cells that ran before any hidden test;
    every other cell's output from then on is replaced by a one-line note. Runs before
    `HideHiddenTests`, which removes the markers this looks for.
    """

    def preprocess(self, nb, resources):
        after_hidden = False
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            is_test = utils.is_grade(cell) and not utils.is_solution(cell)
            if is_test:
                after_hidden = after_hidden or "BEGIN HIDDEN TESTS" in cell.source
            elif after_hidden and cell.get("outputs"):
                cell.outputs = [from_dict({"output_type": "stream", "name": "stdout",
                                           "text": WITHHELD})]
        return nb, resources


#: Files of a feedback folder that nbgrader itself needs (`release_feedback` reads them).
NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")


def keep_only_feedback_pages(assignment=None, student=None, notebooks=(), *, root: str,
                             folder: str = "feedback") -> None:
    """`post_convert_hook` of `generate_feedback`: the feedback folder keeps its HTML pages.

    nbgrader copies every other file of the autograded folder into the feedback folder, and
    `release_feedback` hands every `*.html` in it to the student. The kernel can write that
    folder while it runs (with the hidden tests' calls in hand), so anything but the pages
    made from the notebooks and nbgrader's own two files is removed.
    """
    paths = [Path(n) for n in notebooks]
    if not paths:
        return
    student, assignment = paths[0].parent.parent.name, paths[0].parent.name
    target = Path(root) / folder / student / assignment
    keep = {f"{p.stem}.html" for p in paths} | set(NBGRADER_FILES)
    for entry in target.iterdir() if target.is_dir() else ():
        if entry.name in keep and entry.is_file() and not entry.is_symlink():
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def post_convert_hook(root: str, folder: str = "feedback"):
    """The `post_convert_hook` of `GenerateFeedback` for `nbgrader_config.py`."""
    return functools.partial(keep_only_feedback_pages, root=root, folder=folder)
