"""Mistake: two separate `Dense(32)` encoders, one per input, instead of one shared encoder.

Both encoders have the right width, but their weights are not shared, so the model has two
sets of encoder weights.
"""
LOSES = ["test_build_siamese_shared", "test_build_siamese_params"]


def build_siamese(input_dim):
    left = keras.Input(shape=(input_dim,), name="left")
    right = keras.Input(shape=(input_dim,), name="right")
    merged = layers.concatenate([layers.Dense(32, activation="relu")(left),
                                 layers.Dense(32, activation="relu")(right)])
    same = layers.Dense(1, activation="sigmoid", name="same")(merged)
    return keras.Model([left, right], same)
