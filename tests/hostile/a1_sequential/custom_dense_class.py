# ruff: noqa: F821  (`keras` and `layers` come from the notebook)
"""A layer class of its own named `Dense` that throws its input away: its configuration reads
like the task's `Dense(64, relu)` stack, but the model computes nothing from its input.

The grader rebuilds the model with Keras's built-in layers only, so a class of one's own is
refused: the graph checks fail with a reason, the API check (a Sequential) does not.
"""
LOSES = ["test_build_sequential_inputs", "test_build_sequential_layers"]


if True:  # the trick: a class of its own, named like the built-in layer
    class Dense(layers.Dense):
        def call(self, inputs):
            return super().call(inputs * 0.0)


def build_sequential(input_dim, num_classes):
    return keras.Sequential([
        keras.Input(shape=(input_dim,)),
        Dense(64, activation="relu"),
        Dense(32, activation="relu"),
        Dense(num_classes, activation="softmax"),
    ])
