"""Mistake: the hidden layers in the wrong order, `Dense(32)` before `Dense(64)`."""
LOSES = ["test_build_functional_layers"]


def build_functional(input_dim, num_classes):
    inputs = keras.Input(shape=(input_dim,))
    x = layers.Dense(32, activation="relu")(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)
