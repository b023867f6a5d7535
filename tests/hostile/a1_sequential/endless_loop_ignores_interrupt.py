"""An endless loop that ignores SIGINT, in `compile_classifier`'s cell (it sleeps, to spare
the grading machine's cores; a busy loop is stopped the same way).

The grader interrupts the cell at its timeout; the loop ignores that, so the kernel must be
stopped. `build_sequential`'s tests ran before and keep their points; the rest scores zero.
"""
import signal
import time

LOSES = ["test_compile_classifier_optimizer", "test_compile_classifier_loss",
         "test_compile_classifier_metrics"]

if True:  # the trick
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        time.sleep(0.1)


def compile_classifier(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
