"""A zoo of small models: equivalent forms and single mutations of every contract model.

Each entry names the contract it answers, how to build it, and which of that contract's checks
it must fail (all others must pass). Equivalent forms fail none. Models are never trained.
"""
from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from keras_course import checks
from keras_course.coursedir import quiet_tf

quiet_tf(os.environ)  # before anything imports TensorFlow

# Sizes the zoo uses for every contract.
INPUT_DIM, NUM_CLASSES = 20, 3
SIAMESE_DIM = 10
VIEW_DIM, DIGITS = 32, 10

SEQ_LAYERS = [("Dense", 64, "relu"), ("Dense", 32, "relu"), ("Dense", NUM_CLASSES, "softmax")]
SEQ_PARAMS = (INPUT_DIM * 64 + 64) + (64 * 32 + 32) + (32 * NUM_CLASSES + NUM_CLASSES)
RES_LAYERS = [("Dense", 64, "relu")] * 3 + [("Add",), ("Dense", NUM_CLASSES, "softmax")]
RES_PARAMS = (INPUT_DIM * 64 + 64) + 2 * (64 * 64 + 64) + (64 * NUM_CLASSES + NUM_CLASSES)
SIAMESE_PARAMS = (SIAMESE_DIM * 32 + 32) + (64 + 1)
TWO_VIEW_LOSSES = {"digit": "sparse_categorical_crossentropy", "parity": "binary_crossentropy"}
TWO_VIEW_METRICS = {"digit": ["accuracy"], "parity": ["accuracy"]}

Check = Callable[[dict], checks.Verdict]

_SEQUENTIAL_CHECKS: dict[str, Check] = {
    "api": lambda d: checks.check_api(d, "sequential"),
    "built": checks.check_built,
    "inputs": lambda d: checks.check_inputs(d, [(None, INPUT_DIM)]),
    "outputs": lambda d: checks.check_outputs(
        d, [{"shape": (None, NUM_CLASSES), "activation": "softmax"}]),
    "chain": lambda d: checks.check_chain(d, SEQ_LAYERS),
    "params": lambda d: checks.check_params(d, SEQ_PARAMS),
}

_TWO_VIEW_CHECKS: dict[str, Check] = {
    "api": lambda d: checks.check_api(d, "functional"),
    "built": checks.check_built,
    "inputs": lambda d: checks.check_inputs(
        d, {"top": (None, VIEW_DIM), "bottom": (None, VIEW_DIM)}),
    "outputs": lambda d: checks.check_outputs(d, {
        "digit": {"shape": (None, DIGITS), "activation": "softmax"},
        "parity": {"shape": (None, 1), "activation": "sigmoid"}}),
    "depends_digit": lambda d: checks.check_depends(d, "digit", ["top", "bottom"]),
    "depends_parity": lambda d: checks.check_depends(d, "parity", ["top", "bottom"]),
    "merge": checks.check_merge,
}

#: Contract -> check name -> check of a description.
CONTRACTS: dict[str, dict[str, Check]] = {
    "build_sequential": _SEQUENTIAL_CHECKS,
    "compile_classifier": {
        **_SEQUENTIAL_CHECKS,
        "optimizer": lambda d: checks.check_compiled(d, optimizer="adam"),
        "loss": lambda d: checks.check_compiled(d, loss="sparse_categorical_crossentropy"),
        "metrics": lambda d: checks.check_compiled(d, metrics=["accuracy"]),
    },
    "build_functional": {**_SEQUENTIAL_CHECKS,
                         "api": lambda d: checks.check_api(d, "functional")},
    "build_residual": {
        "api": lambda d: checks.check_api(d, "functional"),
        "built": checks.check_built,
        "inputs": lambda d: checks.check_inputs(d, [(None, INPUT_DIM)]),
        "outputs": lambda d: checks.check_outputs(
            d, [{"shape": (None, NUM_CLASSES), "activation": "softmax"}]),
        "chain": lambda d: checks.check_chain(d, RES_LAYERS),
        "merge": checks.check_merge,
        "skip": lambda d: checks.check_skip(d, 2),
        "params": lambda d: checks.check_params(d, RES_PARAMS),
    },
    "build_siamese": {
        "api": lambda d: checks.check_api(d, "functional"),
        "built": checks.check_built,
        "inputs": lambda d: checks.check_inputs(
            d, {"left": (None, SIAMESE_DIM), "right": (None, SIAMESE_DIM)}),
        "outputs": lambda d: checks.check_outputs(
            d, {"same": {"shape": (None, 1), "activation": "sigmoid"}}),
        "chain": lambda d: checks.check_chain(
            d, [("Dense", 32, "relu"), ("Concatenate",), ("Dense", 1, "sigmoid")]),
        "shared": lambda d: checks.check_shared(d, ["left", "right"], 32, "relu"),
        "merge": checks.check_merge,
        "depends": lambda d: checks.check_depends(d, "same", ["left", "right"]),
        "params": lambda d: checks.check_params(d, SIAMESE_PARAMS),
    },
    "build_two_view": _TWO_VIEW_CHECKS,
    "compile_two_view": {
        **_TWO_VIEW_CHECKS,
        "keyed_losses": lambda d: checks.check_compiled_by_name(d, TWO_VIEW_LOSSES),
        "keyed_metrics": lambda d: checks.check_compiled_by_name(d, {}, metrics=TWO_VIEW_METRICS),
    },
}


@dataclass(frozen=True)
class Entry:
    """One zoo model: its contract, its builder, and the contract checks it must fail."""

    name: str
    contract: str
    build: Callable[[], Any]
    fails: frozenset[str] = field(default_factory=frozenset)
    note: str = ""
    #: What it fails when the grader decides on its own rebuild (rebuild.py): the graph checks
    #: a model Keras cannot rebuild, and the checks its behaviour breaks. None: as `fails`.
    rebuilt_fails: frozenset[str] | None = None

    @property
    def grader_fails(self) -> frozenset[str]:
        return self.fails if self.rebuilt_fails is None else self.rebuilt_fails


ZOO: list[Entry] = []


def entry(contract: str, fails: tuple[str, ...] = (), note: str = "",
          rebuilt_fails: tuple[str, ...] | None = None) -> Callable:
    """Register a builder in the zoo under its function name."""
    def register(build: Callable[[], Any]) -> Callable[[], Any]:
        unknown = (set(fails) | set(rebuilt_fails or ())) - set(CONTRACTS[contract])
        assert not unknown, f"{build.__name__}: no such checks {unknown}"
        ZOO.append(Entry(build.__name__, contract, build, frozenset(fails), note,
                         None if rebuilt_fails is None else frozenset(rebuilt_fails)))
        return build
    return register


@functools.cache
def keras_module() -> Any:
    import keras

    return keras


@functools.cache
def tf_keras() -> Any:
    import tensorflow as tf

    return tf.keras


def tf() -> Any:
    import tensorflow

    return tensorflow


# --------------------------------------------------------------------------- build_sequential


def _sequential(k: Any, input_dim: int = INPUT_DIM, units: tuple = (64, 32),
                activations: tuple = ("relu", "relu"), out: str = "softmax",
                with_input: bool = True) -> Any:
    layers = [k.layers.Dense(u, activation=a) for u, a in zip(units, activations)]
    layers.append(k.layers.Dense(NUM_CLASSES, activation=out))
    return k.Sequential(([k.Input(shape=(input_dim,))] if with_input else []) + layers)


@entry("build_sequential")
def seq_list() -> Any:
    return _sequential(keras_module())


@entry("build_sequential")
def seq_add() -> Any:
    k = keras_module()
    model = k.Sequential()
    model.add(k.Input(shape=(INPUT_DIM,)))
    model.add(k.layers.Dense(64, activation="relu"))
    model.add(k.layers.Dense(32, activation="relu"))
    model.add(k.layers.Dense(NUM_CLASSES, activation="softmax"))
    return model


@entry("build_sequential", note="a zero initialiser on a trainable layer: it learns")
def seq_zero_initialiser() -> Any:
    k = keras_module()
    return k.Sequential([
        k.Input(shape=(INPUT_DIM,)),
        k.layers.Dense(64, activation="relu", kernel_initializer="zeros"),
        k.layers.Dense(32, activation="relu"),
        k.layers.Dense(NUM_CLASSES, activation="softmax")])


@entry("build_sequential", note="a frozen first layer with its usual random start")
def seq_frozen_random_layer() -> Any:
    k = keras_module()
    return k.Sequential([
        k.Input(shape=(INPUT_DIM,)), k.layers.Dense(64, activation="relu", trainable=False),
        k.layers.Dense(32, activation="relu"),
        k.layers.Dense(NUM_CLASSES, activation="softmax")])


@entry("build_sequential", fails=("chain",),
       note="Dropout(1.0) between the layers: nothing gets through in training")
def seq_dropout_rate_one() -> Any:
    k = keras_module()
    return k.Sequential([
        k.Input(shape=(INPUT_DIM,)), k.layers.Dense(64, activation="relu"),
        k.layers.Dropout(1.0), k.layers.Dense(32, activation="relu"),
        k.layers.Dense(NUM_CLASSES, activation="softmax")])


@entry("build_sequential", rebuilt_fails=("chain",),
       note="the first layer frozen at zero: the output ignores the input")
def seq_frozen_zero_layer() -> Any:
    k = keras_module()
    return k.Sequential([
        k.Input(shape=(INPUT_DIM,)),
        k.layers.Dense(64, activation="relu", kernel_initializer="zeros",
                       bias_initializer="zeros", trainable=False),
        k.layers.Dense(32, activation="relu"),
        k.layers.Dense(NUM_CLASSES, activation="softmax")])


@entry("build_sequential", rebuilt_fails=("chain",),
       note="MaxNorm(0) constraints: the first training step zeroes the layer")
def seq_zero_norm_constraint() -> Any:
    k = keras_module()
    zero = k.constraints.MaxNorm(0.0)
    return k.Sequential([
        k.Input(shape=(INPUT_DIM,)),
        k.layers.Dense(64, activation="relu", kernel_constraint=zero, bias_constraint=zero),
        k.layers.Dense(32, activation="relu"),
        k.layers.Dense(NUM_CLASSES, activation="softmax")])


@entry("build_sequential", note="Dense(n) followed by Activation(name)")
def seq_activation_layers() -> Any:
    k = keras_module()
    return k.Sequential([
        k.Input(shape=(INPUT_DIM,)), k.layers.Dense(64), k.layers.Activation("relu"),
        k.layers.Dense(32), k.layers.Activation("relu"),
        k.layers.Dense(NUM_CLASSES), k.layers.Activation("softmax")])


@entry("build_sequential", note="ReLU() and Softmax() layers")
def seq_relu_softmax_layers() -> Any:
    k = keras_module()
    return k.Sequential([
        k.Input(shape=(INPUT_DIM,)), k.layers.Dense(64), k.layers.ReLU(),
        k.layers.Dense(32), k.layers.ReLU(), k.layers.Dense(NUM_CLASSES), k.layers.Softmax()])


@entry("build_sequential", note="activations given as functions (tf.nn, keras.activations)")
def seq_activation_functions() -> Any:
    k = keras_module()
    return k.Sequential([
        k.Input(shape=(INPUT_DIM,)), k.layers.Dense(64, activation=tf().nn.relu),
        k.layers.Dense(32, activation=k.activations.relu),
        k.layers.Dense(NUM_CLASSES, activation=tf().nn.softmax)])


@entry("build_sequential", note="Activation layers given functions")
def seq_activation_layer_functions() -> Any:
    k = keras_module()
    return k.Sequential([
        k.Input(shape=(INPUT_DIM,)), k.layers.Dense(64), k.layers.Activation(k.activations.relu),
        k.layers.Dense(32), k.layers.Activation(tf().nn.relu),
        k.layers.Dense(NUM_CLASSES), k.layers.Activation(tf().nn.softmax)])


@entry("build_sequential", note="tf.keras")
def seq_tf_keras() -> Any:
    return _sequential(tf_keras())


@entry("build_sequential", note="input_shape= on the first layer (warns)")
def seq_input_shape() -> Any:
    k = keras_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return k.Sequential([
            k.layers.Dense(64, activation="relu", input_shape=(INPUT_DIM,)),
            k.layers.Dense(32, activation="relu"),
            k.layers.Dense(NUM_CLASSES, activation="softmax")])


@entry("build_sequential", note="no Input, then model.build((None, input_dim))")
def seq_build_call() -> Any:
    model = _sequential(keras_module(), with_input=False)
    model.build((None, INPUT_DIM))
    return model


@entry("build_sequential", note="no Input, built by calling it on a batch of one")
def seq_called_on_data() -> Any:
    k = keras_module()
    model = _sequential(k, with_input=False)
    model(k.ops.zeros((1, INPUT_DIM)))
    return model


@entry("build_sequential", note="Dropout between layers is transparent")
def seq_dropout() -> Any:
    k = keras_module()
    return k.Sequential([
        k.Input(shape=(INPUT_DIM,)), k.layers.Dense(64, activation="relu"),
        k.layers.Dropout(0.2), k.layers.Dense(32, activation="relu"), k.layers.Dropout(0.2),
        k.layers.Dense(NUM_CLASSES, activation="softmax")])


@entry("build_sequential", note="any layer names")
def seq_named() -> Any:
    k = keras_module()
    return k.Sequential([
        k.Input(shape=(INPUT_DIM,), name="features"),
        k.layers.Dense(64, activation="relu", name="hidden_1"),
        k.layers.Dense(32, activation="relu", name="hidden_2"),
        k.layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")], name="mlp")


@entry("build_sequential", fails=("chain", "params"))
def seq_wrong_units() -> Any:
    return _sequential(keras_module(), units=(128, 32))


@entry("build_sequential", fails=("chain",))
def seq_wrong_activation() -> Any:
    return _sequential(keras_module(), activations=("relu", "tanh"))


@entry("build_sequential", fails=("chain", "params"))
def seq_missing_layer() -> Any:
    return _sequential(keras_module(), units=(64,), activations=("relu",))


@entry("build_sequential", fails=("chain", "params"))
def seq_extra_layer() -> Any:
    return _sequential(keras_module(), units=(64, 32, 16), activations=("relu",) * 3)


@entry("build_sequential", fails=("chain", "outputs"))
def seq_no_softmax() -> Any:
    return _sequential(keras_module(), out="linear")


@entry("build_sequential", fails=("inputs", "params"))
def seq_wrong_input_shape() -> Any:
    return _sequential(keras_module(), input_dim=10)


@entry("build_sequential", fails=("built", "inputs", "params"),
       note="no keras.Input: the layers are right, the model has no inputs yet")
def seq_unbuilt() -> Any:
    return _sequential(keras_module(), with_input=False)


@entry("build_sequential", fails=("api",))
def seq_as_functional() -> Any:
    return func_basic()


# --------------------------------------------------------------------------- compile_classifier


def _compiled(**kwargs: Any) -> Any:
    model = _sequential(keras_module())
    model.compile(**kwargs)
    return model


@entry("compile_classifier")
def compile_strings() -> Any:
    return _compiled(optimizer="adam", loss="sparse_categorical_crossentropy",
                     metrics=["accuracy"])


@entry("compile_classifier")
def compile_objects() -> Any:
    k = keras_module()
    return _compiled(optimizer=k.optimizers.Adam(learning_rate=1e-3),
                     loss=k.losses.SparseCategoricalCrossentropy(),
                     metrics=[k.metrics.SparseCategoricalAccuracy()])


@entry("compile_classifier", note='"Adam", a loss function, "acc"')
def compile_mixed() -> Any:
    k = keras_module()
    return _compiled(optimizer="Adam", loss=k.losses.sparse_categorical_crossentropy,
                     metrics=["acc"])


@entry("compile_classifier")
def compile_tf_keras() -> Any:
    k = tf_keras()
    model = _sequential(k)
    model.compile(optimizer=k.optimizers.Adam(), loss="sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy"])
    return model


@entry("compile_classifier", fails=("optimizer",))
def compile_sgd() -> Any:
    return _compiled(optimizer="sgd", loss="sparse_categorical_crossentropy",
                     metrics=["accuracy"])


@entry("compile_classifier", fails=("loss",))
def compile_wrong_loss() -> Any:
    return _compiled(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])


@entry("compile_classifier", fails=("metrics",))
def compile_no_accuracy() -> Any:
    return _compiled(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["mae"])


@entry("compile_classifier", fails=("metrics",))
def compile_no_metrics() -> Any:
    return _compiled(optimizer="adam", loss="sparse_categorical_crossentropy")


@entry("compile_classifier", fails=("optimizer", "loss", "metrics"))
def compile_not_compiled() -> Any:
    return _sequential(keras_module())


# --------------------------------------------------------------------------- build_functional


def _functional(k: Any, input_dim: int = INPUT_DIM, units: tuple = (64, 32),
                activations: tuple = ("relu", "relu"), out: str = "softmax") -> Any:
    inputs = k.Input(shape=(input_dim,))
    x = inputs
    for u, a in zip(units, activations):
        x = k.layers.Dense(u, activation=a)(x)
    outputs = k.layers.Dense(NUM_CLASSES, activation=out)(x)
    return k.Model(inputs, outputs)


@entry("build_functional")
def func_basic() -> Any:
    return _functional(keras_module())


@entry("build_functional", note="inputs and outputs passed as lists")
def func_lists() -> Any:
    k = keras_module()
    inputs = k.Input(shape=(INPUT_DIM,), name="features")
    x = k.layers.Dense(64, activation="relu")(inputs)
    x = k.layers.Dense(32, activation="relu")(x)
    outputs = k.layers.Dense(NUM_CLASSES, activation="softmax", name="label")(x)
    return k.Model(inputs=[inputs], outputs=[outputs])


@entry("build_functional", note="inputs and outputs passed as dicts")
def func_dicts() -> Any:
    k = keras_module()
    inputs = k.Input(shape=(INPUT_DIM,), name="features")
    x = k.layers.Dense(64, activation="relu")(inputs)
    x = k.layers.Dense(32, activation="relu")(x)
    outputs = k.layers.Dense(NUM_CLASSES, activation="softmax")(x)
    return k.Model({"features": inputs}, {"label": outputs})


@entry("build_functional", note="separate activation layers")
def func_activation_layers() -> Any:
    k = keras_module()
    inputs = k.Input(shape=(INPUT_DIM,))
    x = k.layers.ReLU()(k.layers.Dense(64)(inputs))
    x = k.layers.Activation(tf().nn.relu)(k.layers.Dense(32)(x))
    outputs = k.layers.Softmax()(k.layers.Dense(NUM_CLASSES)(x))
    return k.Model(inputs, outputs)


@entry("build_functional")
def func_tf_keras() -> Any:
    return _functional(tf_keras())


@entry("build_functional", note="Dropout after each hidden layer")
def func_dropout() -> Any:
    k = keras_module()
    inputs = k.Input(shape=(INPUT_DIM,))
    x = k.layers.Dropout(0.3)(k.layers.Dense(64, activation="relu")(inputs))
    x = k.layers.Dropout(0.3)(k.layers.Dense(32, activation="relu")(x))
    outputs = k.layers.Dense(NUM_CLASSES, activation="softmax")(x)
    return k.Model(inputs, outputs)


@entry("build_functional", fails=("api",))
def func_as_sequential() -> Any:
    return _sequential(keras_module())


@entry("build_functional", fails=("chain", "params"))
def func_wrong_units() -> Any:
    return _functional(keras_module(), units=(64, 16))


@entry("build_functional", fails=("chain",))
def func_wrong_activation() -> Any:
    return _functional(keras_module(), activations=("sigmoid", "relu"))


@entry("build_functional", fails=("chain", "params"))
def func_extra_layer() -> Any:
    return _functional(keras_module(), units=(64, 64, 32), activations=("relu",) * 3)


@entry("build_functional", fails=("inputs", "params"))
def func_wrong_input_shape() -> Any:
    return _functional(keras_module(), input_dim=INPUT_DIM + 1)


def _subclass_model(k: Any, call_it: bool = True) -> Any:
    class MLP(k.Model):
        def __init__(self) -> None:
            super().__init__()
            self.hidden_1 = k.layers.Dense(64, activation="relu")
            self.hidden_2 = k.layers.Dense(32, activation="relu")
            self.out = k.layers.Dense(NUM_CLASSES, activation="softmax")

        def call(self, x: Any) -> Any:
            return self.out(self.hidden_2(self.hidden_1(x)))

    model = MLP()
    if call_it:
        model(k.ops.zeros((1, INPUT_DIM)))
    return model


@entry("build_functional", fails=("api", "inputs", "outputs", "chain", "params"),
       note="a subclass has no static graph: only `built` can be read",
       rebuilt_fails=("api", "built", "inputs", "outputs", "chain", "params"))
def func_subclassed() -> Any:
    return _subclass_model(keras_module())


# --------------------------------------------------------------------------- build_residual


def _residual(k: Any, block: int = 2, merge: str = "layer", out: str = "softmax") -> Any:
    inputs = k.Input(shape=(INPUT_DIM,))
    h = k.layers.Dense(64, activation="relu")(inputs)
    y = h
    for _ in range(block):
        y = k.layers.Dense(64, activation="relu")(y)
    if merge == "layer":
        z = k.layers.Add()([h, y])
    elif merge == "plus":
        z = h + y
    elif merge == "function":
        z = k.layers.add([y, h])
    else:
        z = y
    outputs = k.layers.Dense(NUM_CLASSES, activation=out)(z)
    return k.Model(inputs, outputs)


@entry("build_residual")
def res_add_layer() -> Any:
    return _residual(keras_module())


@entry("build_residual", note="h + y becomes an Add operation")
def res_plus() -> Any:
    return _residual(keras_module(), merge="plus")


@entry("build_residual", note="layers.add([y, h]), operands reversed")
def res_add_function() -> Any:
    return _residual(keras_module(), merge="function")


@entry("build_residual", note="Dense(64) + ReLU() inside the block")
def res_relu_layers() -> Any:
    k = keras_module()
    inputs = k.Input(shape=(INPUT_DIM,))
    h = k.layers.ReLU()(k.layers.Dense(64)(inputs))
    y = k.layers.ReLU()(k.layers.Dense(64)(h))
    y = k.layers.Activation("relu")(k.layers.Dense(64)(y))
    outputs = k.layers.Dense(NUM_CLASSES, activation="softmax")(y + h)
    return k.Model(inputs, outputs)


@entry("build_residual")
def res_tf_keras() -> Any:
    return _residual(tf_keras(), merge="plus")


@entry("build_residual", fails=("skip", "merge", "chain"),
       note="no Add: the block output goes straight on (same parameter count)")
def res_no_skip() -> Any:
    return _residual(keras_module(), merge="none")


@entry("build_residual", fails=("skip", "chain", "params"))
def res_skip_one_layer() -> Any:
    return _residual(keras_module(), block=1)


@entry("build_residual", fails=("outputs", "chain"))
def res_sigmoid_output() -> Any:
    return _residual(keras_module(), out="sigmoid")


@entry("build_residual", note="keras.ops.add(h, y) and keras.ops.relu after a linear Dense")
def res_ops() -> Any:
    k = keras_module()
    inputs = k.Input(shape=(INPUT_DIM,))
    h = k.ops.relu(k.layers.Dense(64)(inputs))
    y = k.layers.Dense(64, activation="relu")(h)
    y = k.ops.relu(k.layers.Dense(64)(y))
    outputs = k.layers.Dense(NUM_CLASSES, activation="softmax")(k.ops.add(h, y))
    return k.Model(inputs, outputs)


@entry("build_residual", note="an honest student's zero initialiser inside the block")
def res_zero_initialised_block() -> Any:
    k = keras_module()
    inputs = k.Input(shape=(INPUT_DIM,))
    h = k.layers.Dense(64, activation="relu")(inputs)
    y = k.layers.Dense(64, activation="relu", kernel_initializer="zeros")(h)
    y = k.layers.Dense(64, activation="relu", kernel_initializer="zeros")(y)
    outputs = k.layers.Dense(NUM_CLASSES, activation="softmax")(k.layers.Add()([h, y]))
    return k.Model(inputs, outputs)


@entry("build_residual", fails=("chain",), rebuilt_fails=("chain", "skip"),
       note="h + y - h: the edges of a skip, but nothing of h reaches the output")
def res_skip_cancelled() -> Any:
    k = keras_module()
    inputs = k.Input(shape=(INPUT_DIM,))
    h = k.layers.Dense(64, activation="relu")(inputs)
    y = k.layers.Dense(64, activation="relu")(k.layers.Dense(64, activation="relu")(h))
    z = k.ops.subtract(k.layers.Add()([h, y]), h)
    return k.Model(inputs, k.layers.Dense(NUM_CLASSES, activation="softmax")(z))


@entry("build_residual", fails=("api",),
       note="a Sequential whose first layer is a nested Functional residual block")
def res_block_in_sequential() -> Any:
    k = keras_module()
    inputs = k.Input(shape=(INPUT_DIM,))
    h = k.layers.Dense(64, activation="relu")(inputs)
    y = k.layers.Dense(64, activation="relu")(k.layers.Dense(64, activation="relu")(h))
    block = k.Model(inputs, k.layers.Add()([h, y]), name="block")
    return k.Sequential([k.Input(shape=(INPUT_DIM,)), block,
                         k.layers.Dense(NUM_CLASSES, activation="softmax")])


# --------------------------------------------------------------------------- build_siamese


def _siamese(k: Any, encoder: Any, order: str = "lr", merge: str = "concat",
             dicts: bool = False) -> Any:
    left = k.Input(shape=(SIAMESE_DIM,), name="left")
    right = k.Input(shape=(SIAMESE_DIM,), name="right")
    a, b = encoder(left), encoder(right)
    if merge == "concat":
        x = k.layers.Concatenate()([a, b] if order == "lr" else [b, a])
    elif merge == "function":
        x = k.layers.concatenate([a, b])
    else:
        x = k.layers.Add()([a, b])
    if dicts:
        out = k.layers.Dense(1, activation="sigmoid")(x)
        return k.Model({"left": left, "right": right}, {"same": out})
    out = k.layers.Dense(1, activation="sigmoid", name="same")(x)
    return k.Model([left, right] if order == "lr" else [right, left], out)


@entry("build_siamese")
def siam_shared_dense() -> Any:
    k = keras_module()
    return _siamese(k, k.layers.Dense(32, activation="relu"))


@entry("build_siamese", rebuilt_fails=("shared", "depends"),
       note="the shared encoder reads `keras.ops.multiply(right, 0.0)`: right counts for nothing")
def siam_right_times_zero() -> Any:
    k = keras_module()
    encoder = k.layers.Dense(32, activation="relu")
    left = k.Input(shape=(SIAMESE_DIM,), name="left")
    right = k.Input(shape=(SIAMESE_DIM,), name="right")
    x = k.layers.Concatenate()([encoder(left), encoder(k.ops.multiply(right, 0.0))])
    return k.Model([left, right], k.layers.Dense(1, activation="sigmoid", name="same")(x))


@entry("build_siamese", note="a nested Sequential (with Input) as the shared encoder")
def siam_nested_sequential() -> Any:
    k = keras_module()
    encoder = k.Sequential([k.Input(shape=(SIAMESE_DIM,)), k.layers.Dense(32, activation="relu")],
                           name="encoder")
    return _siamese(k, encoder)


@entry("build_siamese", note="a nested Sequential without Input, Dense + ReLU()")
def siam_nested_sequential_unbuilt() -> Any:
    k = keras_module()
    return _siamese(k, k.Sequential([k.layers.Dense(32), k.layers.ReLU()]))


@entry("build_siamese", note="a nested Functional encoder")
def siam_nested_functional() -> Any:
    k = keras_module()
    inputs = k.Input(shape=(SIAMESE_DIM,))
    encoder = k.Model(inputs, k.layers.Dense(32, activation="relu")(inputs), name="encoder")
    return _siamese(k, encoder, merge="function")


@entry("build_siamese", note="dict inputs and outputs, output named by its key")
def siam_dicts() -> Any:
    k = keras_module()
    return _siamese(k, k.layers.Dense(32, activation="relu"), dicts=True)


@entry("build_siamese", note="inputs listed right first, encodings concatenated right first")
def siam_reversed() -> Any:
    k = keras_module()
    return _siamese(k, k.layers.Dense(32, activation="relu"), order="rl")


@entry("build_siamese", note="shared Dense(32), a separate activation layer per branch")
def siam_separate_activations() -> Any:
    k = keras_module()
    dense = k.layers.Dense(32)
    return _siamese(k, lambda x: k.layers.ReLU()(dense(x)))


@entry("build_siamese")
def siam_tf_keras() -> Any:
    k = tf_keras()
    return _siamese(k, k.layers.Dense(32, activation="relu"))


@entry("build_siamese", fails=("shared", "params"), note="two separate Dense(32) encoders")
def siam_unshared() -> Any:
    k = keras_module()
    encoders = iter([k.layers.Dense(32, activation="relu"), k.layers.Dense(32, activation="relu")])
    return _siamese(k, lambda x: next(encoders)(x))


@entry("build_siamese", fails=("shared", "params", "chain"))
def siam_wrong_width() -> Any:
    k = keras_module()
    return _siamese(k, k.layers.Dense(16, activation="relu"))


@entry("build_siamese", fails=("shared", "chain"))
def siam_wrong_activation() -> Any:
    k = keras_module()
    return _siamese(k, k.layers.Dense(32, activation="tanh"))


@entry("build_siamese", fails=("chain", "params"), note="Add instead of Concatenate")
def siam_added() -> Any:
    k = keras_module()
    return _siamese(k, k.layers.Dense(32, activation="relu"), merge="add")


@entry("build_siamese", fails=("outputs",),
       note="output named `output`: only the names check fails (single output)")
def siam_wrong_output_name() -> Any:
    k = keras_module()
    left = k.Input(shape=(SIAMESE_DIM,), name="left")
    right = k.Input(shape=(SIAMESE_DIM,), name="right")
    encoder = k.layers.Dense(32, activation="relu")
    x = k.layers.concatenate([encoder(left), encoder(right)])
    return k.Model([left, right], k.layers.Dense(1, activation="sigmoid", name="output")(x))


@entry("build_siamese", fails=("shared", "merge", "depends", "params", "chain"),
       note="`right` is an input nothing uses")
def siam_unused_input() -> Any:
    k = keras_module()
    left = k.Input(shape=(SIAMESE_DIM,), name="left")
    right = k.Input(shape=(SIAMESE_DIM,), name="right")
    x = k.layers.Dense(32, activation="relu")(left)
    return k.Model([left, right], k.layers.Dense(1, activation="sigmoid", name="same")(x))


@entry("build_siamese", fails=("inputs", "params"), note="a fixed width 12 for both inputs")
def siam_wrong_input_shape() -> Any:
    k = keras_module()
    left = k.Input(shape=(SIAMESE_DIM + 2,), name="left")
    right = k.Input(shape=(SIAMESE_DIM + 2,), name="right")
    encoder = k.layers.Dense(32, activation="relu")
    x = k.layers.concatenate([encoder(left), encoder(right)])
    return k.Model([left, right], k.layers.Dense(1, activation="sigmoid", name="same")(x))


# --------------------------------------------------------------------------- build_two_view


def _views(k: Any, top_dim: int = VIEW_DIM, bottom_dim: int = VIEW_DIM) -> tuple[Any, Any]:
    return (k.Input(shape=(top_dim,), name="top"), k.Input(shape=(bottom_dim,), name="bottom"))


def _heads(k: Any, x: Any, digit: str = "digit", parity: str = "parity",
           digit_activation: str = "softmax") -> tuple[Any, Any]:
    return (k.layers.Dense(DIGITS, activation=digit_activation, name=digit)(x),
            k.layers.Dense(1, activation="sigmoid", name=parity)(x))


@entry("build_two_view", note="dict inputs and outputs")
def tv_dicts() -> Any:
    k = keras_module()
    top, bottom = _views(k)
    x = k.layers.Dense(64, activation="relu")(k.layers.Concatenate()([top, bottom]))
    digit, parity = _heads(k, x)
    return k.Model({"top": top, "bottom": bottom}, {"digit": digit, "parity": parity})


@entry("build_two_view", note="keras.ops.concatenate, then Dense and keras.ops.relu")
def tv_ops() -> Any:
    k = keras_module()
    top, bottom = _views(k)
    x = k.ops.relu(k.layers.Dense(64)(k.ops.concatenate([top, bottom], axis=-1)))
    digit, parity = _heads(k, x)
    return k.Model({"top": top, "bottom": bottom}, {"digit": digit, "parity": parity})


@entry("build_two_view", note="one branch per view, merged with keras.ops.add")
def tv_ops_add() -> Any:
    k = keras_module()
    top, bottom = _views(k)
    a = k.layers.Dense(32, activation="relu")(top)
    b = k.layers.Dense(32, activation="relu")(bottom)
    digit, parity = _heads(k, k.ops.add(a, b))
    return k.Model({"top": top, "bottom": bottom}, {"digit": digit, "parity": parity})


@entry("build_two_view", rebuilt_fails=("depends_digit", "depends_parity"),
       note="keras.ops.multiply(bottom, 0.0): the edges are right, the bottom counts for nothing")
def tv_bottom_times_zero() -> Any:
    k = keras_module()
    top, bottom = _views(k)
    x = k.layers.Concatenate()([top, k.ops.multiply(bottom, 0.0)])
    digit, parity = _heads(k, k.layers.Dense(64, activation="relu")(x))
    return k.Model({"top": top, "bottom": bottom}, {"digit": digit, "parity": parity})


@entry("build_two_view", rebuilt_fails=("depends_parity",),
       note="parity reads a slice of the merge that holds only the top")
def tv_parity_slice_drops_bottom() -> Any:
    k = keras_module()
    top, bottom = _views(k)
    x = k.layers.Concatenate()([top, bottom])
    digit = k.layers.Dense(DIGITS, activation="softmax", name="digit")(x)
    parity = k.layers.Dense(1, activation="sigmoid", name="parity")(x[:, :VIEW_DIM])
    return k.Model({"top": top, "bottom": bottom}, {"digit": digit, "parity": parity})


@entry("build_two_view", note="lists, in another order than the task names them")
def tv_lists_reversed() -> Any:
    k = keras_module()
    top, bottom = _views(k)
    x = k.layers.Dense(64, activation="relu")(k.layers.concatenate([bottom, top]))
    digit, parity = _heads(k, x)
    return k.Model([bottom, top], [parity, digit])


@entry("build_two_view", note="one branch per view, merged with Add")
def tv_add_branches() -> Any:
    k = keras_module()
    top, bottom = _views(k)
    a = k.layers.Dense(32, activation="relu")(top)
    b = k.layers.Dense(32, activation="relu")(bottom)
    digit, parity = _heads(k, a + b)
    return k.Model([top, bottom], [digit, parity])


@entry("build_two_view", note="a nested Sequential shared by both views")
def tv_shared_encoder() -> Any:
    k = keras_module()
    top, bottom = _views(k)
    encoder = k.Sequential([k.layers.Dense(32, activation="relu"), k.layers.Dropout(0.1)])
    x = k.layers.concatenate([encoder(top), encoder(bottom)])
    digit, parity = _heads(k, x)
    return k.Model({"top": top, "bottom": bottom}, {"digit": digit, "parity": parity})


@entry("build_two_view", note="heads end in Softmax()/Activation layers that carry the names")
def tv_activation_heads() -> Any:
    k = keras_module()
    top, bottom = _views(k)
    x = k.layers.Dense(48)(k.layers.concatenate([top, bottom]))
    x = k.layers.ReLU()(x)
    digit = k.layers.Softmax(name="digit")(k.layers.Dense(DIGITS)(x))
    parity = k.layers.Activation("sigmoid", name="parity")(k.layers.Dense(1)(x))
    return k.Model([top, bottom], [digit, parity])


@entry("build_two_view", note="outputs named only by their dict keys")
def tv_dict_keys() -> Any:
    k = keras_module()
    top, bottom = _views(k)
    x = k.layers.Dense(64, activation="relu")(k.layers.concatenate([top, bottom]))
    digit = k.layers.Dense(DIGITS, activation="softmax")(x)
    parity = k.layers.Dense(1, activation="sigmoid")(x)
    return k.Model({"top": top, "bottom": bottom}, {"digit": digit, "parity": parity})


@entry("build_two_view", note="a separate trunk per head")
def tv_two_trunks() -> Any:
    k = keras_module()
    top, bottom = _views(k)
    both = k.layers.concatenate([top, bottom])
    digit = k.layers.Dense(DIGITS, activation="softmax", name="digit")(
        k.layers.Dense(64, activation="relu")(both))
    parity = k.layers.Dense(1, activation="sigmoid", name="parity")(
        k.layers.Dense(16, activation="relu")(both))
    return k.Model([top, bottom], [digit, parity])


@entry("build_two_view")
def tv_tf_keras() -> Any:
    k = tf_keras()
    top, bottom = _views(k)
    x = k.layers.Dense(64, activation="relu")(k.layers.Concatenate()([top, bottom]))
    digit, parity = _heads(k, x)
    return k.Model({"top": top, "bottom": bottom}, {"digit": digit, "parity": parity})


@entry("build_two_view", fails=("depends_parity",), note="parity sees the top view only")
def tv_parity_top_only() -> Any:
    k = keras_module()
    top, bottom = _views(k)
    x = k.layers.Dense(64, activation="relu")(k.layers.concatenate([top, bottom]))
    digit = k.layers.Dense(DIGITS, activation="softmax", name="digit")(x)
    parity = k.layers.Dense(1, activation="sigmoid", name="parity")(
        k.layers.Dense(16, activation="relu")(top))
    return k.Model([top, bottom], [digit, parity])


@entry("build_two_view", fails=("depends_digit", "depends_parity", "merge"),
       note="`bottom` is an input nothing uses")
def tv_unused_bottom() -> Any:
    k = keras_module()
    top, bottom = _views(k)
    digit, parity = _heads(k, k.layers.Dense(64, activation="relu")(top))
    return k.Model([top, bottom], [digit, parity])


@entry("build_two_view", fails=("outputs", "depends_digit"), note="`digits` instead of `digit`")
def tv_wrong_output_names() -> Any:
    k = keras_module()
    top, bottom = _views(k)
    x = k.layers.Dense(64, activation="relu")(k.layers.concatenate([top, bottom]))
    digit, parity = _heads(k, x, digit="digits")
    return k.Model([top, bottom], [digit, parity])


@entry("build_two_view", fails=("inputs",))
def tv_wrong_input_shape() -> Any:
    k = keras_module()
    top, bottom = _views(k, bottom_dim=30)
    x = k.layers.Dense(64, activation="relu")(k.layers.concatenate([top, bottom]))
    digit, parity = _heads(k, x)
    return k.Model([top, bottom], [digit, parity])


@entry("build_two_view", fails=("outputs",), note="digit head with sigmoid")
def tv_digit_sigmoid() -> Any:
    k = keras_module()
    top, bottom = _views(k)
    x = k.layers.Dense(64, activation="relu")(k.layers.concatenate([top, bottom]))
    digit, parity = _heads(k, x, digit_activation="sigmoid")
    return k.Model([top, bottom], [digit, parity])


@entry("build_two_view", fails=("api", "inputs", "outputs", "depends_digit", "depends_parity",
                                "merge"),
       rebuilt_fails=("api", "built", "inputs", "outputs", "depends_digit", "depends_parity",
                      "merge"))
def tv_subclassed() -> Any:
    k = keras_module()

    class TwoView(k.Model):
        def __init__(self) -> None:
            super().__init__()
            self.trunk = k.layers.Dense(64, activation="relu")
            self.digit = k.layers.Dense(DIGITS, activation="softmax")
            self.parity = k.layers.Dense(1, activation="sigmoid")

        def call(self, inputs: Any) -> Any:
            x = self.trunk(k.ops.concatenate([inputs["top"], inputs["bottom"]], axis=-1))
            return {"digit": self.digit(x), "parity": self.parity(x)}

    model = TwoView()
    model({"top": k.ops.zeros((1, VIEW_DIM)), "bottom": k.ops.zeros((1, VIEW_DIM))})
    return model


# --------------------------------------------------------------------------- compile_two_view


def _two_view_compiled(model: Any = None, **kwargs: Any) -> Any:
    model = model if model is not None else tv_dicts()
    model.compile(optimizer="adam", **kwargs)
    return model


@entry("compile_two_view")
def ctv_keyed_strings() -> Any:
    return _two_view_compiled(loss=dict(TWO_VIEW_LOSSES), metrics=dict(TWO_VIEW_METRICS))


@entry("compile_two_view", note="loss objects, a bare metric string, keyed loss weights")
def ctv_keyed_objects() -> Any:
    k = keras_module()
    return _two_view_compiled(
        loss={"digit": k.losses.SparseCategoricalCrossentropy(),
              "parity": k.losses.BinaryCrossentropy()},
        metrics={"digit": "acc", "parity": [k.metrics.BinaryAccuracy()]},
        loss_weights={"digit": 1.0, "parity": 0.5})


@entry("compile_two_view", note="a model whose outputs are a list, keyed by layer names")
def ctv_list_outputs_keyed() -> Any:
    return _two_view_compiled(tv_lists_reversed(), loss=dict(TWO_VIEW_LOSSES),
                              metrics={"parity": ["binary_accuracy"],
                                       "digit": ["sparse_categorical_accuracy"]})


@entry("compile_two_view", fails=("keyed_losses",), note="a list of losses on dict outputs")
def ctv_list_of_losses() -> Any:
    return _two_view_compiled(loss=["sparse_categorical_crossentropy", "binary_crossentropy"],
                              metrics=dict(TWO_VIEW_METRICS))


@entry("compile_two_view", fails=("keyed_losses",))
def ctv_wrong_loss() -> Any:
    return _two_view_compiled(loss={"digit": "sparse_categorical_crossentropy", "parity": "mse"},
                              metrics=dict(TWO_VIEW_METRICS))


@entry("compile_two_view", fails=("keyed_metrics",), note="metrics as a list")
def ctv_metrics_list() -> Any:
    return _two_view_compiled(loss=dict(TWO_VIEW_LOSSES), metrics=["accuracy", "accuracy"])


@entry("compile_two_view", fails=("keyed_metrics",), note="no accuracy metric on parity")
def ctv_no_parity_accuracy() -> Any:
    return _two_view_compiled(loss=dict(TWO_VIEW_LOSSES),
                              metrics={"digit": ["accuracy"], "parity": ["mae"]})


@entry("compile_two_view", fails=("keyed_losses",), note="loss weights as a list")
def ctv_weights_list() -> Any:
    return _two_view_compiled(loss=dict(TWO_VIEW_LOSSES), metrics=dict(TWO_VIEW_METRICS),
                              loss_weights=[1.0, 0.5])


@entry("compile_two_view", fails=("keyed_losses",), note="one loss string for both heads")
def ctv_single_loss() -> Any:
    return _two_view_compiled(loss="binary_crossentropy", metrics=dict(TWO_VIEW_METRICS))


@entry("compile_two_view", fails=("keyed_losses", "keyed_metrics"))
def ctv_not_compiled() -> Any:
    return tv_dicts()


# --------------------------------------------------------------------------- building


@functools.cache
def built_zoo() -> dict[str, Any]:
    """Every zoo model, built once per process (entry name -> live model)."""
    keras_module().utils.set_random_seed(0)
    return {e.name: e.build() for e in ZOO}


def by_name(name: str) -> Entry:
    """The zoo entry called `name`."""
    return next(e for e in ZOO if e.name == name)


@functools.cache
def described_zoo() -> dict[str, dict]:
    """The description of every zoo model, from the live model (entry name -> description)."""
    from keras_course.describe import describe

    return {name: describe(model) for name, model in built_zoo().items()}


@functools.cache
def rebuilt_zoo() -> dict[str, dict]:
    """The description the grader decides on for every zoo model: its evidence, rebuilt by
    Keras in the rebuild service (entry name -> description)."""
    from keras_course.describe import model_evidence
    from keras_course.grading.rebuild import describe_recorded

    return {name: describe_recorded(model_evidence(model))
            for name, model in built_zoo().items()}


def contract_verdicts(description: dict, contract: str) -> dict[str, checks.Verdict]:
    """Every check of `contract` run on `description`."""
    return {name: check(description) for name, check in CONTRACTS[contract].items()}
