"""Correct: separate activation layers, `h + y` for the skip, `Concatenate()` and dict inputs.

Full marks: `Dense` then `Activation`/`ReLU`/`Softmax` is the same layer as a fused one, `h + y`
draws the same `Add` as `layers.Add()`, and inputs may be passed as a dict in any order.
"""
LOSES = []


def build_functional(input_dim, num_classes):
    inputs = keras.Input(shape=(input_dim,))
    x = layers.Dense(64)(inputs)
    x = layers.Activation("relu")(x)
    x = layers.Dense(32)(x)
    x = layers.ReLU()(x)
    x = layers.Dense(num_classes)(x)
    outputs = layers.Softmax()(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def build_residual(input_dim, num_classes):
    inputs = keras.Input(shape=(input_dim,))
    h = layers.Dense(64, activation="relu")(inputs)
    y = layers.Dense(64)(h)
    y = layers.ReLU()(y)
    y = layers.Dense(64, activation="relu")(y)
    outputs = layers.Dense(num_classes, activation="softmax")(h + y)
    return keras.Model(inputs, outputs)


def build_siamese(input_dim):
    right = keras.Input(shape=(input_dim,), name="right")
    left = keras.Input(shape=(input_dim,), name="left")
    encoder = layers.Dense(32, activation="relu")
    merged = layers.Concatenate()([encoder(left), encoder(right)])
    same = layers.Dense(1, activation="sigmoid", name="same")(merged)
    return keras.Model(inputs={"right": right, "left": left}, outputs=same)
