"""Mistake: the skip connection goes around the last `Dense` layer only, not around both."""
LOSES = ["test_build_residual_skip"]


def build_residual(input_dim, num_classes):
    inputs = keras.Input(shape=(input_dim,))
    h = layers.Dense(64, activation="relu")(inputs)
    y1 = layers.Dense(64, activation="relu")(h)
    y2 = layers.Dense(64, activation="relu")(y1)
    total = layers.Add()([y1, y2])
    outputs = layers.Dense(num_classes, activation="softmax")(total)
    return keras.Model(inputs, outputs)
