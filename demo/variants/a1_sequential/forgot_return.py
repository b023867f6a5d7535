"""Mistake: compiles the model but forgets to return it."""
LOSES = ["test_compile_classifier_optimizer", "test_compile_classifier_loss",
         "test_compile_classifier_metrics"]


def compile_classifier(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
