# ruff: noqa: F821  (`keras` and `layers` come from the notebook)
"""The task's three `Dense` layers with a `Dropout(1.0)` between them: Keras accepts the rate, the
description contracts dropout as transparent, the rebuilt model runs it at inference as the
identity, yet in training it drops every activation, so the model never learns (chance accuracy
on the digits after 5 epochs, against 0.94 for the reference).

A layer that is only transparent at inference must not hide a model that cannot train: the
layers check fails (expected `Dense(64, relu)`, `Dense(32, relu)`, softmax; found a dropout that
discards everything).
"""
LOSES = ["test_build_sequential_layers"]


def build_sequential(input_dim, num_classes):
    return keras.Sequential([
        keras.Input(shape=(input_dim,)),
        layers.Dense(64, activation="relu"),
        layers.Dropout(1.0),
        layers.Dense(32, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
