"""Descriptions: one from a live model, its evidence or its JSON; pure; counts like Keras."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import model_zoo
import pytest

from keras_course import checks
from keras_course.describe import (
    SCHEMA,
    describe,
    describe_evidence,
    describe_json,
    model_evidence,
    normalise_activation,
    normalise_loss,
    normalise_optimizer,
)
from keras_course.errors import CourseCheckError, NotAModelError

ROOT = Path(__file__).resolve().parents[1]
NAMES = [entry.name for entry in model_zoo.ZOO]


@pytest.fixture(scope="session")
def zoo() -> dict[str, Any]:
    """Every zoo model, built once per test session."""
    return model_zoo.built_zoo()


@pytest.fixture(scope="session")
def described() -> dict[str, dict]:
    return model_zoo.described_zoo()


def test_zoo_is_large_and_covers_every_contract() -> None:
    assert len(model_zoo.ZOO) >= 40
    assert {e.contract for e in model_zoo.ZOO} == set(model_zoo.CONTRACTS)
    for contract in model_zoo.CONTRACTS:
        kinds = {bool(e.fails) for e in model_zoo.ZOO if e.contract == contract}
        assert kinds == {True, False}, f"{contract} needs equivalent forms and mutations"


@pytest.mark.parametrize("name", NAMES)
def test_live_evidence_and_json_routes_agree(name: str, zoo: dict, described: dict) -> None:
    model = zoo[name]
    description = described[name]
    evidence = model_evidence(model)
    assert json.loads(json.dumps(evidence)) == evidence
    assert describe_evidence(evidence) == description
    assert describe_json(model.to_json()) == description
    assert describe_json(evidence["json"], evidence["compile"]) == description
    assert json.loads(json.dumps(description)) == description
    assert description["schema"] == SCHEMA


@pytest.mark.parametrize("name", NAMES)
def test_parameter_count_matches_keras(name: str, zoo: dict, described: dict) -> None:
    model, description = zoo[name], described[name]
    if description["api"] == "subclass":
        assert description["params"] is None  # no static graph: nothing to count from
    elif not description["built"]:
        assert description["params"] is None
        with pytest.raises(ValueError):
            model.count_params()
    else:
        assert description["params"] == model.count_params()


def test_json_route_runs_where_tensorflow_cannot_be_imported(tmp_path: Path, zoo: dict,
                                                             described: dict) -> None:
    """Feed the live models' JSON to a process that refuses to import TensorFlow or Keras."""
    exported = {name: model_evidence(model) for name, model in zoo.items()}
    (tmp_path / "evidence.json").write_text(json.dumps(exported))
    script = textwrap.dedent(f"""
        import importlib.abc, json, sys
        class Refuse(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("tensorflow", "keras", "tf_keras", "jax", "torch"):
                    raise ImportError("refused: " + name)
        sys.meta_path.insert(0, Refuse())
        sys.path.insert(0, {str(ROOT / "tests")!r})
        import model_zoo
        from keras_course.describe import describe_evidence, describe_json
        from keras_course import expect
        evidence = json.load(open({str(tmp_path / "evidence.json")!r}))
        out = {{}}
        for entry in model_zoo.ZOO:
            ev = evidence[entry.name]
            d = describe_evidence(ev)
            assert describe_json(ev["json"], ev["compile"]) == d
            verdicts = model_zoo.contract_verdicts(d, entry.contract)
            out[entry.name] = {{"description": d, "verdicts": {{
                k: [v.passed, v.message] for k, v in verdicts.items()}}}}
        try:
            import keras
        except ImportError:
            pass
        else:
            raise SystemExit("keras was importable")
        assert not any(m.split(".")[0] in ("tensorflow", "keras") for m in sys.modules)
        print(json.dumps(out))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    for entry in model_zoo.ZOO:
        assert result[entry.name]["description"] == json.loads(json.dumps(described[entry.name]))
        here = model_zoo.contract_verdicts(described[entry.name], entry.contract)
        assert result[entry.name]["verdicts"] == {k: [v.passed, v.message] for k, v in here.items()}


def test_describe_accepts_descriptions_evidence_and_json(zoo: dict, described: dict) -> None:
    model = zoo["siam_nested_sequential"]
    description = described["siam_nested_sequential"]
    assert describe(description) is description
    assert describe(model_evidence(model)) == description
    assert describe(model.to_json()) == description


@pytest.mark.parametrize("value", [None, 3, "not json", "{\"a\": 1}", {"a": 1}, [1, 2],
                                   print])
def test_describe_refuses_what_is_not_a_model(value: Any) -> None:
    with pytest.raises(NotAModelError):
        describe(value)


def test_siamese_description_schema(described: dict) -> None:
    d = described["siam_nested_sequential"]
    assert set(d) == {"schema", "api", "class_name", "name", "built", "inputs", "outputs",
                      "layers", "edges", "shared", "params", "graph", "compile", "note"}
    assert d["api"] == "functional" and d["built"] and d["note"] is None
    assert d["inputs"] == [{"name": "left", "shape": [None, 10], "dtype": "float32"},
                           {"name": "right", "shape": [None, 10], "dtype": "float32"}]
    assert d["outputs"] == [{"name": "same", "layer": "same", "shape": [None, 1],
                             "activation": "sigmoid", "units": 1}]
    encoder = next(layer for layer in d["layers"] if layer["name"] == "encoder")
    assert encoder["calls"] == 2 and encoder["params"] == 352
    assert encoder["nested"]["api"] == "sequential"
    assert ["left", "encoder"] in d["edges"] and ["right", "encoder"] in d["edges"]
    assert "encoder" in d["shared"]
    assert d["params"] == model_zoo.SIAMESE_PARAMS
    # The nested encoder is expanded once per call in the normalised graph.
    dense_calls = [n for n in d["graph"]["nodes"]
                   if n["class_name"] == "Dense" and n["units"] == 32]
    assert [n["id"].split("/")[0] for n in dense_calls] == ["encoder#0", "encoder#1"]
    assert {n["layer"] for n in dense_calls} == {f"encoder/{dense_calls[0]['name']}"}


def test_unbuilt_sequential_is_described_without_inputs(described: dict) -> None:
    d = described["seq_unbuilt"]
    assert d["api"] == "sequential" and d["built"] is False and d["inputs"] == []
    assert d["outputs"][0]["shape"] is None and d["outputs"][0]["units"] == model_zoo.NUM_CLASSES
    assert d["params"] is None


def test_subclass_is_described_without_a_graph(described: dict) -> None:
    d = described["func_subclassed"]
    assert d["api"] == "subclass" and d["class_name"] == "MLP" and d["built"] is True
    assert d["graph"]["nodes"] == [] and d["layers"] == [] and "no static graph" in d["note"]


def test_equivalent_forms_have_the_same_normalised_chain(described: dict) -> None:
    from keras_course import graph

    def chain(name: str) -> list:
        d = described[name]
        g = graph.to_digraph(d)
        output = next(iter(d["graph"]["outputs"].values()))
        (path,) = graph.paths(g, graph.start_nodes(g, d), output)
        return [graph.signature(g.nodes[n]) for n in path]

    reference = chain("seq_list")
    for name in ("seq_add", "seq_activation_layers", "seq_relu_softmax_layers",
                 "seq_activation_functions", "seq_activation_layer_functions", "seq_tf_keras",
                 "seq_input_shape", "seq_build_call", "seq_dropout", "seq_named", "func_basic",
                 "func_activation_layers", "func_dropout", "func_dicts"):
        assert chain(name) == reference, name


def test_dropout_is_listed_but_transparent(described: dict) -> None:
    d = described["seq_dropout"]
    assert [layer["class_name"] for layer in d["layers"]].count("Dropout") == 2
    assert not any(n["class_name"] == "Dropout" for n in d["graph"]["nodes"])


def test_merges_from_ops_and_layers_look_the_same(described: dict) -> None:
    classes = {name: sorted(n["class_name"] for n in described[name]["graph"]["nodes"])
               for name in ("res_add_layer", "res_plus", "res_add_function")}
    assert classes["res_add_layer"] == classes["res_plus"] == classes["res_add_function"]


def test_unknown_layer_makes_the_count_unknown() -> None:
    keras = model_zoo.keras_module()
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3),
                              keras.layers.Lambda(lambda x: x * 2, name="double")])
    d = describe(model)
    assert d["params"] is None
    verdict = checks.check_params(d, 15)
    assert verdict.message == (
        "The parameter count of your model cannot be worked out from its configuration (layer "
        "`double` is of a kind the checks do not know). Use the layers the task names.")


def test_convolutions_and_normalisations_are_counted() -> None:
    keras = model_zoo.keras_module()
    inputs = keras.Input(shape=(8, 8, 3))
    x = keras.layers.BatchNormalization()(keras.layers.Conv2D(4, 3)(inputs))
    x = keras.layers.LayerNormalization()(keras.layers.Flatten()(x))
    model = keras.Model(inputs, keras.layers.Dense(2)(x))
    assert describe(model)["params"] == model.count_params()


def test_evidence_of_a_lambda_activation_stays_quiet(capfd: pytest.CaptureFixture) -> None:
    keras = model_zoo.keras_module()
    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation=lambda x: x)(inputs))
    evidence = model_evidence(model)
    assert capfd.readouterr().err == ""
    assert describe_evidence(evidence)["outputs"][0]["activation"] == "custom"


def test_compile_settings_are_normalised(described: dict) -> None:
    for name in ("compile_strings", "compile_objects", "compile_mixed"):
        settings = described[name]["compile"]
        assert settings["optimizer"] == "adam"
        assert normalise_loss(settings["loss"]) == "sparse_categorical_crossentropy"
    assert described["compile_mixed"]["compile"]["metrics"] == ["accuracy"]
    assert described["compile_objects"]["compile"]["metrics"] == ["sparse_categorical_accuracy"]
    keyed = described["ctv_keyed_objects"]["compile"]
    assert keyed["loss"] == model_zoo.TWO_VIEW_LOSSES
    assert keyed["metrics"] == {"digit": ["accuracy"], "parity": ["binary_accuracy"]}
    assert keyed["loss_weights"] == {"digit": 1.0, "parity": 0.5}
    assert described["ctv_list_of_losses"]["compile"]["loss"] == [
        "sparse_categorical_crossentropy", "binary_crossentropy"]
    assert described["seq_list"]["compile"] is None


@pytest.mark.parametrize(("given", "expected"), [
    ("relu", "relu"), ("ReLU", "relu"), (None, "linear"), ("softmax_v2", "softmax"),
    ({"module": "builtins", "class_name": "function", "config": "softmax_v2"}, "softmax"),
    ("swish", "silu"), ({"value": ["lambda code"]}, "custom"), ("keras.activations.tanh", "tanh"),
])
def test_normalise_activation(given: Any, expected: str) -> None:
    assert normalise_activation(given) == expected


@pytest.mark.parametrize(("given", "expected"), [
    ("mse", "mean_squared_error"), ("SparseCategoricalCrossentropy",
                                    "sparse_categorical_crossentropy"),
    ({"class_name": "BinaryCrossentropy", "config": {}}, "binary_crossentropy"),
    ({"class_name": "function", "config": "sparse_categorical_crossentropy"},
     "sparse_categorical_crossentropy"), ("acc", "accuracy"),
])
def test_normalise_loss(given: Any, expected: str) -> None:
    assert normalise_loss(given) == expected


@pytest.mark.parametrize(("given", "expected"), [
    ("Adam", "adam"), ("rmsprop", "rmsprop"), ({"class_name": "RMSprop", "config": {}},
                                               "rmsprop"),
    ({"class_name": "LossScaleOptimizer", "config": {"inner_optimizer": {"class_name": "SGD"}}},
     "sgd"),
])
def test_normalise_optimizer(given: Any, expected: str) -> None:
    assert normalise_optimizer(given) == expected


HOSTILE = [
    {"class_name": "Functional", "config": {"layers": "nope"}},
    {"class_name": "Functional", "config": {"layers": [{"class_name": "Dense"}],
                                            "input_layers": 7, "output_layers": {"x": 3}}},
    {"class_name": "Functional", "config": {  # a cycle between two layers
        "layers": [
            {"class_name": "Dense", "name": "a", "config": {"units": 2}, "inbound_nodes": [
                {"args": [{"class_name": "__keras_tensor__",
                           "config": {"shape": [None, 2], "keras_history": ["b", 0, 0]}}]}]},
            {"class_name": "Dense", "name": "b", "config": {"units": 2}, "inbound_nodes": [
                {"args": [{"class_name": "__keras_tensor__",
                           "config": {"shape": [None, 2], "keras_history": ["a", 0, 0]}}]}]}],
        "input_layers": [], "output_layers": [["a", 0, 0]]}},
    {"class_name": "Sequential", "config": {"layers": [None, 3, {"class_name": "Dense"}]}},
    {"class_name": "Sequential", "config": {"layers": [{"class_name": "Sequential", "config": {
        "layers": [{"class_name": "Sequential", "config": {"layers": []}}]}}]}},
]


@pytest.mark.parametrize("spec", HOSTILE)
def test_hostile_json_is_described_without_crashing(spec: dict) -> None:
    d = describe_json(json.dumps(spec))
    assert d["schema"] == SCHEMA
    json.dumps(d)
    for check in (checks.check_built, checks.check_merge,
                  lambda x: checks.check_chain(x, [("Dense", 2, None)])):
        assert isinstance(check(d), checks.Verdict)


def test_not_json_raises_a_course_error() -> None:
    with pytest.raises(CourseCheckError, match="not a Keras model's JSON"):
        describe_json("{not json")


def test_description_is_fast(zoo: dict) -> None:
    """Describing and checking one model: well under the time a test cell can spend."""
    model = zoo["siam_nested_sequential"]
    text = model.to_json()
    checks_to_run = model_zoo.CONTRACTS["build_siamese"].values()
    start = time.perf_counter()
    for _ in range(10):
        d = describe(model)
        for check in checks_to_run:
            check(d)
    live = (time.perf_counter() - start) / 10
    start = time.perf_counter()
    for _ in range(10):
        d = describe_json(text)
        for check in checks_to_run:
            check(d)
    from_json = (time.perf_counter() - start) / 10
    assert live < 0.5 and from_json < 0.1, (live, from_json)


# --------------------------------------------------------------------------- the grader's rebuild


def _guide_autoencoder(k: Any) -> Any:
    """The Keras Functional API guide's autoencoder: an encoder model, then a decoder model."""
    encoder_input = k.Input(shape=(28, 28, 1), name="original_img")
    x = k.layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = k.layers.Conv2D(32, 3, activation="relu")(x)
    x = k.layers.MaxPooling2D(3)(x)
    x = k.layers.Conv2D(32, 3, activation="relu")(x)
    x = k.layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = k.layers.GlobalMaxPooling2D()(x)
    encoder = k.Model(encoder_input, encoder_output, name="encoder")
    decoder_input = k.Input(shape=(16,), name="encoded_img")
    x = k.layers.Reshape((4, 4, 1))(decoder_input)
    x = k.layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = k.layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = k.layers.UpSampling2D(3)(x)
    x = k.layers.Conv2DTranspose(16, 3, activation="relu")(x)
    decoder_output = k.layers.Conv2DTranspose(1, 3, activation="relu")(x)
    decoder = k.Model(decoder_input, decoder_output, name="decoder")
    autoencoder_input = k.Input(shape=(28, 28, 1), name="img")
    return k.Model(autoencoder_input, decoder(encoder(autoencoder_input)), name="autoencoder")


def _guide_tickets(k: Any) -> Any:
    """The guide's multi-input, multi-output model: embeddings, LSTMs, a merge, two heads."""
    title = k.Input(shape=(None,), name="title")
    body = k.Input(shape=(None,), name="body")
    tags = k.Input(shape=(12,), name="tags")
    title_features = k.layers.LSTM(128)(k.layers.Embedding(10000, 64)(title))
    body_features = k.layers.LSTM(32)(k.layers.Embedding(10000, 64)(body))
    x = k.layers.concatenate([title_features, body_features, tags])
    priority = k.layers.Dense(1, name="priority")(x)
    department = k.layers.Dense(4, name="department")(x)
    return k.Model(inputs=[title, body, tags], outputs={"priority": priority,
                                                        "department": department})


def _guide_toy_resnet(k: Any) -> Any:
    """The guide's toy ResNet: convolutions, pooling, two `add` skips, dropout."""
    inputs = k.Input(shape=(32, 32, 3), name="img")
    x = k.layers.Conv2D(32, 3, activation="relu")(inputs)
    x = k.layers.Conv2D(64, 3, activation="relu")(x)
    block_1_output = k.layers.MaxPooling2D(3)(x)
    x = k.layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
    x = k.layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2_output = k.layers.add([x, block_1_output])
    x = k.layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
    x = k.layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_3_output = k.layers.add([x, block_2_output])
    x = k.layers.Conv2D(64, 3, activation="relu")(block_3_output)
    x = k.layers.GlobalAveragePooling2D()(x)
    x = k.layers.Dense(256, activation="relu")(x)
    x = k.layers.Dropout(0.5)(x)
    return k.Model(inputs, k.layers.Dense(10)(x), name="toy_resnet")


@pytest.mark.parametrize("build", [_guide_autoencoder, _guide_tickets, _guide_toy_resnet])
def test_rebuilt_description_counts_and_shapes_like_keras(build: Any) -> None:
    """Architectures from the Keras Functional API guide: the grader's description of its
    rebuild has Keras's own parameter counts and output shapes, and every output."""
    from keras_course.grading.rebuild import describe_recorded

    model = build(model_zoo.keras_module())
    description = describe_recorded(model_evidence(model))
    assert description.get("rebuilt") and "error" not in description["behaviour"]
    assert description["params"] == model.count_params()
    assert [o["shape"] for o in description["outputs"]] == [list(t.shape) for t in model.outputs]
    assert [i["shape"] for i in description["inputs"]] == [list(t.shape) for t in model.inputs]
    for entry in description["layers"]:
        assert entry["params"] == model.get_layer(entry["name"]).count_params()
    moves = description["behaviour"]["moves"]
    assert all(set(moves[o["name"]]) == {i["name"] for i in description["inputs"]}
               for o in description["outputs"])


def test_rebuilt_skips_carry_in_the_toy_resnet() -> None:
    from keras_course.grading.rebuild import describe_recorded

    description = describe_recorded(model_evidence(_guide_toy_resnet(model_zoo.keras_module())))
    assert checks.check_skip(description, 2).passed
    assert all(skip["carries"] for skip in description["behaviour"]["skips"])


def test_workers_share_one_rebuild_service_and_get_the_same_descriptions() -> None:
    """`make grade`'s workers ask one rebuild service (Keras imported once a run, not once a
    worker): each worker's connection gets the description a service of its own gives, a
    worker that leaves does not stop the others, and once the shared service is gone a worker
    starts a service of its own."""
    from keras_course.grading import rebuild

    text = model_evidence(_guide_toy_resnet(model_zoo.keras_module()))["json"]
    expected = rebuild.service().rebuild(text)
    assert expected["ok"]
    shared = rebuild.SharedRebuildService()
    first, second = rebuild.RebuildService(shared.path), rebuild.RebuildService(shared.path)
    late = rebuild.RebuildService(shared.path)
    try:
        assert first.rebuild(text)["description"] == expected["description"]
        first.stop()
        assert second.rebuild(text)["description"] == expected["description"]
        assert first.proc is None and second.proc is None  # neither imported Keras itself
        shared.stop()
        assert late.rebuild(text)["description"] == expected["description"]
        assert late.proc is not None and not late.shared  # a service of its own
    finally:
        for client in (first, second, late):
            client.stop()
        shared.stop()
