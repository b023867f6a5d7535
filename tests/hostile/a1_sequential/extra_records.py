# ruff: noqa: F821  (`keras`, `layers` and `get_ipython` come from the notebook)
"""Correct code, plus a hook that appends one more evidence record to the end of every cell (a
copy of the last one): more records than the test makes calls.

More records than calls is an error: every test cell that records evidence scores zero, even
though the functions themselves are right.
"""
LOSES = ["test_build_sequential_api", "test_build_sequential_inputs",
         "test_build_sequential_layers", "test_compile_classifier_optimizer",
         "test_compile_classifier_loss", "test_compile_classifier_metrics"]

if True:  # the trick
    from IPython.display import display as _display

    from keras_course.grading.evidence import EVIDENCE_MIME as _MIME

    _last = []

    def _remember(msg):
        data = msg.get("content", {}).get("data", {})
        if _MIME in data:
            _last[:] = [data[_MIME]]
        return msg

    def _append_one(result=None):
        if _last:
            record, _last[:] = _last[0], []
            _display({_MIME: record}, raw=True)

    get_ipython().display_pub.register_hook(_remember)
    get_ipython().events.register("post_run_cell", _append_one)


def build_sequential(input_dim, num_classes):
    return keras.Sequential([
        keras.Input(shape=(input_dim,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
