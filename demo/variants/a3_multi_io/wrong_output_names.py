"""Mistake: names the outputs `label` and `odd` instead of `digit` and `parity`.

Everything keyed by name (targets, losses, the checks) then misses them.
"""
LOSES = ["test_build_two_view_outputs", "test_build_two_view_depends"]


def build_two_view(view_dim, num_classes):
    top = keras.Input(shape=(view_dim,), name="top")
    bottom = keras.Input(shape=(view_dim,), name="bottom")
    x = layers.Dense(64, activation="relu")(layers.concatenate([top, bottom]))
    label = layers.Dense(num_classes, activation="softmax", name="label")(x)
    odd = layers.Dense(1, activation="sigmoid", name="odd")(x)
    return keras.Model([top, bottom], [label, odd])
