"""Mistake: a sigmoid output layer where the task asks for softmax."""
LOSES = ["test_build_sequential_layers"]


def build_sequential(input_dim, num_classes):
    return keras.Sequential([
        keras.Input(shape=(input_dim,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(num_classes, activation="sigmoid"),
    ])
