"""Mistake: mean squared error for the `parity` head, where binary cross-entropy is asked."""
LOSES = ["test_compile_two_view_losses"]


def compile_two_view(model):
    model.compile(optimizer="adam",
                  loss={"digit": "sparse_categorical_crossentropy", "parity": "mse"},
                  metrics={"digit": ["accuracy"], "parity": ["accuracy"]})
    return model
