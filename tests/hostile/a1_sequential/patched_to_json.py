# ruff: noqa: F821  (`keras` and `layers` come from the notebook)
"""A wrong model (one `Dense` layer) whose `to_json` and `get_config` are patched to describe a
correct model: the one built for the visible test's sizes, kept as a stored answer.

The grader decides on the model it rebuilds from the recorded configuration, so the stored
answer is what it grades: right for the visible sizes, wrong for the hidden ones.
"""
LOSES = ["test_build_sequential_inputs", "test_build_sequential_layers"]

if True:  # the trick: a correct model's configuration, kept as a stored answer
    _ANSWER = keras.Sequential([
        keras.Input(shape=(64,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


def build_sequential(input_dim, num_classes):
    model = keras.Sequential([keras.Input(shape=(input_dim,)),
                              layers.Dense(num_classes, activation="softmax")])
    model.to_json = _ANSWER.to_json
    model.get_config = _ANSWER.get_config
    return model
