"""The kernel is killed in `compile_classifier`'s cell, as the out-of-memory killer would kill it.

SIGKILL to itself; where the kernel is process 1 of its own process namespace (a fork-server
kernel), which SIGKILL from inside cannot stop, it crashes with a segmentation fault instead.
The earlier tests keep their points, the rest score zero, the batch goes on.
"""
import ctypes
import os
import signal

LOSES = ["test_compile_classifier_optimizer", "test_compile_classifier_loss",
         "test_compile_classifier_metrics"]

if True:  # the trick
    os.kill(os.getpid(), signal.SIGKILL)
    ctypes.string_at(0)


def compile_classifier(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
