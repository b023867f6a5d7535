"""Correct: builds with `add` and separate `Activation`, `ReLU` and `Softmax` layers.

Full marks: a separate activation layer is the same computation as a fused one.
"""
LOSES = []


def build_sequential(input_dim, num_classes):
    model = keras.Sequential()
    model.add(keras.Input(shape=(input_dim,)))
    model.add(layers.Dense(64))
    model.add(layers.Activation("relu"))
    model.add(layers.Dense(32))
    model.add(layers.ReLU())
    model.add(layers.Dense(num_classes))
    model.add(layers.Softmax())
    return model


def compile_classifier(model):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])
    return model
