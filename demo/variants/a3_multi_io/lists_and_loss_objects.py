"""Correct: inputs and outputs as lists in another order, a branch per head, loss objects.

Full marks: named inputs and outputs may be listed in any order; losses and metrics may be
Keras objects instead of strings, and loss weights keyed by name are welcome.
"""
LOSES = []


def build_two_view(view_dim, num_classes):
    bottom = keras.Input(shape=(view_dim,), name="bottom")
    top = keras.Input(shape=(view_dim,), name="top")
    both = layers.Concatenate()([top, bottom])
    digit_features = layers.Dense(64, activation="relu")(both)
    parity_features = layers.Dense(16, activation="relu")(both)
    parity = layers.Dense(1, activation="sigmoid", name="parity")(parity_features)
    digit = layers.Dense(num_classes, activation="softmax", name="digit")(digit_features)
    return keras.Model(inputs=[bottom, top], outputs=[parity, digit])


def compile_two_view(model):
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=2e-3),
        loss={"parity": keras.losses.BinaryCrossentropy(),
              "digit": keras.losses.SparseCategoricalCrossentropy()},
        metrics={"parity": [keras.metrics.BinaryAccuracy()],
                 "digit": [keras.metrics.SparseCategoricalAccuracy()]},
        loss_weights={"digit": 1.0, "parity": 0.5},
    )
    return model
