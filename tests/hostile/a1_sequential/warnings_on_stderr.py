# ruff: noqa: F821  (`keras`, `layers` and `get_ipython` come from the notebook)
"""Correct code that makes Keras and TensorFlow print warnings on stderr while the tests run.

`input_shape=` on the first layer (a Keras `UserWarning`), a `tf.get_logger()` warning and a
Python warning, each inside the graded functions. Full marks: a warning costs nothing.
"""
import warnings

import tensorflow as tf

LOSES = []


def build_sequential(input_dim, num_classes):
    tf.get_logger().warning("tensorflow: a warning from the graded function")
    warnings.warn("a UserWarning from the graded function", UserWarning, stacklevel=1)
    return keras.Sequential([
        layers.Dense(64, activation="relu", input_shape=(input_dim,)),
        layers.Dense(32, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])


def compile_classifier(model):
    warnings.warn("compile_classifier: DeprecationWarning-like noise", UserWarning, stacklevel=1)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
