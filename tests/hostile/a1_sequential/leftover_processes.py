# ruff: noqa: F821  (`keras`, `layers` and `get_ipython` come from the notebook)
"""Starts children that try to outlive the kernel: plain, in a new session, and double-forked.

Each sleeps for two minutes with `keras-course-hostile-probe` in its command line. The code is
correct, so it keeps every point; none of those processes may survive the notebook.
"""
import subprocess
import sys

LOSES = []
PROBES = ["outlives"]

if True:  # the trick
    _sleeper = [sys.executable, "-c", "import time; time.sleep(120)", "keras-course-hostile-probe"]
    subprocess.Popen(_sleeper)
    subprocess.Popen(_sleeper, start_new_session=True)
    subprocess.Popen(["setsid", "--fork", *_sleeper], start_new_session=True)


def compile_classifier(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
