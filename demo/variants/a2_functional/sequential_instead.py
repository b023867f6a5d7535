"""Mistake: builds the Assignment 1 network as a `keras.Sequential`, not with the Functional API."""
LOSES = ["test_build_functional_api"]


def build_functional(input_dim, num_classes):
    return keras.Sequential([
        keras.Input(shape=(input_dim,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
