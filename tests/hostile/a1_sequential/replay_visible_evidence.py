# ruff: noqa: F821  (`keras`, `layers` and `get_ipython` come from the notebook)
"""Forged evidence: every call is answered with the visible test's model, recorded under the
arguments the hidden test asked for (so the record's arguments match the test).

`build_sequential` is hard-coded for 64 inputs and 10 classes; replacing `call` makes the hidden
calls record that same model. The verdict still finds the wrong sizes.
"""
import keras_course.grading as _grading
import keras_course.grading.evidence as _evidence

LOSES = ["test_build_sequential_inputs", "test_build_sequential_layers"]

if True:  # the trick
    def _replay_visible(func, *args, **kwargs):
        result = func(64, 10) if func.__name__ == "build_sequential" else func(*args, **kwargs)
        if _evidence.recording():
            _evidence._emit({"kind": "call", "function": func.__name__,
                             "args": _evidence._jsonable(list(args)), "kwargs": {},
                             "result": _evidence._describe_result(result)})
        return result

    _grading.call = _evidence.call = _replay_visible


def build_sequential(input_dim, num_classes):
    return keras.Sequential([
        keras.Input(shape=(64,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
