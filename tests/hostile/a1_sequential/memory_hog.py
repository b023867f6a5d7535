"""Grabs memory in `compile_classifier`'s cell, 256 MB at a time, up to 3 GB, and holds it.

Under the memory cap (4 GB in the test course, with TensorFlow's 3 GB already mapped) the
allocation fails while it runs (MemoryError), so that cell fails and `compile_classifier` is
never defined; without a cap the kernel holds 3 GB more than it needs.
"""
LOSES = ["test_compile_classifier_optimizer", "test_compile_classifier_loss",
         "test_compile_classifier_metrics"]
PROBES = ["memory"]

if True:  # the trick
    _held = []
    for _ in range(12):
        _chunk = bytearray(256 * 1024 * 1024)
        _chunk[::4096] = b"x" * len(range(0, len(_chunk), 4096))
        _held.append(_chunk)
    print(f"hog: held {len(_held) * 256} MB")
    del _held


def compile_classifier(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
