"""Models the tests build themselves, so a compile test never depends on a student's builder.

Each fixture has the input and output names a task needs but is deliberately not a valid
answer to any graded build task (no hidden layers, heads that see one view each).
"""
from __future__ import annotations

from .grading.evidence import kernel_only


@kernel_only
def small_classifier(input_dim: int, num_classes: int):
    """A one-layer softmax classifier: enough to test `compile_classifier`."""
    from .notebook import import_keras

    keras = import_keras()
    return keras.Sequential([
        keras.Input(shape=(input_dim,)),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])


@kernel_only
def two_head_model(view_dim: int, num_classes: int):
    """Inputs `top`, `bottom` and outputs `digit`, `parity`: enough to test `compile_two_view`."""
    from .notebook import import_keras

    keras = import_keras()
    top = keras.Input(shape=(view_dim,), name="top")
    bottom = keras.Input(shape=(view_dim,), name="bottom")
    digit = keras.layers.Dense(num_classes, activation="softmax", name="digit")(top)
    parity = keras.layers.Dense(1, activation="sigmoid", name="parity")(bottom)
    return keras.Model(inputs={"top": top, "bottom": bottom},
                       outputs={"digit": digit, "parity": parity})
