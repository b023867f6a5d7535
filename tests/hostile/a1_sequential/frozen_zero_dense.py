# ruff: noqa: F821  (`keras` and `layers` come from the notebook)
"""The first `Dense(64, relu)` starts at zero (kernel and bias) and is frozen (`trainable=False`):
its output is zero for every input, so the model's prediction ignores the input entirely and
stays at chance. Every layer is a built-in `Dense` with the right units and activation.

The grader re-randomises every weight before it looks at behaviour (so that an honest zero
initialiser is not mistaken for a dead branch); a layer that can never leave zero must still
fail the layers check: the model ignores its input.
"""
LOSES = ["test_build_sequential_layers"]


def build_sequential(input_dim, num_classes):
    return keras.Sequential([
        keras.Input(shape=(input_dim,)),
        layers.Dense(64, activation="relu", kernel_initializer="zeros",
                     bias_initializer="zeros", trainable=False),
        layers.Dense(32, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
