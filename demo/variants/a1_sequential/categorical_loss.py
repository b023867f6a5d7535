"""Mistake: categorical cross-entropy, which expects one-hot labels, for integer labels."""
LOSES = ["test_compile_classifier_loss"]


def compile_classifier(model):
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model
