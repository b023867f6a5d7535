# ruff: noqa: F821  (`keras` and `layers` come from the notebook)
"""Correct `build_sequential` that remembers every call made to it, hidden ones included (the
kernel gets every `call(...)` of a test cell, with its arguments). `compile_classifier` then
raises, as soon as a hidden call has been seen, an exception whose text lists those calls: a
visible call's failure message repeats the exception, and test cells' outputs are kept in the
feedback, so `build_sequential(20, 3)`, `build_sequential(13, 4)` and `build_sequential(30, 7)`
would reach the student at the price of one point.

Hidden means hidden: the hidden calls reach the kernel after every visible one (after the
notebook's last cell), so the first call to raise is the first compile test's hidden call,
whose message names no argument; that test scores zero, and no hidden argument reaches the
feedback.
"""
LOSES = ["test_compile_classifier_optimizer"]
PROBES = ["hidden"]

if True:  # the trick
    _seen_calls = []
    _compiles = []


def build_sequential(input_dim, num_classes):
    _seen_calls.append(f"build_sequential({input_dim}, {num_classes})")
    return keras.Sequential([
        keras.Input(shape=(input_dim,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])


def compile_classifier(model):
    if len(set(_seen_calls)) > 1 and not _compiles:  # once, as soon as a hidden call was seen
        _compiles.append(1)
        raise ValueError("seen: " + ", ".join(dict.fromkeys(_seen_calls)))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
