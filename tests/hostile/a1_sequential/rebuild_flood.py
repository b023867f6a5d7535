# ruff: noqa: F821  (`keras`, `layers` and `get_ipython` come from the notebook)
"""Floods the grader's rebuild service: the first test cell that records evidence also gets
`FLOOD` extra records, each a different (renamed) copy of a correct model. The grader rebuilds
every recorded model of the notebook before it replays a single call (`VerifyEvidence.preprocess`
prefetches them all), so each record costs a fork of the rebuild service; with a model that takes
20 s to rebuild (six `Dense(4096)`, 5 KB of JSON) a cell's 2 MB output cap holds about 380 of them:
two hours of one grading worker per cell, with no budget on the verify step.

More records than calls is an error (the flooded cell scores zero, the others keep theirs), and
records beyond what the test replays must cost the grader nothing: this submission must take
about as long to grade as an honest one.
"""
LOSES = ["test_build_sequential_api"]

if True:  # the trick
    import json as _json

    from IPython.display import display as _display

    from keras_course.describe import model_evidence as _model_evidence
    from keras_course.grading.evidence import EVIDENCE_MIME as _MIME

    FLOOD = 150
    _template = _model_evidence(keras.Sequential([
        keras.Input(shape=(64,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ]))
    _done = []

    def _flood(info):
        if _done or "call(" not in (info.raw_cell or ""):
            return
        _done.append(1)
        for _i in range(FLOOD):
            _spec = _json.loads(_template["json"])
            _spec["config"]["name"] = f"flood_{_i}"
            _display({_MIME: {"kind": "call", "function": "build_sequential", "args": [64, 10],
                              "kwargs": {}, "result": {"type": "model", "evidence": dict(
                                  _template, json=_json.dumps(_spec))}}}, raw=True)

    get_ipython().events.register("pre_run_cell", _flood)


def build_sequential(input_dim, num_classes):
    return keras.Sequential([
        keras.Input(shape=(input_dim,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
