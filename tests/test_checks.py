"""Checks and expect: every equivalent form passes, every mutation fails exactly what it breaks."""
from __future__ import annotations

import re
from typing import Any

import model_zoo
import pytest

from keras_course import checks, errors, expect, messages
from keras_course.describe import describe, model_evidence

NAMES = [entry.name for entry in model_zoo.ZOO]


@pytest.fixture(scope="session")
def described() -> dict[str, dict]:
    """The description of every zoo model, built and described once per session."""
    return model_zoo.described_zoo()


@pytest.fixture(scope="session")
def keras() -> Any:
    return model_zoo.keras_module()


@pytest.mark.parametrize("name", NAMES)
def test_zoo_entry_fails_exactly_the_checks_it_breaks(name: str, described: dict) -> None:
    entry = model_zoo.by_name(name)
    verdicts = model_zoo.contract_verdicts(described[name], entry.contract)
    failed = {check for check, verdict in verdicts.items() if not verdict.passed}
    assert failed == set(entry.fails), {k: v.message for k, v in verdicts.items() if not v}
    for verdict in verdicts.values():
        if verdict.passed:
            assert verdict.message == ""
            continue
        _assert_teaches(verdict.message)
        _assert_teaches(verdict.hidden_message)


#: Names that are written in capitals, not shouted: a file format, signals.
_NAMES_IN_CAPITALS = re.compile(r"\b(?:JSON|SIG[A-Z]+)\b")


def _assert_teaches(message: str) -> None:
    """Full sentences, at most two or three, no shouting, no colour codes."""
    assert message and message[0].isupper() and message.endswith((".", ")", "`"))
    assert "\x1b" not in message and "Error in test" not in message
    words = _NAMES_IN_CAPITALS.sub(" ", message.replace("`", " "))
    assert not re.search(r"\b[A-Z]{4,}\b", words), message
    assert len(re.findall(r"[.!?](?:\s|$)", message)) <= 3, message


# --------------------------------------------------------------------------- exact messages


def _named_sequential(keras: Any, second: tuple = (32, "relu"), extra: bool = False) -> Any:
    layers = [keras.Input(shape=(20,), name="features"),
              keras.layers.Dense(64, activation="relu", name="hidden_1"),
              keras.layers.Dense(second[0], activation=second[1], name="hidden_2")]
    if extra:
        layers.append(keras.layers.Dense(16, activation="relu", name="hidden_3"))
    layers.append(keras.layers.Dense(3, activation="softmax", name="probabilities"))
    return keras.Sequential(layers, name="mlp")


def test_message_wrong_activation_in_stack(keras: Any) -> None:
    verdict = checks.check_chain(describe(_named_sequential(keras, (32, "tanh"))),
                                 model_zoo.SEQ_LAYERS)
    assert verdict.message == (
        'Layer 2 of your stack is `Dense(32, activation="tanh")` (`hidden_2`); expected '
        '`Dense(32, activation="relu")`. Change that layer to match the task.')


def test_message_extra_layer_in_stack(keras: Any) -> None:
    verdict = checks.check_chain(describe(_named_sequential(keras, extra=True)),
                                 model_zoo.SEQ_LAYERS)
    assert verdict.message == (
        "Your stack has 4 layers where the task asks for 3: layer 3, "
        '`Dense(16, activation="relu")` (`hidden_3`), is not in the task. Remove it.')


def test_message_missing_layer_in_stack(described: dict) -> None:
    verdict = checks.check_chain(described["seq_missing_layer"], model_zoo.SEQ_LAYERS)
    assert verdict.message == (
        'Your stack has 2 layers where the task asks for 3: layer 2 should be `Dense(32, '
        'activation="relu")`. Add it at that place.')


def test_message_wrong_input_shape(keras: Any) -> None:
    model = _named_sequential(keras)
    verdict = checks.check_inputs(describe(model), [(None, 64)])
    assert verdict.message == (
        "The input (`features`) of your model has shape `(None, 20)`; expected `(None, 64)`. "
        "Give `keras.Input` the shape from the function's arguments.")


def test_message_wrong_api(described: dict) -> None:
    assert checks.check_api(described["func_as_sequential"], "functional").message == (
        "Your model is a `keras.Sequential` model; the task asks for a Functional model. Build "
        "it with `keras.Input(...)`, call the layers on tensors, and return "
        "`keras.Model(inputs, outputs)`.")


def test_message_not_built(described: dict) -> None:
    assert checks.check_built(described["seq_unbuilt"]).message == (
        "Your model is not built: it has no inputs yet, so Keras does not know its input shape. "
        "Start the stack with `keras.Input(shape=...)`.")


def test_message_output_does_not_depend_on_an_input(described: dict) -> None:
    verdict = checks.check_depends(described["tv_parity_top_only"], "parity", ["top", "bottom"])
    assert verdict.message == (
        "Output `parity` does not depend on input `bottom`: no chain of layers leads from "
        "`bottom` to `parity`. Check what you pass to the layer that merges the branches.")


def test_message_unused_input(described: dict) -> None:
    verdict = checks.check_depends(described["siam_unused_input"], "same", ["left", "right"])
    assert verdict.message == (
        "Input `right` is not used by any layer, so output `same` cannot depend on it. Pass "
        "`right` to the layers on the way to `same`.")


def test_message_unshared_encoder(keras: Any) -> None:
    left = keras.Input(shape=(10,), name="left")
    right = keras.Input(shape=(10,), name="right")
    a = keras.layers.Dense(32, activation="relu", name="encode_left")(left)
    b = keras.layers.Dense(32, activation="relu", name="encode_right")(right)
    out = keras.layers.Dense(1, activation="sigmoid", name="same")(
        keras.layers.concatenate([a, b]))
    verdict = checks.check_shared(describe(keras.Model([left, right], out)), ["left", "right"],
                                  units=32)
    assert verdict.message == (
        "No single layer with weights is called on each of `left` and `right`: they go through "
        "separate layers (`encode_left` and `encode_right`), so they do not share weights. "
        "Create the encoder once and call that same object on each input.")


def test_message_shared_encoder_of_wrong_width(keras: Any) -> None:
    left = keras.Input(shape=(10,), name="left")
    right = keras.Input(shape=(10,), name="right")
    encoder = keras.layers.Dense(16, activation="relu", name="encoder")
    out = keras.layers.Dense(1, activation="sigmoid", name="same")(
        keras.layers.concatenate([encoder(left), encoder(right)]))
    verdict = checks.check_shared(describe(keras.Model([left, right], out)), ["left", "right"],
                                  units=32)
    assert verdict.message == (
        "The layer shared by `left` and `right` (`encoder`) has 16 units; expected 32. Create "
        "the shared encoder with 32 units.")


def test_message_short_skip(keras: Any) -> None:
    inputs = keras.Input(shape=(20,))
    h = keras.layers.Dense(64, activation="relu", name="h")(inputs)
    y = keras.layers.Dense(64, activation="relu", name="block_1")(h)
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.Add(name="skip")([h, y]))
    verdict = checks.check_skip(describe(keras.Model(inputs, out)), min_layers=2)
    assert verdict.message == (
        "The merge `skip` bypasses a block of only 1 layer (`block_1`); the task asks for at "
        "least 2. Put 2 layers between `h` and the merge.")


def test_message_no_skip(described: dict) -> None:
    assert checks.check_skip(described["res_no_skip"]).message == (
        "No skip connection found: no `Add` (or other merge) combines a tensor `h` with "
        "something computed from `h` through at least 2 layers. Add `h` to the result of the "
        "block, for example `layers.Add()([h, y])`.")


def test_message_params(described: dict) -> None:
    verdict = checks.check_params(described["siam_unshared"], model_zoo.SIAMESE_PARAMS)
    assert verdict.message == (
        "Your model has 769 parameters; expected 417. Check the number of units of each layer "
        "and which layer each one is called on.")


def test_message_list_of_losses(described: dict) -> None:
    verdict = checks.check_compiled_by_name(described["ctv_list_of_losses"],
                                            model_zoo.TWO_VIEW_LOSSES)
    assert verdict.message == (
        "Your losses are a list (`sparse_categorical_crossentropy` and `binary_crossentropy`); "
        "expected a dict keyed by output name. Keras matches a list to the outputs by their "
        "order, which can silently put a loss on the wrong head: write "
        '`loss={"digit": ..., "parity": ...}`.')


def test_message_no_accuracy(described: dict) -> None:
    verdict = checks.check_compiled(described["compile_no_metrics"], metrics=["accuracy"])
    assert verdict.message == (
        "Your model's metrics are none; expected an accuracy metric. Add "
        '`metrics=["accuracy"]` to `model.compile`.')


def test_message_wrong_output_name(described: dict) -> None:
    verdict = checks.check_outputs(described["siam_wrong_output_name"],
                                   {"same": {"shape": (None, 1), "activation": "sigmoid"}})
    assert verdict.message == (
        "Your model has no output named `same` (found `output`). Name it with `name=\"same\"` "
        'on the layer that produces it (or key it `"same"` in a dict of outputs).')


def test_message_wrong_head_activation(described: dict) -> None:
    verdict = checks.check_outputs(described["tv_digit_sigmoid"],
                                   {"digit": {"activation": "softmax"}, "parity": (None, 1)})
    assert verdict.message == (
        "Output `digit` of your model ends with activation `sigmoid`; expected `softmax`. Give "
        'the last layer of that output `activation="softmax"`.')


# --------------------------------------------------------------------------- check details


def test_input_list_order_matters_and_dict_order_does_not(keras: Any) -> None:
    a = keras.Input(shape=(3,), name="a")
    b = keras.Input(shape=(5,), name="b")
    out = keras.layers.Dense(1)(keras.layers.concatenate([a, b]))
    d = describe(keras.Model([b, a], out))
    assert checks.check_inputs(d, [(None, 5), (None, 3)]).passed
    assert not checks.check_inputs(d, [(None, 3), (None, 5)]).passed
    assert checks.check_inputs(d, {"a": (None, 3), "b": (None, 5)}).passed
    assert checks.check_inputs(d, {"b": (5,), "a": (3,)}).passed  # batch dimension left out


def test_outputs_of_an_unbuilt_sequential_check_what_is_known(described: dict) -> None:
    d = described["seq_unbuilt"]
    assert checks.check_outputs(d, [{"shape": (None, 3), "activation": "softmax"}]).passed
    assert not checks.check_outputs(d, [(None, 4)]).passed


def test_chain_through_a_nested_encoder(described: dict) -> None:
    layers = [("Dense", 32, "relu"), ("Concatenate",), ("Dense", 1, "sigmoid")]
    for name in ("siam_nested_sequential", "siam_nested_sequential_unbuilt",
                 "siam_nested_functional"):
        assert checks.check_chain(described[name], layers, output="same").passed, name


def test_chain_names_a_missing_output(described: dict) -> None:
    verdict = checks.check_chain(described["tv_dicts"], [("Dense", 10, "softmax")],
                                 output="digits")
    assert verdict.message.startswith("Your model has no output named `digits`")


def test_skip_respects_min_layers(described: dict) -> None:
    assert checks.check_skip(described["res_add_layer"], 2).passed
    assert not checks.check_skip(described["res_add_layer"], 3).passed
    assert checks.check_skip(described["res_skip_one_layer"], 1).passed


def test_a_shared_layer_on_merged_inputs_does_not_count(keras: Any) -> None:
    """One call on the concatenation of both inputs is one call, not sharing."""
    left = keras.Input(shape=(10,), name="left")
    right = keras.Input(shape=(10,), name="right")
    dense = keras.layers.Dense(32, activation="relu")
    both = keras.layers.concatenate([left, right])
    x = dense(keras.layers.Dense(10)(both))
    x = dense(keras.layers.Dense(10)(x))
    model = keras.Model([left, right], keras.layers.Dense(1, name="same")(x))
    verdict = checks.check_shared(describe(model), ["left", "right"])
    assert not verdict.passed and "not on every one of" in verdict.message


def test_a_weightless_shared_layer_does_not_count(keras: Any) -> None:
    left = keras.Input(shape=(10,), name="left")
    right = keras.Input(shape=(10,), name="right")
    relu = keras.layers.ReLU()
    a, b = relu(keras.layers.Dense(32)(left)), relu(keras.layers.Dense(32)(right))
    model = keras.Model([left, right], keras.layers.Dense(1)(keras.layers.concatenate([a, b])))
    assert not checks.check_shared(describe(model), ["left", "right"]).passed


def test_compile_by_name_on_a_single_output_accepts_plain_values(described: dict) -> None:
    d = described["compile_strings"]
    output = d["outputs"][0]["name"]
    assert checks.check_compiled_by_name(d, {output: "sparse_categorical_crossentropy"},
                                         metrics={output: ["accuracy"]}).passed


@pytest.mark.parametrize(("value", "passed"), [
    ("functional", True), ("  Functional ", True), ("FUNCTIONAL", True), ("sequential", False),
])
def test_check_answer(value: str, passed: bool) -> None:
    assert checks.check_answer(value, "functional", "q1").passed is passed


def test_answer_messages() -> None:
    assert checks.check_answer(None, "b", "q2", choices=["a", "b"]).message == (
        "You have not answered question `q2` yet. Set your answer to one of `a` or `b` and run "
        "the cell again.")
    assert checks.check_answer("c", "b", "1 (the spam filter)", choices=["a", "b"]).message == (
        'Your answer to question 1 (the spam filter) is `"c"`, which is not one of the choices. '
        "Set it to one of `a` or `b`.")
    wrong = checks.check_answer("a", "b", "q2", choices=["a", "b"])
    assert wrong.message == (
        'Your answer to question `q2`, `"a"`, is not the best fit. Reread the scenario and ask '
        "which API it needs.")
    assert "\"a\"" not in wrong.hidden_message  # hidden: repeats nothing the student chose
    assert wrong.hidden_message == (
        "Your answer to question `q2` is not the expected one. Reread the scenario and ask "
        "which API it needs.")
    assert checks.check_answer("Sequential API", ["sequential", "sequential api"], "q3").passed


def test_visible_quiz_check_accepts_any_choice_and_hidden_one_the_answer() -> None:
    choices = ["sequential", "functional", "subclass"]
    expect.expect_answer("Subclass", choices, question="1 (the spam filter)", choices=choices)
    with pytest.raises(errors.WrongAnswerError) as caught:
        expect.expect_answer("subclass", "sequential", question="1 (the spam filter)",
                             choices=choices, hidden=True)
    assert "sequential" not in str(caught.value).replace("`subclass`", "")
    assert "1 (the spam filter)" in str(caught.value)


def test_losses_and_metrics_are_checked_separately(described: dict) -> None:
    """A list of losses costs the losses test only; a metrics list the metrics test only."""
    losses, metrics = model_zoo.TWO_VIEW_LOSSES, model_zoo.TWO_VIEW_METRICS
    assert not checks.check_compiled_by_name(described["ctv_list_of_losses"], losses).passed
    assert checks.check_compiled_by_name(described["ctv_list_of_losses"], {},
                                         metrics=metrics).passed
    assert checks.check_compiled_by_name(described["ctv_metrics_list"], losses).passed
    assert not checks.check_compiled_by_name(described["ctv_metrics_list"], {},
                                             metrics=metrics).passed


# --------------------------------------------------------------------------- expect


def test_expect_accepts_every_form_of_a_model(keras: Any, described: dict) -> None:
    model = model_zoo.built_zoo()["seq_list"]
    for form in (model, described["seq_list"], model_evidence(model), model.to_json()):
        expect.expect_api(form, "sequential")
        expect.expect_built(form)
        expect.expect_inputs(form, [(None, 20)])
        expect.expect_outputs(form, [{"shape": (None, 3), "activation": "softmax"}])
        expect.expect_chain(form, model_zoo.SEQ_LAYERS)
        expect.expect_params(form, model_zoo.SEQ_PARAMS)


def test_expect_covers_every_contract(described: dict) -> None:
    expect.expect_skip(described["res_plus"], min_layers=2)
    expect.expect_merge(described["res_plus"])
    expect.expect_shared(described["siam_nested_sequential"], ["left", "right"], units=32)
    expect.expect_depends(described["tv_dicts"], "parity", ["top", "bottom"])
    expect.expect_outputs(described["tv_lists_reversed"], {
        "digit": {"shape": (None, 10), "activation": "softmax"}, "parity": (None, 1)})
    expect.expect_compiled(described["compile_mixed"], optimizer="adam",
                           loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    expect.expect_compiled_by_name(described["ctv_keyed_objects"], model_zoo.TWO_VIEW_LOSSES,
                                   metrics=model_zoo.TWO_VIEW_METRICS)
    expect.expect_answer(" Functional", "functional", question="q1")


@pytest.mark.parametrize(("call", "error"), [
    (lambda d: expect.expect_api(d["func_basic"], "sequential"), errors.WrongAPIError),
    (lambda d: expect.expect_built(d["seq_unbuilt"]), errors.NotBuiltError),
    (lambda d: expect.expect_inputs(d["seq_wrong_input_shape"], [(None, 20)]),
     errors.WrongInputsError),
    (lambda d: expect.expect_outputs(d["seq_no_softmax"], [{"activation": "softmax"}]),
     errors.WrongOutputsError),
    (lambda d: expect.expect_chain(d["seq_wrong_units"], model_zoo.SEQ_LAYERS),
     errors.WrongLayersError),
    (lambda d: expect.expect_depends(d["tv_unused_bottom"], "digit", ["top", "bottom"]),
     errors.MissingConnectionError),
    (lambda d: expect.expect_merge(d["seq_list"]), errors.MissingConnectionError),
    (lambda d: expect.expect_skip(d["res_no_skip"]), errors.MissingSkipError),
    (lambda d: expect.expect_shared(d["siam_unshared"], ["left", "right"]),
     errors.NotSharedError),
    (lambda d: expect.expect_params(d["seq_list"], 1), errors.WrongParamCountError),
    (lambda d: expect.expect_compiled(d["seq_list"]), errors.WrongCompileError),
    (lambda d: expect.expect_compiled_by_name(d["ctv_list_of_losses"],
                                              model_zoo.TWO_VIEW_LOSSES),
     errors.WrongCompileError),
    (lambda d: expect.expect_answer("b", "a", question="q1"), errors.WrongAnswerError),
])
def test_expect_raises_the_specific_course_error(call: Any, error: type, described: dict) -> None:
    with pytest.raises(error) as caught:
        call(described)
    assert isinstance(caught.value, errors.CourseCheckError)
    assert isinstance(caught.value, AssertionError)
    assert str(caught.value) == caught.value.verdict.message


def test_hidden_messages_name_the_concept_only(described: dict) -> None:
    with pytest.raises(errors.WrongInputsError) as caught:
        expect.expect_inputs(described["seq_list"], [(None, 13)], hidden=True,
                             argument="input_dim")
    assert str(caught.value) == (
        "When called with other sizes, the model's inputs do not follow `input_dim`: use the "
        "argument rather than a fixed number.")
    with pytest.raises(errors.WrongParamCountError) as caught:
        expect.expect_params(described["seq_list"], 4711, hidden=True)
    assert "4711" not in str(caught.value) and "4,711" not in str(caught.value)
    with pytest.raises(errors.WrongLayersError) as caught:
        expect.expect_chain(described["seq_list"], [("Dense", 64, "relu"), ("Dense", 32, "relu"),
                                                    ("Dense", 7, "softmax")], hidden=True)
    assert "7" not in str(caught.value)


@pytest.mark.parametrize(("value", "label", "message"), [
    (None, "build_sequential(20, 3)",
     ("`build_sequential(20, 3)` returned `None`, not a Keras model: did you forget "
     "`return model` at the end of the function?")),
    (None, "the model",
     ("The model is `None`, not a Keras model: did you forget `return model` at the end of the "
     "function?")),
    (len, "the model",
     "The model is a function, not a Keras model: call the function and check what it returns."),
    ("hello", "the model",
     ("The model is a string that is not a model's JSON, not a Keras model: return the model "
     "itself.")),
    ((1, 2), "make()",
     "`make()` returned a sequence of 2 values, not a Keras model: return the model alone."),
])
def test_not_a_model_messages(value: Any, label: str, message: str) -> None:
    with pytest.raises(errors.NotAModelError) as caught:
        expect.expect_api(value, "sequential", label=label)
    assert str(caught.value) == message


def test_a_layer_is_not_a_model(keras: Any) -> None:
    with pytest.raises(errors.NotAModelError) as caught:
        expect.expect_built(keras.layers.Dense(3), label="build_sequential(20, 3)")
    assert str(caught.value) == (
        "`build_sequential(20, 3)` returned a `Dense` layer, not a model: put your layers in "
        "`keras.Sequential([...])` or `keras.Model(inputs, outputs)` and return the model.")


def test_hidden_not_a_model_hides_the_arguments() -> None:
    with pytest.raises(errors.NotAModelError) as caught:
        expect.expect_api(None, "sequential", hidden=True, label="build_sequential(13, 4)")
    assert "13" not in str(caught.value)
    assert str(caught.value).startswith("`build_sequential(...)` returned `None`")


def test_every_check_has_an_error_class_and_a_hidden_message() -> None:
    for check in ("api", "built", "inputs", "outputs", "chain", "depends", "merge", "skip",
                  "shared", "params", "compiled", "compiled_by_name", "answer", "model"):
        assert errors.error_for(check) is not errors.CourseCheckError
        assert messages.hidden(check) != messages.hidden("no such check")


def test_message_metrics_passed_positionally_into_loss_weights(keras: Any) -> None:
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    verdict = checks.check_compiled(describe(model), metrics=["accuracy"])
    assert not verdict.passed
    assert verdict.message == (
        "Your model has no metrics, but `accuracy` ended up in its loss weights: in Keras 3 the "
        "third positional argument of `compile` is `loss_weights`. Pass the metrics by keyword: "
        '`model.compile(..., metrics=["accuracy"])`.')
    _assert_teaches(verdict.message)


def test_message_swapped_units_names_the_first_layer_that_differs(keras: Any) -> None:
    layers = keras.layers
    model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(32, activation="relu"),
                              layers.Dense(64, activation="relu"),
                              layers.Dense(3, activation="softmax")])
    verdict = checks.check_chain(describe(model), [("Dense", 64, "relu"), ("Dense", 32, "relu"),
                                                   ("Dense", 3, "softmax")])
    assert verdict.message.startswith("Layer 1 of your stack is `Dense(32")
    assert "expected `Dense(64" in verdict.message
    _assert_teaches(verdict.message)


# --------------------------------------------------------------------------- the grader's rebuild


@pytest.fixture(scope="session")
def rebuilt() -> dict[str, dict]:
    """What the grader decides on for every zoo model: its own rebuild in the rebuild service."""
    return model_zoo.rebuilt_zoo()


@pytest.mark.parametrize("name", NAMES)
def test_rebuilt_zoo_entry_fails_exactly_the_checks_it_breaks(name: str, rebuilt: dict) -> None:
    """Every equivalent form keeps full marks on the grader's rebuild; a model whose edges look
    right but whose computation ignores an input loses exactly the checks it breaks."""
    entry = model_zoo.by_name(name)
    verdicts = model_zoo.contract_verdicts(rebuilt[name], entry.contract)
    failed = {check for check, verdict in verdicts.items() if not verdict.passed}
    assert failed == set(entry.grader_fails), {k: v.message for k, v in verdicts.items() if not v}
    for verdict in verdicts.values():
        if not verdict.passed:
            _assert_teaches(verdict.message)
            _assert_teaches(verdict.hidden_message)


# --------------------------------------------------------------------------- verdicts of test cells

_HIDDEN_CELL = '''from keras_course.expect import expect_api
from keras_course.grading import call

model = call(build_sequential, 64, 10)
expect_api(model, "sequential")
### BEGIN HIDDEN TESTS
model = call(build_sequential, 13, 4)
expect_api(model, "sequential", hidden=True)
### END HIDDEN TESTS
'''


def _record(function: str, args: list, **outcome: Any) -> dict:
    from keras_course.grading.evidence import EVIDENCE_MIME

    return {"output_type": "display_data", "metadata": {}, "data": {EVIDENCE_MIME: {
        "kind": "call", "function": function, "args": args, "kwargs": {}, **outcome}}}


def _model_record(function: str, args: list, model: Any) -> dict:
    return _record(function, args, result={"type": "model", "evidence": model_evidence(model)})


def test_hidden_messages_repeat_nothing_the_student_chose() -> None:
    """Family 4: a hidden check names the concept only, never the exception's class or text,
    the class or text of what was returned, or a layer name the student chose."""
    from keras_course.grading.verify import verify_cell

    seq = model_zoo.built_zoo()["seq_list"]
    secret = "LeakHiddenSizes"
    raised = verify_cell(_HIDDEN_CELL, [
        _model_record("build_sequential", [64, 10], seq),
        _record("build_sequential", [13, 4], error=f"{secret}Error: called with 13 and 4")])
    returned = verify_cell(_HIDDEN_CELL, [
        _model_record("build_sequential", [64, 10], seq),
        _record("build_sequential", [13, 4], result={
            "type": "object", "class_name": f"{secret}Box", "repr": f"{secret}Box(13, 4)"})])
    keras = model_zoo.keras_module()
    named = keras.Sequential([keras.Input(shape=(13,)),
                              keras.layers.Lambda(lambda x: x, name=f"{secret}_layer")])
    graph_cell = _HIDDEN_CELL.replace('expect_api(model, "sequential", hidden=True)',
                                      "expect_inputs(model, [(None, 13)], hidden=True)")
    graph_cell = graph_cell.replace("import expect_api", "import expect_api, expect_inputs")
    refused = verify_cell(graph_cell, [
        _model_record("build_sequential", [64, 10], seq),
        _model_record("build_sequential", [13, 4], named)])
    for verdict in (raised, returned, refused):
        assert not verdict["passed"]
        assert secret not in verdict["message"] and "13" not in verdict["message"], verdict
        _assert_teaches(verdict["message"].replace("`build_sequential`", "Function", 1))
    assert "raised an exception" in raised["message"]


def test_more_records_than_calls_is_an_error() -> None:
    from keras_course.grading.verify import verify_cell

    seq = model_zoo.built_zoo()["seq_list"]
    records = [_model_record("build_sequential", [64, 10], seq),
               _model_record("build_sequential", [13, 4], seq)]
    cell = _HIDDEN_CELL.replace('"sequential", hidden=True', '"sequential"')
    assert verify_cell(cell, records)["passed"]
    extra = verify_cell(cell, records + [records[1]])
    assert not extra["passed"] and "more results" in extra["message"]
    _assert_teaches(extra["message"])


def test_grader_decides_on_behaviour_of_its_rebuild_not_on_edges() -> None:
    """`keras.ops.multiply(bottom, 0.0)`: the edges of a two-view model, the bottom ignored.
    The student's own visible check (live model) passes; the grader's verdict does not."""
    from keras_course.grading.verify import verify_cell

    cell = '''from keras_course.expect import expect_depends
from keras_course.grading import call

model = call(build_two_view, 32, 10)
expect_depends(model, "digit", ["top", "bottom"])
'''
    fooled = model_zoo.built_zoo()["tv_bottom_times_zero"]
    expect.expect_depends(fooled, "digit", ["top", "bottom"])  # the live model's edges
    verdict = verify_cell(cell, [_model_record("build_two_view", [32, 10], fooled)])
    assert not verdict["passed"] and "does not change when input `bottom`" in verdict["message"]
    honest = model_zoo.built_zoo()["tv_ops"]
    assert verify_cell(cell, [_model_record("build_two_view", [32, 10], honest)])["passed"]


def test_rebuild_refuses_what_is_not_a_built_in_keras_layer() -> None:
    from keras_course.grading.rebuild import describe_recorded
    from keras_course.grading.rebuild_service import refusal

    keras = model_zoo.keras_module()

    class Dense(keras.layers.Dense):  # named like the built-in layer
        def call(self, inputs: Any) -> Any:
            return super().call(inputs * 0.0)

    custom = keras.Sequential([keras.Input(shape=(4,)), Dense(3)])
    lam = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Lambda(lambda x: x)])
    for model, kind in ((custom, "custom"), (lam, "lambda")):
        import json

        assert refusal(json.loads(model.to_json()))[0] == kind
        description = describe_recorded(model_evidence(model))
        assert description["refused"] == kind and description["api"] == "sequential"
        verdict = checks.check_inputs(description, [(None, 4)])
        assert not verdict.passed and "built-in layers only" in verdict.message
        _assert_teaches(verdict.message)
    assert refusal({"class_name": "Sequential", "module": "os", "config": {}})[0] == "custom"


def test_a_hostile_configuration_costs_only_its_own_rebuild() -> None:
    """`Dense(10**9)` and a configuration nested too deep: refused with a reason; the service
    keeps answering the next model."""
    import json

    from keras_course.grading.rebuild import describe_recorded, service

    keras = model_zoo.keras_module()
    spec = json.loads(keras.Sequential([keras.Input(shape=(64,)),
                                        keras.layers.Dense(10)]).to_json())
    spec["config"]["layers"][1]["config"]["units"] = 10**9
    huge = describe_recorded({"class_name": "Sequential", "json": json.dumps(spec)})
    assert huge.get("refused") and not checks.check_inputs(huge, [(None, 64)]).passed
    deep: Any = {"class_name": "Dense", "module": "keras.layers", "config": {}}
    for _ in range(200):
        deep = {"class_name": "Dense", "module": "keras.layers", "config": {"x": deep}}
    nested = describe_recorded({"class_name": "Sequential", "json": json.dumps(
        {"class_name": "Sequential", "module": "keras", "config": {"layers": [deep]}})})
    assert nested.get("refused") == "shape"
    assert service().proc is not None and service().proc.poll() is None
    assert describe_recorded(model_evidence(model_zoo.built_zoo()["seq_list"]))["params"] == (
        model_zoo.SEQ_PARAMS)


# --------------------------------------------------------------------------- every template's tone

_CALL = "`build_sequential(20, 3)`"
_LAST = "bwrap: No permissions to creating new namespace"
_COMMANDS = "release, demo, grade, report, lab, export, hub, protections"
_FORGED = "kct-ada+a1_sequential+2099-01-01 00:00:00.000000 UTC+forged"

#: Every template of `messages` (the model checks' notes and the grading run's sentences),
#: rendered with sample fields in the form a person reads it: a notice of the kernel's run as its
#: traceback line (`DeadKernelError: ...`), an instructor's error as the exception's line, a
#: fragment inside the sentence that carries it. A new template must be added here.
READ_AS = {
    "SUBCLASS_NOTE": messages.SUBCLASS_NOTE,
    "SUBCLASS_GRAPH_NOTE": messages.SUBCLASS_GRAPH_NOTE,
    "UNREADABLE_NOTE": messages.UNREADABLE_NOTE,
    "NO_JSON_NOTE": messages.NO_JSON_NOTE,
    # students: `plot_model_graph` (as the exception's line)
    "NO_DRAWING_SUBCLASS": "ValueError: " + messages.NO_DRAWING_SUBCLASS.format(class_name="Net"),
    "NO_DRAWING": "ValueError: " + messages.NO_DRAWING.format(note="its configuration lists none"),
    "NO_LAYERS_TO_DRAW": "ValueError: " + messages.NO_DRAWING.format(
        note=messages.NO_LAYERS_TO_DRAW),
    # students: records
    "HIDDEN_CALL": messages.NO_RECORD.format(label=messages.HIDDEN_CALL.format(name="scale")),
    "ANSWER_LABEL": messages.NO_RECORD.format(label=messages.ANSWER_LABEL.format(name="q1")),
    "CALL_NOT_WRITTEN": messages.CALL_NOT_WRITTEN.format(label=_CALL),
    "CALL_RAISED_HIDDEN": messages.CALL_RAISED_HIDDEN.format(label=_CALL),
    "CALL_RAISED_QUIET": messages.CALL_RAISED_QUIET.format(label=_CALL),
    "CALL_RAISED": messages.CALL_RAISED.format(label=_CALL, error="ValueError: bad units"),
    "RECORD_OUT_OF_ORDER": messages.RECORD_OUT_OF_ORDER.format(label=_CALL),
    "NO_RECORD": messages.NO_RECORD.format(label=_CALL),
    "RECORD_MISMATCH": messages.RECORD_MISMATCH.format(label=_CALL),
    "RECORD_UNREADABLE": messages.RECORD_UNREADABLE.format(label=_CALL),
    "RECORDED_MODEL_UNREADABLE": messages.RECORDED_MODEL_UNREADABLE.format(label=_CALL,
                                                                           error="KeyError"),
    # students: verdicts
    "GRADER_COULD_NOT_CHECK": messages.GRADER_COULD_NOT_CHECK.format(grade_id="test_a1",
                                                                     error="TypeError"),
    "GRADER_COULD_NOT_READ": messages.GRADER_COULD_NOT_READ.format(
        grade_id="test_a1", error="'(' was never closed"),
    "GRADER_COULD_NOT_RUN": messages.GRADER_COULD_NOT_RUN.format(grade_id="test_a1",
                                                                 error="NameError"),
    "MORE_RECORDS_THAN_CALLS": messages.MORE_RECORDS_THAN_CALLS.format(grade_id="test_a1"),
    "NOTHING_CHECKED": messages.NOTHING_CHECKED.format(grade_id="test_a1"),
    # students: the run (notices as their traceback line)
    "KERNEL_DIED": f"DeadKernelError: {messages.KERNEL_DIED}",
    "OUTPUT_STILL_ARRIVING": "CellTimeoutError: " + messages.OUTPUT_STILL_ARRIVING.format(
        seconds=4),
    "CELL_TIMED_OUT": f"CellTimeoutError: {messages.CELL_TIMED_OUT.format(seconds=30)}",
    "NOT_RUN": "NotRun: " + messages.NOT_RUN.format(reason=messages.STOP_REASONS["died"]),
    **{f"STOP_REASONS:{code}": "NotRun: " + messages.NOT_RUN.format(reason=reason)
       for code, reason in messages.STOP_REASONS.items()},
    "TRUNCATED": messages.TRUNCATED.strip(),
    "WITHHELD": messages.WITHHELD.strip(),
    "SKIPPED_DEMO": messages.SKIPPED_DEMO.strip(),
    # students: feedback
    "SUMMARY_INTRO": messages.SUMMARY_INTRO,
    "NO_MESSAGE": messages.NO_MESSAGE,
    "AWAITING": messages.AWAITING,
    "STOPPED": f"{messages.STOPPED} {messages.KERNEL_DIED}",
    "LATE_ON_TIME": messages.LATE_ON_TIME.format(submitted="2026-11-19 10:00 CET",
                                                 due="2026-11-19 11:00 CET"),
    "LATE_GRACE": messages.LATE_GRACE.format(submitted="2026-11-19 11:10 CET",
                                             due="2026-11-19 11:00 CET", late="10 min"),
    "LATE_PENALTY": messages.LATE_PENALTY.format(
        submitted="2026-11-20 13:00 CET", due="2026-11-19 11:00 CET", late="1 d 2 h",
        penalty=3.0, rule=messages.LATE_RULE_UNITS.format(units=2, per="day", plural="s",
                                                           percent=10.0, cap=50.0)),
    "EXTENDED": messages.LATE_ON_TIME.format(submitted="2026-11-20 13:00 CET",
                                             due="2026-11-21 12:00 CET" + messages.EXTENDED),
    "LATE_RULE_ZERO": messages.LATE_PENALTY.format(
        submitted="2026-11-29 13:00 CET", due="2026-11-19 11:00 CET", late="10 d",
        penalty=15.0, rule=messages.LATE_RULE_ZERO),
    "LATE_RULE_UNITS": messages.LATE_PENALTY.format(
        submitted="2026-11-19 11:20 CET", due="2026-11-19 11:00 CET", late="20 min",
        penalty=1.5, rule=messages.LATE_RULE_UNITS.format(units=1, per="hour", plural="",
                                                           percent=10.0, cap=50.0)),
    # instructors: the box (as the exception's line)
    **{name: f"SandboxUnavailableError: {text}" for name, text in {
        "NO_BWRAP": messages.NO_BWRAP,
        "NO_SETPRIV": messages.NO_SETPRIV,
        "NO_USER_NAMESPACES": messages.NO_USER_NAMESPACES.format(bwrap="/usr/bin/bwrap",
                                                                 last=_LAST),
        "ENVIRONMENT_UNREADABLE": messages.ENVIRONMENT_UNREADABLE.format(
            path="/opt/venv", last=_LAST,
            why=messages.MODE_UNREADABLE.format(path="/opt/venv/bin", mode="700")),
        "MODE_UNREADABLE": messages.ENVIRONMENT_UNREADABLE.format(
            path="/opt/venv", last="",
            why=messages.MODE_UNREADABLE.format(path="/opt/venv/lib", mode="750")),
        "BOX_WONT_START": messages.BOX_WONT_START.format(last=_LAST, prefix="/opt/venv"),
        "NO_ERROR_OUTPUT": messages.BOX_WONT_START.format(last=messages.NO_ERROR_OUTPUT,
                                                          prefix="/opt/venv"),
        "VIEW_HOLDS_SECRET": messages.VIEW_HOLDS_SECRET.format(path="/course/.venv",
                                                               secret="/course"),
        "UIDS_IN_USE": messages.UIDS_IN_USE.format(uid_range="200000-200009"),
        "CGROUP_FAILED": messages.CGROUP_FAILED.format(
            error="[Errno 30] Read-only file system", cgroup_root="/sys/fs/cgroup"),
        "ROOT_NEEDS_UID": messages.ROOT_NEEDS_UID,
    }.items()},
    # instructors: the run (in the log)
    "NO_SANDBOX": messages.NO_SANDBOX,
    "RUNNING_AGAIN": messages.RUNNING_AGAIN.format(cells=2, last=14),
    "BUDGET_USED": messages.BUDGET_USED.format(cell=12),
    "KERNEL_STOP_FAILED": messages.KERNEL_STOP_FAILED.format(error="RuntimeError: no kernel"),
    "FORK_FALLBACK": messages.FORK_FALLBACK.format(
        error=messages.FORK_SERVER_ERRORS["exited"].format(detail=1)),
    **{f"FORK_SERVER_ERRORS:{code}": messages.FORK_FALLBACK.format(
        error=messages.FORK_SERVER_ERRORS[code].format(detail=detail)) for code, detail in {
        "not_started": "ModuleNotFoundError: No module named 'ipykernel'", "no_answer": 120,
        "exited": 1, "spawn_failed": "OSError: mount /tmp: Operation not permitted",
        "spawn_timeout": 60, "bad_request": "KeyError: 'cwd'", "no_kernel": 4242,
        "unknown_request": "'restart'"}.items()},
    # instructors: replay (in the log, as the exception's line)
    "REPLAY_IMPORT": f"ReplayImportError: {messages.REPLAY_IMPORT.format(name='keras')}",
    # instructors: the class (a reason, as the list after the run and the report give it)
    **{name: f"Submission `ada/a1` could not be graded: {text}." for name, text in {
        "NOTEBOOK_MISSING": messages.NOTEBOOK_MISSING.format(notebook="a1.ipynb", renamed=""),
        "NOTEBOOK_RENAMED": messages.NOTEBOOK_MISSING.format(
            notebook="a1.ipynb", renamed=messages.NOTEBOOK_RENAMED.format(names="`mine.ipynb`")),
        "NOTEBOOK_EMPTY": messages.NOTEBOOK_EMPTY,
        "NOTEBOOK_NOT_JSON": messages.NOTEBOOK_NOT_JSON,
        "NOTEBOOK_MALFORMED": messages.NOTEBOOK_MALFORMED,
        "KERNEL_UNRESPONSIVE": f"{messages.KERNEL_UNRESPONSIVE} (UnresponsiveKernelError: gone)",
        "NBGRADER_FAILED": messages.NBGRADER_FAILED,
        "SEE_LOG": messages.NBGRADER_FAILED + messages.SEE_LOG.format(
            path="grades/logs/ada--a1.log"),
        "WORKER_ERROR": messages.WORKER_ERROR.format(error="OSError: No space left on device"),
        "WORKER_SILENT": messages.WORKER_SILENT,
        "WORKER_KILLED": messages.WORKER_KILLED.format(signal="SIGTERM", hint=""),
        "OUT_OF_MEMORY": messages.WORKER_KILLED.format(signal="SIGKILL",
                                                       hint=messages.OUT_OF_MEMORY),
        "WORKER_EXITED": messages.WORKER_EXITED.format(code=3),
        "GRADING_TOO_LONG": messages.GRADING_TOO_LONG.format(seconds=1800.0),
        "DASK_WORKER_FAILED": messages.DASK_WORKER_FAILED.format(
            error="KilledWorker: the worker died"),
    }.items()},
    # (as `make grade` prints why it graded submissions again)
    **{f"REGRADE_REASONS:{code}":
       f"Regraded 4 submissions because {messages.regrade_reason([code])}."
       for code in messages.REGRADE_REASONS},
    # instructors: commands (a usage error after argparse's `keras-course: error: `, read as
    # `Error: ...`; a terminal line; an exception's line; a log line)
    "UNGRADED_SEE_ABOVE": messages.UNGRADED_SEE_ABOVE.format(count="Two"),
    "NO_SUCH_COMMAND": "Error: " + messages.NO_SUCH_COMMAND.format(command="frobnicate") + " "
                       + messages.COMMANDS_ARE.format(commands=_COMMANDS, prog="keras-course"),
    "DID_YOU_MEAN": "Error: " + messages.DID_YOU_MEAN.format(command="grdae", near="grade") + " "
                    + messages.COMMANDS_ARE.format(commands=_COMMANDS, prog="keras-course"),
    "COMMANDS_ARE": messages.COMMANDS_ARE.format(commands=_COMMANDS, prog="keras-course"),
    "UNRECOGNIZED_ARGUMENTS": "Error: " + messages.UNRECOGNIZED_ARGUMENTS.format(
        arguments="--fast", prog="keras-course", command="grade"),
    "NO_LAB_MODE": "ValueError: " + messages.NO_LAB_MODE.format(
        mode="student", modes=messages.names(["instructor", "self-learner"], "or")),
    # the hub's step and start failures end with the output or log they quote
    "HUB_STEP_FAILED": messages.HUB_STEP_FAILED.format(command="npm install --global --no-fund",
                                                       code=1, output="").strip(),
    "NO_SHARED_PYTHON": messages.NO_SHARED_PYTHON.format(version="3.11",
                                                         python="/root/.pyenv/bin/python3"),
    "NO_NPM": messages.NO_NPM,
    "PROXY_NOT_FOUND": messages.PROXY_NOT_FOUND,
    "HUB_NEEDS_ROOT": messages.HUB_NEEDS_ROOT,
    "HUB_RUNNING": messages.HUB_RUNNING.format(name="keras-course-hub"),
    "HUB_DID_NOT_START": messages.HUB_DID_NOT_START.format(
        log="/srv/keras-course-hub/hub/jupyterhub.log", tail="").strip(),
    "NO_HUB_ACTION": "ValueError: " + messages.NO_HUB_ACTION.format(action="restart"),
    "NOT_IN_ROSTER": "Warning: " + messages.NOT_IN_ROSTER.format(student="dee",
                                                                 roster="roster.csv"),
    "NOT_IN_GRADEBOOK": "Warning: " + messages.NOT_IN_GRADEBOOK.format(student="zed",
                                                                       roster="roster.csv"),
    **{name: f"ValueError: {text}" for name, text in {
        "NOT_A_TIME": messages.NOT_A_TIME.format(what="course.toml [due] a1", text="friday"),
        "LATE_PER": messages.LATE_PER.format(file="course.toml", per="week"),
        "EXTENSION_WITHOUT_DUE": messages.EXTENSION_WITHOUT_DUE.format(
            file="extensions.csv", line=3, until="+48h", assignment="a9"),
    }.items()},
    "PROTECTIONS_IN_FORCE": messages.PROTECTIONS_IN_FORCE,
    **{name: f"ProtectionsMissingError: {text}" for name, text in {
        "PROTECTIONS_NOT_IN_FORCE": messages.PROTECTIONS_NOT_IN_FORCE.format(
            problems=messages.PROTECTION_PROBLEMS["not_required"]),
        **{f"PROTECTION_PROBLEMS:{code}": messages.PROTECTIONS_NOT_IN_FORCE.format(
            problems=problem.format(step="keras_course.grading.verify.VerifyEvidence"))
           for code, problem in messages.PROTECTION_PROBLEMS.items()},
        "CONFIG_MISSING": messages.CONFIG_MISSING.format(path="/course/nbgrader_config.py"),
        "CONFIG_UNLOADABLE": messages.CONFIG_UNLOADABLE.format(
            error="SyntaxError: invalid syntax (nbgrader_config.py, line 3)", root="/course"),
        "FOREIGN_GUARD": messages.FOREIGN_GUARD.format(
            path="/opt/venv/etc/jupyter/nbgrader_config.py"),
        "REFUSE_TO_GRADE": messages.REFUSE_TO_GRADE.format(root="/course"),
    }.items()},
    **{f"STOPPED_BY:{code}": f"Submission `ada/a1` timed out or stopped: {reason}."
       for code, reason in messages.STOPPED_BY.items()},
    "NO_FAILURE_MESSAGE": f"Most frequent failure of `test_a1`: {messages.NO_FAILURE_MESSAGE}",
    "ZERO_CHECKS": "Submission `ada/a1` scored zero on everything: "
                   + messages.ZERO_CHECKS.format(count=5) + ".",
    "NO_COURSE_ID": messages.NO_COURSE_ID,
    "REFUSED_SUBMISSION": messages.REFUSED_SUBMISSION.format(
        name=_FORGED, user="kct-ada", why=messages.REFUSED_WHY["owner"].format(owner="kct-ben"),
        where=messages.REFUSED_RENAMED.format(aside=f".refused+{_FORGED}")),
    **{f"REFUSED_WHY:{code}": messages.REFUSED_SUBMISSION.format(
        name=_FORGED, user="kct-ada", where=messages.REFUSED_LEFT.format(error="Read-only"),
        why=why.format(user="kct-ada", owner="kct-ben", size=3 * 10**8, limit=2 * 10**8))
       for code, why in messages.REFUSED_WHY.items()},
    "REFUSED_RENAMED": messages.REFUSED_SUBMISSION.format(
        name=_FORGED, user="kct-ada", why=messages.REFUSED_WHY["not_folder"],
        where=messages.REFUSED_RENAMED.format(aside=f".refused+{_FORGED}")),
    "REFUSED_LEFT": messages.REFUSED_SUBMISSION.format(
        name=_FORGED, user="kct-ada", why=messages.REFUSED_WHY["not_folder"],
        where=messages.REFUSED_LEFT.format(error="Permission denied")),
    # `make grade` on the terminal: a failed step ends with the output it quotes; status lines
    # start with what they are about (`autograde:`, a submission, an assignment), read as a
    # sentence from there
    "NBGRADER_STEP_FAILED": messages.NBGRADER_STEP_FAILED.format(
        args="generate_feedback a1 --force", code=1, tail="").strip(),
    **{name: text[0].upper() + text[1:] for name, text in {
        "GRADING_STARTS": messages.GRADING_STARTS.format(
            count=4, where=messages.WITH_WORKERS.format(workers=2)),
        "WITH_WORKERS": messages.GRADING_STARTS.format(
            count=4, where=messages.WITH_WORKERS.format(workers=2)),
        "ON_DASK": messages.GRADING_STARTS.format(
            count=4, where=messages.ON_DASK.format(scheduler="tcp://10.0.0.5:8786")),
        "LATE_PENALTY_CHANGED": messages.LATE_PENALTY_CHANGED.format(
            submission="bo/a1", before=1.4, after=0),
        "REPORT_NOT_WRITTEN": messages.REPORT_NOT_WRITTEN.format(
            error="OSError: No space left on device"),
        "WRITTEN_ANSWERS": messages.WRITTEN_ANSWERS.format(assignment="a4", points=3),
    }.items()},
    # (the run stops: read as the error line it ends with)
    **{name: "Error: " + template.format(error=messages.NOT_A_TIME.format(
        what="course.toml [due] a1", text="friday")) for name, template in {
        "COURSE_TOML_INVALID": messages.COURSE_TOML_INVALID,
        "LATE_POLICY_FAILED": messages.LATE_POLICY_FAILED}.items()},
    "GRADING_INTERRUPTED": "Error: " + messages.GRADING_INTERRUPTED.format(done=3, total=16),
    "UNGRADED_IN_RUN": messages.UNGRADED_IN_RUN.format(count="Two")
                       + " `ada/a1`: the notebook file is empty.",
}

#: Templates that are headings or labels, not sentences.
HEADINGS = {
    "SUMMARY_TITLE": messages.SUMMARY_TITLE,
    "PART_WRITTEN": messages.PART_WRITTEN,
    "PART_CODE": messages.PART_CODE,
    "TOTAL": messages.TOTAL.format(points="15 / 15"),
    # the count starts the line: a number, spelled here as the heading reads
    "UNGRADED": messages.UNGRADED.format(count="Two"),
}

def _read(text: str) -> str:
    """A text that starts with a name in backticks reads as a sentence about it."""
    return re.sub(r"^`[^`]+`", "Function", text)


def test_every_template_of_messages_is_read_in_the_tone_test() -> None:
    templates = {name for name, value in vars(messages).items()
                 if name.isupper() and not name.startswith("_")
                 and isinstance(value, (str, dict))}
    listed = {name.split(":")[0] for name in READ_AS} | set(HEADINGS)
    assert templates == listed
    assert {f"STOP_REASONS:{code}" for code in messages.STOP_REASONS} <= set(READ_AS)
    assert {f"FORK_SERVER_ERRORS:{code}" for code in messages.FORK_SERVER_ERRORS} <= set(READ_AS)
    for table in ("PROTECTION_PROBLEMS", "STOPPED_BY", "REFUSED_WHY", "REGRADE_REASONS"):
        assert {f"{table}:{code}" for code in getattr(messages, table)} <= set(READ_AS)


@pytest.mark.parametrize("name", sorted(READ_AS))
def test_template_reads_as_a_teaching_sentence(name: str) -> None:
    _assert_teaches(_read(READ_AS[name]))


@pytest.mark.parametrize("name", sorted(HEADINGS))
def test_heading_is_short_and_capitalised(name: str) -> None:
    text = HEADINGS[name]
    assert text[0].isupper() and not text.endswith(".") and len(text.split()) <= 6, text


def test_grading_templates_render_the_sentences_the_grader_shows() -> None:
    """The call-failure sentence picks its template from what the student may see."""
    assert messages.call_failed(_CALL, "NotImplementedError") == (
        f"{_CALL} is not written yet: replace `raise NotImplementedError()` in its solution cell "
        "with your code.")
    assert messages.call_failed(_CALL, "ValueError: 13 units", hidden=True) == (
        messages.CALL_RAISED_HIDDEN.format(label=_CALL))
    assert "13" not in messages.call_failed(_CALL, "ValueError: 13 units", quiet=True)
    assert messages.call_failed(_CALL, "ValueError: bad units") == (
        f"{_CALL} raised `ValueError: bad units`. Run it in a cell of your own to see the full "
        "traceback, fix the error, and run the tests again.")
