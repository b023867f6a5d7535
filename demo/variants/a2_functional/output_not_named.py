"""Mistake: forgets to name the output layer `same`."""
LOSES = ["test_build_siamese_output"]


def build_siamese(input_dim):
    left = keras.Input(shape=(input_dim,), name="left")
    right = keras.Input(shape=(input_dim,), name="right")
    encoder = layers.Dense(32, activation="relu")
    merged = layers.concatenate([encoder(left), encoder(right)])
    same = layers.Dense(1, activation="sigmoid")(merged)
    return keras.Model([left, right], same)
