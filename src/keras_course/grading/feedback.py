"""Feedback students receive: every failure message, none of the hidden test code."""
from __future__ import annotations

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
