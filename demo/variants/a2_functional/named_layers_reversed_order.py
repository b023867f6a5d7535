"""Correct: every layer named, the sum written `Add()([y, h])`, inputs listed right first.

Full marks: layer names are free where the task names none, addition has no order, and a
list of inputs may come in any order when the inputs are named.
"""
LOSES = []


def build_functional(input_dim, num_classes):
    pixels = keras.Input(shape=(input_dim,), name="pixels")
    hidden_1 = layers.Dense(64, activation="relu", name="hidden_1")(pixels)
    hidden_2 = layers.Dense(32, activation="relu", name="hidden_2")(hidden_1)
    probabilities = layers.Dense(num_classes, activation="softmax", name="probabilities")(hidden_2)
    return keras.Model(inputs=[pixels], outputs=[probabilities], name="a1_network")


def build_residual(input_dim, num_classes):
    pixels = keras.Input(shape=(input_dim,), name="pixels")
    h = layers.Dense(64, activation="relu", name="h")(pixels)
    block_1 = layers.Dense(64, activation="relu", name="block_1")(h)
    block_2 = layers.Dense(64, activation="relu", name="block_2")(block_1)
    total = layers.Add(name="skip")([block_2, h])
    probabilities = layers.Dense(num_classes, activation="softmax", name="probabilities")(total)
    return keras.Model(pixels, probabilities, name="residual")


def build_siamese(input_dim):
    left = keras.Input(shape=(input_dim,), name="left")
    right = keras.Input(shape=(input_dim,), name="right")
    encoder = layers.Dense(32, activation="relu", name="encoder")
    pair = layers.concatenate([encoder(right), encoder(left)], name="pair")
    same = layers.Dense(1, activation="sigmoid", name="same")(pair)
    return keras.Model(inputs=[right, left], outputs=[same], name="siamese")
