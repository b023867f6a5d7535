# ruff: noqa: F821  (`keras` and `layers` come from the notebook)
"""Correct `build_sequential` whose evidence goes out as displays with ids of its own; when a
hidden test calls it, it updates the first visible test's record in place into a failure whose
text lists the hidden calls it has seen.

The hidden calls reach the kernel after the notebook's last cell, so every visible test's
record was made before them and its failure message may repeat the exception's text; the
update would smuggle hidden arguments into a visible message. While hidden calls are sent no
display of a cell may be updated: the code is correct, keeps every point, and no hidden value
reaches the feedback.
"""
LOSES = []
PROBES = ["hidden"]

if True:  # the trick
    from IPython.display import display as _display
    from IPython.display import update_display as _update_display

    import keras_course.grading.evidence as _evidence

    _records = []

    def _emit_with_id(record):
        _records.append(record)
        _display({_evidence.EVIDENCE_MIME: record}, raw=True,
                 display_id=f"record-{len(_records)}")

    _evidence._emit = _emit_with_id
    _seen = []


def build_sequential(input_dim, num_classes):
    _seen.append(f"build_sequential({input_dim}, {num_classes})")
    if (input_dim, num_classes) != (64, 10) and _records:
        forged = dict(_records[0])
        forged.pop("result", None)
        forged["error"] = "ValueError: seen " + ", ".join(dict.fromkeys(_seen))
        _update_display({_evidence.EVIDENCE_MIME: forged}, raw=True, display_id="record-1")
    return keras.Sequential([
        keras.Input(shape=(input_dim,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
