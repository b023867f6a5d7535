"""Mistake: hard-codes 64 inputs and 10 classes, so other sizes get the wrong model."""
LOSES = ["test_build_functional_inputs", "test_build_functional_layers"]


def build_functional(input_dim, num_classes):
    inputs = keras.Input(shape=(64,))
    x = layers.Dense(64, activation="relu")(inputs)
    x = layers.Dense(32, activation="relu")(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs)
