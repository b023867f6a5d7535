# ruff: noqa: F821  (`keras`, `layers` and `get_ipython` come from the notebook)
"""A display-publisher hook that rewrites the evidence on its way out of the kernel: every
recorded `build_sequential` model becomes a correct one (built for the visible test's sizes),
while the model the function returns has one layer.

The rewritten record is a configuration like any other: the grader rebuilds and checks it,
and the hidden sizes still find it wrong.
"""
LOSES = ["test_build_sequential_inputs", "test_build_sequential_layers"]

if True:  # the trick
    import json as _json

    from keras_course.describe import model_evidence as _model_evidence
    from keras_course.grading.evidence import EVIDENCE_MIME as _MIME

    _ANSWER = _model_evidence(keras.Sequential([
        keras.Input(shape=(64,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ]))

    def _rewrite(msg):
        data = msg.get("content", {}).get("data", {})
        record = data.get(_MIME)
        if isinstance(record, str):
            record = _json.loads(record)
        if isinstance(record, dict) and record.get("function") == "build_sequential" \
                and "result" in record:
            record["result"] = {"type": "model", "evidence": _ANSWER}
            data[_MIME] = record
        return msg

    get_ipython().display_pub.register_hook(_rewrite)


def build_sequential(input_dim, num_classes):
    return keras.Sequential([keras.Input(shape=(input_dim,)),
                             layers.Dense(num_classes, activation="softmax")])
