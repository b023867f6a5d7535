"""Mistake: declares the `bottom` input but never uses it: both heads read the top view only.

Keras raises no error for an input nothing reads.
"""
LOSES = ["test_build_two_view_depends"]


def build_two_view(view_dim, num_classes):
    top = keras.Input(shape=(view_dim,), name="top")
    bottom = keras.Input(shape=(view_dim,), name="bottom")
    x = layers.Dense(64, activation="relu")(top)
    digit = layers.Dense(num_classes, activation="softmax", name="digit")(x)
    parity = layers.Dense(1, activation="sigmoid", name="parity")(x)
    return keras.Model({"top": top, "bottom": bottom}, {"digit": digit, "parity": parity})
