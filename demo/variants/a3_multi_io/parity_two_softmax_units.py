"""Mistake: a `parity` head of two softmax units where the task asks for one sigmoid unit."""
LOSES = ["test_build_two_view_outputs"]


def build_two_view(view_dim, num_classes):
    top = keras.Input(shape=(view_dim,), name="top")
    bottom = keras.Input(shape=(view_dim,), name="bottom")
    x = layers.Dense(64, activation="relu")(layers.concatenate([top, bottom]))
    digit = layers.Dense(num_classes, activation="softmax", name="digit")(x)
    parity = layers.Dense(2, activation="softmax", name="parity")(x)
    return keras.Model({"top": top, "bottom": bottom}, {"digit": digit, "parity": parity})
