"""Mistake: joins the skip with `Concatenate` where the task asks to add.

A concatenation is a skip too, but it doubles the width the output layer reads, so the layers
(and the parameter count) are not the ones the task describes.
"""
LOSES = ["test_build_residual_layers"]


def build_residual(input_dim, num_classes):
    inputs = keras.Input(shape=(input_dim,))
    h = layers.Dense(64, activation="relu")(inputs)
    y = layers.Dense(64, activation="relu")(h)
    y = layers.Dense(64, activation="relu")(y)
    outputs = layers.Dense(num_classes, activation="softmax")(layers.concatenate([h, y]))
    return keras.Model(inputs, outputs)
