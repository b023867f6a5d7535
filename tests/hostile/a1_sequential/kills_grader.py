"""Kills its parent, the grading process, from `compile_classifier`'s cell.

Stock nbgrader dies with it, so the submission is not graded at all (and, graded as one
`nbgrader autograde` for the whole class, nobody after it would be). In a sandbox the parent is
out of reach. `build_sequential` is correct and keeps its points.
"""
import os
import signal

LOSES = ["test_compile_classifier_optimizer", "test_compile_classifier_loss",
         "test_compile_classifier_metrics"]


def compile_classifier(model):
    os.kill(os.getppid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
