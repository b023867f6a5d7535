"""Floods the output: 5 000 flushed lines and 40 MB in one write, in `compile_classifier`'s cell.

The code is correct, so it keeps every point; the grader must cap the output while it arrives
and stay fast.
"""
import sys

LOSES = []
PROBES = ["output"]

if True:  # the trick
    for _i in range(5_000):
        print(_i, flush=True)
    sys.stdout.write("y" * 40_000_000 + "\n")
    sys.stdout.flush()


def compile_classifier(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
