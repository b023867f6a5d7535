# ruff: noqa: F821  (`keras` and `layers` come from the notebook)
"""A `Lambda` layer in the stack (it runs any Python code when the model is rebuilt).

The grader never deserialises a `Lambda`: the graph checks fail with a reason that says to use
a built-in layer or a `keras.ops` function; the API check (a Sequential) does not.
"""
LOSES = ["test_build_sequential_inputs", "test_build_sequential_layers"]


def build_sequential(input_dim, num_classes):
    return keras.Sequential([
        keras.Input(shape=(input_dim,)),
        layers.Lambda(lambda x: x * 1.0),
        layers.Dense(64, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
