# ruff: noqa: F821  (`keras` and `layers` come from the notebook)
"""The first `Dense(64, relu)` carries `kernel_constraint=MaxNorm(0.0)`, a built-in constraint:
after the first training step its kernel is zero, so the trained model ignores its input (chance
accuracy after 5 epochs). The configuration is Keras's own and rebuilds in safe mode.

A built-in constraint, regulariser or initialiser that pins a layer to zero must not keep the
layers check: the trained model cannot depend on its input.
"""
LOSES = ["test_build_sequential_layers"]


def build_sequential(input_dim, num_classes):
    return keras.Sequential([
        keras.Input(shape=(input_dim,)),
        layers.Dense(64, activation="relu",
                     kernel_constraint=keras.constraints.MaxNorm(0.0)),
        layers.Dense(32, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
