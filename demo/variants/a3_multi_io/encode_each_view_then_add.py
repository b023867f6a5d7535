"""Correct: one encoder per view, the encodings added with `+`, and heads with activation layers.

Full marks: the layers between inputs and heads are free, as long as both heads read both views.
"""
LOSES = []


def build_two_view(view_dim, num_classes):
    top = keras.Input(shape=(view_dim,), name="top")
    bottom = keras.Input(shape=(view_dim,), name="bottom")
    h = layers.Dense(64, activation="relu")(top) + layers.Dense(64, activation="relu")(bottom)
    digit = layers.Activation("softmax", name="digit")(layers.Dense(num_classes)(h))
    parity = layers.Activation("sigmoid", name="parity")(layers.Dense(1)(h))
    return keras.Model({"top": top, "bottom": bottom}, {"digit": digit, "parity": parity})


def compile_two_view(model):
    model.compile(optimizer="rmsprop",
                  loss={"digit": keras.losses.sparse_categorical_crossentropy,
                        "parity": keras.losses.binary_crossentropy},
                  metrics={"digit": ["accuracy"], "parity": ["accuracy", "AUC"]})
    return model
