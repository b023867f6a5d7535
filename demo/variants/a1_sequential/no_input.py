"""Mistake: no `keras.Input`, so the model is not built and has no input shape yet."""
LOSES = ["test_build_sequential_inputs"]


def build_sequential(input_dim, num_classes):
    return keras.Sequential([
        layers.Dense(64, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
