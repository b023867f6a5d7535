"""Mistake: a list of losses, in the order the outputs were written (`parity` first).

Keras matches a list to `model.output_names` (sorted: `digit`, `parity`), so binary
cross-entropy lands on the digit head.
"""
LOSES = ["test_compile_two_view_losses"]


def compile_two_view(model):
    model.compile(optimizer="adam",
                  loss=["binary_crossentropy", "sparse_categorical_crossentropy"],
                  metrics={"digit": ["accuracy"], "parity": ["accuracy"]})
    return model
