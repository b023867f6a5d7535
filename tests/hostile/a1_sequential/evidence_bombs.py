"""Malformed evidence: every test cell also gets records the grader must survive.

A JSON text nested 100 000 levels deep, a record of three million characters, a record that is
a list, a "model" whose JSON is itself deeply nested, and a record for another function; and,
in the solution cell, a display nested 500 levels deep (nbformat's writer recurses on it).
The functions themselves are wrong, so nothing may be earned and the grader must not crash.
"""
from IPython.core.interactiveshell import InteractiveShell

from keras_course.grading.evidence import EVIDENCE_MIME

LOSES = ["test_build_sequential_api", "test_build_sequential_inputs",
         "test_build_sequential_layers", "test_compile_classifier_optimizer",
         "test_compile_classifier_loss", "test_compile_classifier_metrics"]

if True:  # the trick
    from IPython.display import display as _display

    _deep = "[" * 100_000 + "]" * 100_000
    _bombs = [
        _deep,
        {"kind": "call", "function": "build_sequential", "args": [64, 10], "kwargs": {},
         "result": {"type": "value", "value": "x" * 3_000_000}},
        [1, 2, 3],
        {"kind": "call", "function": "build_sequential", "args": [64, 10], "kwargs": {},
         "result": {"type": "model", "evidence": {"class_name": "Sequential", "json": _deep,
                                                  "compile": None, "built": True}}},
        {"kind": "call", "function": "something_else", "args": [], "kwargs": {},
         "result": {"type": "value", "value": 1}},
    ]
    _original_run_cell = InteractiveShell.run_cell

    def _run_cell(self, raw_cell, *args, **kwargs):
        if "call(" in raw_cell:
            for bomb in _bombs:
                _display({EVIDENCE_MIME: bomb}, raw=True)
        return _original_run_cell(self, raw_cell, *args, **kwargs)

    InteractiveShell.run_cell = _run_cell
    _nested = []
    for _ in range(500):
        _nested = [_nested]
    _display({"application/json": {"deep": _nested}}, raw=True)


def build_sequential(input_dim, num_classes):
    return None


def compile_classifier(model):
    return model
