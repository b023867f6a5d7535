"""Mistake: one list of metrics for a model with two outputs, instead of a dict keyed by name."""
LOSES = ["test_compile_two_view_metrics"]


def compile_two_view(model):
    model.compile(optimizer="adam",
                  loss={"digit": "sparse_categorical_crossentropy",
                        "parity": "binary_crossentropy"},
                  metrics=["accuracy"])
    return model
