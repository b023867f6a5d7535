"""Mistake: `compile("adam", loss, ["accuracy"])` puts the metric into `loss_weights`."""
LOSES = ["test_compile_classifier_metrics"]


def compile_classifier(model):
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    return model
