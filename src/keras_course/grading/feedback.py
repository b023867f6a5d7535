"""Feedback students receive: every failure message, none of the hidden test code."""
from __future__ import annotations

from nbgrader.preprocessors import ClearHiddenTests


class HideHiddenTests(ClearHiddenTests):
    """nbgrader's `ClearHiddenTests`, applied to the autograded copy that feedback is made from.

    Autograde puts the hidden tests back into each test cell before it runs them, so the stock
    feedback would show them. The verdicts in the outputs are kept: they name what failed
    without the hidden values (see `expect(..., hidden=True)`).
    """
