"""Mistake: encodes `left` twice (a copy-paste slip), so the `right` input is never used.

Keras accepts an input that nothing reads; the encoder is called twice but does not serve
`right`.
"""
LOSES = ["test_build_siamese_shared"]


def build_siamese(input_dim):
    left = keras.Input(shape=(input_dim,), name="left")
    right = keras.Input(shape=(input_dim,), name="right")
    encoder = layers.Dense(32, activation="relu")
    merged = layers.concatenate([encoder(left), encoder(left)])
    same = layers.Dense(1, activation="sigmoid", name="same")(merged)
    return keras.Model([left, right], same)
