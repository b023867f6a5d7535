"""Mistake: the `digit` head reads the top view only; only `parity` sees both halves."""
LOSES = ["test_build_two_view_depends"]


def build_two_view(view_dim, num_classes):
    top = keras.Input(shape=(view_dim,), name="top")
    bottom = keras.Input(shape=(view_dim,), name="bottom")
    top_features = layers.Dense(64, activation="relu")(top)
    both = layers.concatenate([top_features, bottom])
    digit = layers.Dense(num_classes, activation="softmax", name="digit")(top_features)
    parity = layers.Dense(1, activation="sigmoid", name="parity")(both)
    return keras.Model({"top": top, "bottom": bottom}, {"digit": digit, "parity": parity})
