"""Mistake: hard-codes 64 inputs and 10 classes, so other sizes get the wrong model."""
LOSES = ["test_build_sequential_inputs", "test_build_sequential_layers"]


def build_sequential(input_dim, num_classes):
    return keras.Sequential([
        keras.Input(shape=(64,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
