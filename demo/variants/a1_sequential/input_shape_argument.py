"""Correct but old-fashioned: `input_shape=` on the first layer instead of `keras.Input`.

Full marks: Keras prints a warning on stderr, and a warning costs nothing.
"""
LOSES = []


def build_sequential(input_dim, num_classes):
    return keras.Sequential([
        layers.Dense(64, activation="relu", input_shape=(input_dim,)),
        layers.Dense(32, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
