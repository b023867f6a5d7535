"""Mistake: four `Dense` layers in a row and no skip connection at all.

Without the sum, neither the skip nor the `Add` the output layer reads from is there.
"""
LOSES = ["test_build_residual_skip", "test_build_residual_layers"]


def build_residual(input_dim, num_classes):
    inputs = keras.Input(shape=(input_dim,))
    h = layers.Dense(64, activation="relu")(inputs)
    y = layers.Dense(64, activation="relu")(h)
    y = layers.Dense(64, activation="relu")(y)
    outputs = layers.Dense(num_classes, activation="softmax")(y)
    return keras.Model(inputs, outputs)
