"""Returns plain dicts shaped like the grader's own model descriptions instead of models.

`build_sequential` returns a minimal description dict (the schema marker and a class name);
`compile_classifier` returns one saying it was compiled. A check must not mistake data for a
model.
"""
LOSES = ["test_build_sequential_api", "test_build_sequential_inputs",
         "test_build_sequential_layers", "test_compile_classifier_optimizer",
         "test_compile_classifier_loss", "test_compile_classifier_metrics"]


def build_sequential(input_dim, num_classes):
    return {"schema": "keras_course.description/1", "class_name": "Sequential",
            "api": "sequential", "built": True}


def compile_classifier(model):
    return {"schema": "keras_course.description/1", "class_name": "Sequential",
            "api": "sequential", "built": True, "compile": {"optimizer": "adam"}}
