# ruff: noqa: F821  (`keras` and `layers` come from the notebook)
"""Correct code that remembers every call made to it and prints them later, in an ordinary cell
of the notebook after the tests (the one that compiles `build_sequential(64, 10)`): the hidden
tests' calls reach the kernel with their arguments (`kernel_source` keeps every `call(...)`), so
the student's feedback shows `build_sequential(20, 3)`, `build_sequential(13, 4)`, ...

Hidden means hidden: the arguments of a hidden test's calls must not reach the student's
feedback, whatever the kernel prints afterwards. The code is correct and keeps every point.
"""
LOSES = []
PROBES = ["hidden"]

if True:  # the trick
    _seen_calls = []


def build_sequential(input_dim, num_classes):
    _seen_calls.append(f"build_sequential({input_dim}, {num_classes})")
    if len(_seen_calls) > 6:
        print("calls so far:", ", ".join(dict.fromkeys(_seen_calls)))
    return keras.Sequential([
        keras.Input(shape=(input_dim,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
