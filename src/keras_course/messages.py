"""Every sentence a person reads, in one place: the model checks' and the grading run's.

Each failed check says what was checked, what was expected and what was found, and one next
step, in one or two sentences. Names go in backticks; layers are counted from 1. Hidden checks
name the concept without the expected values (`hidden`).

The grading run's sentences (at the end) are module-level templates with named fields, rendered
with `TEMPLATE.format(field=...)` where they are used, grouped by who reads them: students (the
record of a test cell's calls, a test cell's verdict, the kernel's run of the notebook, the
feedback summary) and instructors (the kernel's box, why a submission could not be graded).
Code keeps state as codes and renders these only to show them. `tests/test_checks.py` reads
every template in the form a person reads it and checks its tone.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

# --------------------------------------------------------------------------- formatting


def code(value: Any) -> str:
    """`value` in backticks."""
    return f"`{value}`"


def shape(value: Any) -> str:
    """A shape as Python writes a tuple: `(None, 20)`."""
    if value is None:
        return "unknown"
    if isinstance(value, (list, tuple)):
        items = ", ".join("None" if v is None else str(v) for v in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    return str(value)


def names(values: Iterable[Any], conjunction: str = "and") -> str:
    """`a`, `b` and `c`."""
    items = [code(v) for v in values]
    if not items:
        return "none"
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def count(n: int, word: str, plural: str | None = None) -> str:
    """`1 input`, `2 inputs`."""
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def layer_call(class_name: str, units: Any = None, activation: Any = None) -> str:
    """How the layer would be written: `Dense(32, activation="relu")`, `Activation("relu")`."""
    if class_name == "Activation":
        return f'Activation("{activation}")' if activation else "Activation(...)"
    args = []
    if units is not None:
        args.append(str(units))
    elif class_name == "Dense":
        args.append("n")
    if activation is not None and class_name != "Activation" and (
            class_name == "Dense" or activation != "linear"):
        args.append(f'activation="{activation}"')
    return f"{class_name}({', '.join(args)})"


def layer_list(signatures: Sequence[Sequence[Any]]) -> str:
    """`Dense(64, activation="relu")`, `Dense(3, activation="softmax")`."""
    return ", ".join(code(layer_call(*sig)) for sig in signatures) or "no layers"


def number(n: Any) -> str:
    """12,345."""
    return f"{n:,}" if isinstance(n, int) else str(n)


# --------------------------------------------------------------------------- notes in descriptions

SUBCLASS_NOTE = ("A subclassed model has no static graph in its configuration: its inputs, "
                 "outputs and layers cannot be read without running its `call` method.")
SUBCLASS_GRAPH_NOTE = ("A subclass of `keras.Model`; its graph was read from the configuration "
                       "it inherited from the Functional API.")
UNREADABLE_NOTE = "The model's configuration lists no layers, so its graph cannot be read."
NO_JSON_NOTE = ("Keras could not serialise this model (`model.to_json()` failed), so its graph "
                "cannot be read.")
#: Why `plot_model_graph` (plots.py) draws nothing for a subclass: its `call` connects the layers.
NO_DRAWING_SUBCLASS = ("`{class_name}` is a subclass of `keras.Model`: Python code in its `call` "
                       "connects the layers, so there is no layer graph to draw.")
#: Why it draws nothing otherwise; `{note}` is the description's note, or `NO_LAYERS_TO_DRAW`.
NO_DRAWING = "This model has no layer graph to draw: {note}."
NO_LAYERS_TO_DRAW = "it has no layers"


def unreadable_note(exc: BaseException) -> str:
    return f"The model's configuration could not be read ({type(exc).__name__})."


# --------------------------------------------------------------------------- not a model

_LAYER_CLASSES = {
    "Dense", "Activation", "Dropout", "ReLU", "Softmax", "Concatenate", "Add", "InputLayer",
    "BatchNormalization", "Flatten", "Layer", "LeakyReLU", "Average", "Multiply", "Embedding",
}


def _subject(label: str) -> str:
    return "The model" if label == "the model" else label if label.startswith("`") else code(label)


def not_a_model(obj: Any, label: str = "the model") -> str:
    """What was handed to a model check, and what to do instead."""
    subject = _subject(label)
    verb = "is" if label == "the model" else "returned"
    class_name = getattr(obj, "class_name", None)
    if not isinstance(class_name, str):
        class_name = type(obj).__name__
    mro = {cls.__name__ for cls in type(obj).__mro__}
    if obj is None:
        return (f"{subject} {verb} `None`, not a Keras model: did you forget `return model` at "
                "the end of the function?")
    if class_name in ("function", "builtin_function_or_method", "method"):
        return (f"{subject} {verb} a function, not a Keras model: call the function and check "
                "what it returns.")
    if class_name == "KerasTensor":
        return (f"{subject} {verb} a symbolic tensor (what a layer call returns), not a model: "
                "wrap inputs and outputs in `keras.Model(inputs, outputs)` and return that.")
    if class_name in _LAYER_CLASSES or ("Layer" in mro and "Model" not in mro):
        return (f"{subject} {verb} a `{class_name}` layer, not a model: put your layers in "
                "`keras.Sequential([...])` or `keras.Model(inputs, outputs)` and return the model.")
    if isinstance(obj, (list, tuple)):
        return (f"{subject} {verb} a sequence of {count(len(obj), 'value')}, not a Keras "
                "model: return the model alone.")
    if isinstance(obj, str):
        return (f"{subject} {verb} a string that is not a model's JSON, not a Keras model: "
                "return the model itself.")
    if isinstance(obj, dict):
        return (f"{subject} {verb} a dict that is not a model description, not a Keras model: "
                "return the model itself.")
    return f"{subject} {verb} a `{class_name}`, not a Keras model: return the model you built."


def rebuild_refused(kind: str, class_name: str = "") -> str:
    """Why the grader could not rebuild a model from its recorded configuration."""
    layer = f"`{class_name}`" if class_name else "a layer"
    texts = {
        "lambda": ("The grader rebuilds your model with Keras's built-in layers only, and a "
                   "`Lambda` layer runs arbitrary code. Use a built-in layer or a `keras.ops` "
                   "function on the tensors instead."),
        "custom": (f"The grader rebuilds your model with Keras's built-in layers only, and "
                   f"{layer} is a class or function of your own, not one of them. Build the "
                   "model from `keras.layers` and `keras.ops` instead."),
        "foreign": (f"The grader rebuilds your model with Keras's built-in layers only, and "
                    f"{layer} wraps code from outside Keras. Build the model from `keras.layers` "
                    "instead."),
        "shape": ("Its configuration is too large or too deeply nested for a course model, so "
                  "the grader could not rebuild it. Build the model the task describes."),
        "memory": ("Rebuilding it needed more memory than the grader allows a course model. "
                   "Check the sizes of your layers."),
        "timeout": ("Rebuilding it took longer than the grader allows a course model. Check the "
                    "sizes of your layers."),
        "service": ("The grader could not start Keras to rebuild it, so it earns no points. "
                    "Please tell your instructor."),
    }
    return texts.get(kind, ("Keras could not rebuild it from its configuration "
                            "(`model.to_json()`). Build it from Keras's built-in layers, called "
                            "on tensors, and check that `keras.models.model_from_json` accepts "
                            "it."))


def ignores_input(output: str, input_name: str) -> str:
    return (f"Output `{output}` does not change when input `{input_name}` changes: a chain of "
            f"layers leads there, but it discards what `{input_name}` brings (multiplied by "
            "zero, or dropped by a merge). Make every branch count in what you merge.")


def chain_dead(output: str) -> str:
    return (f"The layers have the right kinds and sizes, but output `{output}` does not change "
            "when the input changes: some layer on the way can never pass anything on (a "
            "frozen layer that starts at zero, a dropout rate of 1, a constraint that keeps its "
            "weights at zero). Let every layer of the stack learn.")


def shared_input_ignored(layer: str, input_name: str) -> str:
    return (f"The shared layer `{layer}` is called on input `{input_name}`, but nothing the "
            f"model outputs changes when `{input_name}` changes. Call the encoder on "
            f"`{input_name}` itself, not on a value that throws it away.")


def skip_not_carrying(merge: str) -> str:
    return (f"The merge `{merge}` looks like a skip connection, but with the block it goes "
            "around switched off nothing of `h` reaches the output. Add `h` itself to the "
            "block's result, for example `layers.Add()([h, y])`.")


def not_json() -> str:
    return ("This text is not a Keras model's JSON (what `model.to_json()` returns), so there "
            "is no model to check.")


def not_evidence() -> str:
    return "The recorded evidence is not a dict, so there is no model to check."


def hide_label(label: str) -> str:
    """`build_sequential(13, 4)` -> `build_sequential(...)`: hidden arguments stay hidden."""
    head, paren, _ = label.partition("(")
    if not paren:
        return label
    return f"{head}(...)" + ("`" if label.endswith("`") else "")


# --------------------------------------------------------------------------- API and built

_API_WORDS = {"sequential": "a `keras.Sequential` model", "functional": "a Functional model",
              "subclass": "a subclass of `keras.Model`"}
_API_HOW = {
    "sequential": "Build it as a stack with `keras.Sequential([...])` or `model.add(...)`.",
    "functional": "Build it with `keras.Input(...)`, call the layers on tensors, and return "
                  "`keras.Model(inputs, outputs)`.",
    "subclass": "Write a class that extends `keras.Model` and defines `call`.",
}


def wrong_api(expected: str, found: str, class_name: str) -> str:
    found_words = _API_WORDS.get(found, code(class_name))
    if found == "subclass":
        found_words = f"a subclass of `keras.Model` (`{class_name}`)"
    return (f"Your model is {found_words}; the task asks for "
            f"{_API_WORDS.get(expected, code(expected))}. {_API_HOW.get(expected, '')}").strip()


def not_built(api: str) -> str:
    if api == "subclass":
        return ("Your model is not built: it has never been called, so it has no weights yet. "
                "Call it once on an input, or build it with the Functional API.")
    return ("Your model is not built: it has no inputs yet, so Keras does not know its input "
            "shape. Start the stack with `keras.Input(shape=...)`.")


def graph_unreadable(what: str, api: str, note: str | None) -> str:
    if api == "subclass":
        return (f"The {what} of your model cannot be checked: a subclass of `keras.Model` has "
                "no graph Keras can describe before `call` runs. Build it with "
                "`keras.Sequential` or the Functional API.")
    if note == NO_JSON_NOTE:
        return (f"The {what} of your model cannot be checked: Keras could not serialise the "
                "model (`model.to_json()` failed). Build it from Keras layers only.")
    return f"The {what} of your model cannot be checked. {note or UNREADABLE_NOTE}"


# --------------------------------------------------------------------------- inputs and outputs


def inputs_not_built() -> str:
    return ("Your model has no inputs yet (it is not built), so its input shape cannot be "
            "checked. Start it with `keras.Input(shape=...)`.")


def wrong_count(kind: str, found: Sequence[dict], expected: int) -> str:
    listing = ", ".join(f"{code(item['name'])} {shape(item['shape'])}" for item in found)
    listing = f" ({listing})" if listing else ""
    return (f"Your model has {count(len(found), kind)}{listing}; the task asks for {expected}. "
            f"Check what you pass as the {kind}s of `keras.Model`.")


def _which(kind: str, position: int | None, name: str) -> str:
    """`Input 2 (`top`)`, `Input `top`` (by name), or `The input (`x`)` (the only one: 0)."""
    if position == 0:
        return f"The {kind.lower()} (`{name}`)"
    return f"{kind} {position} (`{name}`)" if position is not None else f"{kind} `{name}`"


def wrong_input_shape(position: int | None, name: str, found: Any, expected: Any) -> str:
    which = _which("Input", position, name)
    return (f"{which} of your model has shape `{shape(found)}`; expected `{shape(expected)}`. "
            "Give `keras.Input` the shape from the function's arguments.")


def missing_name(kind: str, name: str, found: Sequence[str]) -> str:
    how = (f'`keras.Input(shape=..., name="{name}")`' if kind == "input"
           else f'`name="{name}"` on the layer that produces it (or key it `"{name}"` in a dict '
                "of outputs)")
    return (f"Your model has no {kind} named `{name}` (found {names(found)}). "
            f"Name it with {how}.")


def extra_name(kind: str, extra: Sequence[str], expected: Sequence[str]) -> str:
    return (f"Your model has {kind}s the task does not ask for: {names(extra)} (expected only "
            f"{names(expected)}). Remove them or rename them to match.")


def wrong_output_shape(position: int | None, name: str, found: Any, expected: Any) -> str:
    which = _which("Output", position, name)
    return (f"{which} of your model has shape `{shape(found)}`; expected `{shape(expected)}`. "
            "Check the number of units of the layer that produces it.")


def wrong_output_activation(position: int | None, name: str, found: Any, expected: str) -> str:
    which = _which("Output", position, name)
    return (f"{which} of your model ends with activation `{found}`; expected `{expected}`. "
            f'Give the last layer of that output `activation="{expected}"`.')


def output_unknown_shape(name: str, built: bool) -> str:
    if built:
        return (f"The shape of output `{name}` cannot be worked out from your model's "
                "configuration. Produce it with the layers the task names.")
    return (f"Output `{name}` has no shape yet because your model is not built. Start the model "
            "with `keras.Input(shape=...)`.")


# --------------------------------------------------------------------------- layers


def no_output(name: str, found: Sequence[str]) -> str:
    return (f"Your model has no output named `{name}` (found {names(found)}). Name the layer "
            f'that produces it with `name="{name}"`.')


def no_input(name: str, found: Sequence[str]) -> str:
    return (f"Your model has no input named `{name}` (found {names(found)}). Name it with "
            f'`keras.Input(shape=..., name="{name}")`.')


def chain_wrong_layer(position: int, found: Sequence[Any], layer_name: str,
                      expected: Sequence[Any]) -> str:
    return (f"Layer {position} of your stack is `{layer_call(*found)}` (`{layer_name}`); "
            f"expected `{layer_call(*expected)}`. Change that layer to match the task.")


def chain_missing_layer(position: int, expected: Sequence[Any], n_found: int,
                        n_expected: int) -> str:
    return (f"Your stack has {count(n_found, 'layer')} where the task asks for {n_expected}: "
            f"layer {position} should be `{layer_call(*expected)}`. Add it at that place.")


def chain_extra_layer(position: int, found: Sequence[Any], layer_name: str, n_found: int,
                      n_expected: int) -> str:
    return (f"Your stack has {count(n_found, 'layer')} where the task asks for {n_expected}: "
            f"layer {position}, `{layer_call(*found)}` (`{layer_name}`), is not in the task. "
            "Remove it.")


def chain_no_path(output: str) -> str:
    return (f"No chain of layers leads from an input of your model to output `{output}`. Check "
            "that each layer is called on the result of the one before it.")


# --------------------------------------------------------------------------- connections


def unused_input(input_name: str, output: str) -> str:
    return (f"Input `{input_name}` is not used by any layer, so output `{output}` cannot depend "
            f"on it. Pass `{input_name}` to the layers on the way to `{output}`.")


def not_depending(output: str, input_name: str) -> str:
    return (f"Output `{output}` does not depend on input `{input_name}`: no chain of layers "
            f"leads from `{input_name}` to `{output}`. Check what you pass to the layer that "
            "merges the branches.")


def no_merge() -> str:
    return ("No layer of your model merges two or more branches: every layer takes a single "
            "tensor. Combine branches with `layers.Concatenate()([a, b])` or "
            "`layers.Add()([a, b])`.")


def no_skip(min_layers: int) -> str:
    return ("No skip connection found: no `Add` (or other merge) combines a tensor `h` with "
            f"something computed from `h` through at least {count(min_layers, 'layer')}. Add "
            "`h` to the result of the block, for example `layers.Add()([h, y])`.")


def short_skip(merge: str, length: int, block: Sequence[str], min_layers: int) -> str:
    return (f"The merge `{merge}` bypasses a block of only {count(length, 'layer')} "
            f"({names(block)}); the task asks for at least {min_layers}. Put "
            f"{count(min_layers, 'layer')} between `h` and the merge.")


# --------------------------------------------------------------------------- sharing


def nothing_shared(inputs: Sequence[str], firsts: Sequence[str]) -> str:
    seen = f": they go through separate layers ({names(firsts)})" if len(firsts) > 1 else ""
    return (f"No single layer with weights is called on each of {names(inputs)}{seen}, so they "
            "do not share weights. Create the encoder once and call that same object on each "
            "input.")


def shared_not_serving(layer: str, inputs: Sequence[str], missing: Sequence[str]) -> str:
    return (f"Layer `{layer}` is used more than once, but not on every one of {names(inputs)} "
            f"({names(missing)} does not reach it through its own call). Call the shared "
            "encoder on each input.")


def shared_wrong_units(layer: str, inputs: Sequence[str], found: Any, expected: int) -> str:
    return (f"The layer shared by {names(inputs)} (`{layer}`) has {found} units; expected "
            f"{expected}. Create the shared encoder with {expected} units.")


def shared_wrong_activation(layer: str, inputs: Sequence[str], found: Any,
                            expected: str) -> str:
    return (f"The layer shared by {names(inputs)} (`{layer}`) ends with activation `{found}`; "
            f'expected `{expected}`. Give the shared encoder `activation="{expected}"`.')


# --------------------------------------------------------------------------- parameters


def params_unknown(built: bool, unknown: Sequence[str]) -> str:
    if not built:
        return ("Your model is not built, so it has no weights to count yet. Start it with "
                "`keras.Input(shape=...)`.")
    if unknown:
        return (f"The parameter count of your model cannot be worked out from its configuration "
                f"(layer {names(unknown)} is of a kind the checks do not know). Use the layers "
                "the task names.")
    return ("The parameter count of your model cannot be worked out from its configuration. "
            "Build it with the layers the task names.")


def wrong_params(found: int, expected: int) -> str:
    return (f"Your model has {number(found)} parameters; expected {number(expected)}. Check the "
            "number of units of each layer and which layer each one is called on.")


# --------------------------------------------------------------------------- compile


def not_compiled() -> str:
    return ("Your model is not compiled. Call `model.compile(...)` inside the function before "
            "returning the model.")


_OPTIMIZER_CLASSES = {
    "adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop", "adamw": "AdamW", "adagrad": "Adagrad",
    "adamax": "Adamax", "adadelta": "Adadelta", "nadam": "Nadam", "ftrl": "Ftrl",
}


def wrong_optimizer(found: Any, expected: str | None) -> str:
    cls = _OPTIMIZER_CLASSES.get(expected) if expected is not None else None
    also = f" (or `keras.optimizers.{cls}()`)" if cls else ""
    return (f"Your model is compiled with optimizer `{found}`; expected `{expected}`. Pass "
            f'`optimizer="{expected}"`{also} to `model.compile`.')


def wrong_loss(found: Any, expected: str) -> str:
    return (f"Your model is compiled with loss {_listing(found)}; expected `{expected}`. Pass "
            f'`loss="{expected}"` to `model.compile`.')


def missing_metric(found: Sequence[str], expected: str) -> str:
    what = "an accuracy metric" if expected == "accuracy" else f"metric `{expected}`"
    return (f"Your model's metrics are {_listing(found)}; expected {what}. Add "
            f'`metrics=["{expected}"]` to `model.compile`.')


def metric_in_loss_weights(misplaced: Sequence[str]) -> str:
    return (f"Your model has no metrics, but {_listing(list(misplaced))} ended up in its loss "
            "weights: in Keras 3 the third positional argument of `compile` is `loss_weights`. "
            'Pass the metrics by keyword: `model.compile(..., metrics=["accuracy"])`.')


def _listing(found: Any) -> str:
    if found is None or found == []:
        return "none"
    if isinstance(found, (list, tuple)):
        return names(found)
    return code(found)


def losses_list(found: Sequence[Any], outputs: Sequence[str]) -> str:
    keyed = ", ".join(f'"{n}": ...' for n in outputs)
    return (f"Your losses are a list ({_listing(found)}); expected a dict keyed by output name. "
            "Keras matches a list to the outputs by their order, which can silently put a loss "
            f"on the wrong head: write `loss={{{keyed}}}`.")


def losses_not_keyed(found: Any, outputs: Sequence[str]) -> str:
    keyed = ", ".join(f'"{n}": ...' for n in outputs)
    if found is None:
        return f"Your model is compiled without a loss. Pass `loss={{{keyed}}}`."
    return (f"Your model uses one loss, `{found}`, for all of {names(outputs)}; expected a "
            f"loss per output, keyed by output name: `loss={{{keyed}}}`.")


def unknown_keys(argument: str, keys: Sequence[str], outputs: Sequence[str]) -> str:
    verb = "is" if len(keys) == 1 else "are"
    return (f"Your `{argument}` dict has {count(len(keys), 'key')} that {verb} not an output "
            f"of the model: {names(keys)} (outputs: {names(outputs)}). Key it by the output "
            "names.")


def missing_loss(output: str) -> str:
    return (f"Your losses have no entry for output `{output}`, so that head would not be "
            f'trained. Add `"{output}": ...` to the `loss` dict.')


def wrong_loss_for(output: str, found: Any, expected: str) -> str:
    return (f"The loss for output `{output}` is `{found}`; expected `{expected}`. Change the "
            f'entry `"{output}"` of the `loss` dict.')


def not_keyed(argument: str, found: Any, outputs: Sequence[str]) -> str:
    keyed = ", ".join(f'"{n}": ...' for n in outputs)
    kind = "a list" if isinstance(found, list) else code(found)
    return (f"Your `{argument}` is {kind}; expected a dict keyed by output name. Keras matches "
            "a list to the outputs by their order, which can silently attach it to the wrong "
            f"head: write `{argument}={{{keyed}}}`.")


def missing_metric_for(output: str, found: Sequence[str], expected: str) -> str:
    what = "an accuracy metric" if expected == "accuracy" else f"metric `{expected}`"
    return (f"The metrics for output `{output}` are {_listing(found)}; expected {what}. Add "
            f'`"{output}": ["{expected}"]` to the `metrics` dict.')


# --------------------------------------------------------------------------- quiz


def _question(question: str) -> str:
    """`q1` -> "question `q1`"; "1 (the spam filter)" -> "question 1 (the spam filter)"."""
    return f"question {question}" if " " in question else f"question {code(question)}"


def _value(value: Any) -> str:
    return f'`"{value}"`' if isinstance(value, str) else code(repr(value))


def no_answer(question: str, choices: Sequence[str] | None) -> str:
    options = f" to one of {names(choices, 'or')}" if choices else ""
    return (f"You have not answered {_question(question)} yet. Set your answer{options} and run "
            "the cell again.")


def not_a_choice(question: str, value: Any, choices: Sequence[str]) -> str:
    return (f"Your answer to {_question(question)} is {_value(value)}, which is not one of the "
            f"choices. Set it to one of {names(choices, 'or')}.")


def wrong_answer(question: str, value: Any) -> str:
    return (f"Your answer to {_question(question)}, {_value(value)}, is not the best fit. Reread "
            "the scenario and ask which API it needs.")


def hidden_answer(question: str) -> str:
    return (f"Your answer to {_question(question)} is not the expected one. Reread the scenario "
            "and ask which API it needs.")


# --------------------------------------------------------------------------- hidden checks

_FOLLOW = "the function's arguments"


def hidden(check: str, argument: str | None = None) -> str:
    """The message of a failed hidden check: the concept, not the expected values."""
    follow = code(argument) if argument else _FOLLOW
    use = "the argument" if argument else "the arguments"
    texts = {
        "api": ("When called with other arguments, your function does not return the kind of "
                "model the task asks for: build it with the same API whatever the sizes."),
        "built": ("When called with other arguments, your model is not built: start it with "
                  "`keras.Input(shape=...)` so it always has inputs."),
        "inputs": (f"When called with other sizes, the model's inputs do not follow {follow}: "
                   f"use {use} rather than a fixed number."),
        "outputs": (f"When called with other sizes, the model's outputs do not follow {follow}: "
                    f"use {use} rather than a fixed number, and keep the output names and "
                    "activations."),
        "chain": (f"When called with other sizes, the layers are not the ones the task "
                  f"describes: every size that depends on {follow} should use {use}."),
        "depends": ("In a hidden test an output does not depend on every input: check what each "
                    "output is computed from."),
        "merge": ("In a hidden test no layer merges two branches: check that the branches are "
                  "combined whatever the sizes."),
        "skip": ("In a hidden test no skip connection bypasses the block: check that the block's "
                 "input is added to its result whatever the sizes."),
        "shared": ("In a hidden test the inputs do not share one encoder: create it once and "
                   "call the same object on each input."),
        "params": (f"When called with other sizes, the parameter count is not what the "
                   f"architecture implies: check that the layer sizes follow {follow}."),
        "compiled": ("In a hidden test the model is not compiled as the task asks: check the "
                     "optimizer, the loss and the metrics against the task statement."),
        "compiled_by_name": ("In a hidden test the compile settings are not keyed by output "
                             "name as the task asks: key losses and metrics by the names of the "
                             "outputs."),
        "answer": ("This answer is not the expected one: reread the scenario and ask which API "
                   "it needs."),
        "model": ("When called with other arguments, your function does not return a Keras "
                  "model: check that every path through it ends with `return model`."),
    }
    return texts.get(check, "A hidden check failed: reread the task statement.")


# =========================================================================== the grading run
# Templates: `TEMPLATE.format(field=...)`. A notice the kernel's run writes into a cell is read
# as its traceback line, `ename: text`, so it starts lowercase after the colon.

# --------------------------------------------------------------------------- students: records
# What the grader says about the record of a test cell's calls (grading/evidence.py). `{label}`
# is a call as written in a message (`call_label`): `build_sequential(20, 3)` in backticks.

#: A hidden test's call, named without its arguments (they are part of the hidden test).
HIDDEN_CALL = "`{name}` (called by a hidden test with other arguments)"
#: What `submitted(name)` is called in a message.
ANSWER_LABEL = "your answer `{name}`"

CALL_NOT_WRITTEN = ("{label} is not written yet: replace `raise NotImplementedError()` in its "
                    "solution cell with your code.")
#: Raised in a hidden test: the student's code chose the exception's class and text, so
#: neither is repeated.
CALL_RAISED_HIDDEN = ("{label} raised an exception. Call it yourself with other sizes than the "
                      "visible tests use, fix the error, and run the tests again.")
#: The code had seen hidden calls by then: its exception's text is not repeated.
CALL_RAISED_QUIET = ("{label} raised an exception. Run this test cell in your own notebook to "
                     "see it, fix the error, and run the tests again.")
CALL_RAISED = ("{label} raised `{error}`. Run it in a cell of your own to see the full "
               "traceback, fix the error, and run the tests again.")

RECORD_OUT_OF_ORDER = (
    "The record of {label} from your kernel is not the one the test expects next, so this test "
    "earns no points. Do not change test cells or the display of outputs; restart the kernel "
    "and run the whole notebook from the top.")
NO_RECORD = (
    "There is no record of {label} from your kernel, so this test earns no points. It usually "
    "means the notebook stopped before this cell or the cell was changed: run the whole "
    "notebook from the top (Kernel, Restart and Run All) and check that every cell runs.")
RECORD_MISMATCH = (
    "The record of {label} from your kernel does not match the test, so this test earns no "
    "points. Do not change or skip test cells; restart the kernel and run the whole notebook "
    "from the top.")
RECORD_UNREADABLE = ("The record of {label} from your kernel is unreadable, so this test earns "
                     "no points. Run the whole notebook again.")
RECORDED_MODEL_UNREADABLE = ("The model that {label} returned could not be read ({error}), so "
                             "this test earns no points. Build it with Keras layers only.")


def call_failed(label: str, error: str, hidden: bool = False, quiet: bool = False) -> str:
    """A graded function raised `error` (`ValueError: bad units`) when a test called it."""
    if error.startswith("NotImplementedError"):
        return CALL_NOT_WRITTEN.format(label=label)
    if hidden:
        return CALL_RAISED_HIDDEN.format(label=label)
    if quiet:
        return CALL_RAISED_QUIET.format(label=label)
    return CALL_RAISED.format(label=label, error=error)


# --------------------------------------------------------------------------- students: verdicts
# A test cell's verdict when it could not be checked (grading/verify.py).

GRADER_COULD_NOT_CHECK = ("The grader could not check test cell `{grade_id}` ({error}), so it "
                          "earns no points; please tell your instructor.")
GRADER_COULD_NOT_READ = ("The grader could not read test cell `{grade_id}` ({error}); please "
                         "tell your instructor.")
GRADER_COULD_NOT_RUN = ("The grader could not run test cell `{grade_id}` ({error}); please tell "
                        "your instructor.")
MORE_RECORDS_THAN_CALLS = (
    "Your kernel recorded more results in test cell `{grade_id}` than the test makes calls, so "
    "this test earns no points. Do not change test cells or the display of outputs; restart the "
    "kernel and run the whole notebook from the top.")
NOTHING_CHECKED = ("Test cell `{grade_id}` checked nothing the kernel recorded, so it earns no "
                   "points; please tell your instructor.")

# --------------------------------------------------------------------------- students: the run
# Notices the kernel's run writes into the graded notebook (grading/execute.py), read as
# `DeadKernelError: the kernel died ...`, `NotRun: not run: ...`.

KERNEL_DIED = ("the kernel died while this cell ran (it exited, crashed, or was killed, for "
               "example for using too much memory)")
OUTPUT_STILL_ARRIVING = ("this cell's output was still arriving {seconds} s after the cell "
                         "finished, so the kernel was stopped. Print less from this cell, then "
                         "run the whole notebook again.")
CELL_TIMED_OUT = ("this cell ran longer than {seconds} s and did not stop when interrupted, so "
                  "the kernel was stopped. Make it finish sooner (fewer epochs, a smaller "
                  "loop), then run the whole notebook again.")
#: A cell after the kernel was stopped; `{reason}` is one of `STOP_REASONS`.
NOT_RUN = ("not run: {reason}. Fix the cell whose notice above says why, then run the whole "
           "notebook again.")
#: Why the kernel was stopped, by the code `SandboxedExecute` keeps.
STOP_REASONS = {
    "died": "the kernel died in an earlier cell",
    "timeout": "an earlier cell did not finish and the kernel was stopped",
    "budget": "the notebook used up its time budget in an earlier cell",
}
#: The last line of a cell's output once it printed more than the grader keeps.
TRUNCATED = ("Output truncated here: this cell printed more than the grader keeps. Print less "
             "to see all of it.\n")
#: What the graded notebook shows instead of the output of a cell that ran after hidden test
#: calls had reached the kernel (see `SandboxedExecute`).
WITHHELD = ("This cell's output is not shown: the cell ran after the hidden tests had been sent "
            "to the kernel. Your own notebook has it.\n")
#: The graded notebook's one line where an instructor's demonstration was not run
#: (grading/skip.py).
SKIPPED_DEMO = ("Not run while grading: this is the instructor's demonstration (a training run "
                "or its plots) and no grade depends on it; run the notebook yourself to see it.\n")

# --------------------------------------------------------------------------- students: feedback
# The summary at the top of each feedback page (grading/feedback.py).

SUMMARY_TITLE = "Your grade at a glance"
SUMMARY_INTRO = ("Every graded part with its points; for each check that did not pass, what it "
                 "found and what to try. Your notebook, as it was graded, follows below.")
#: The line under the summary; `{points}` is the score out of the maximum (`15 / 15`).
TOTAL = "Total: {points} points"
#: How a graded part that is not a test cell is named in the summary.
PART_WRITTEN = "Your written answer"
PART_CODE = "Your code"
NO_MESSAGE = "This check did not pass; its cell below shows what it found."
AWAITING = "Graded by hand: not graded yet."
#: Followed by the notice of the cell where the kernel stopped, when there is one.
STOPPED = "Not graded: the notebook stopped before this check ran (see the cell below)."
LATE_ON_TIME = "Submitted {submitted}, due {due}: on time."
LATE_GRACE = ("Submitted {submitted}, due {due}: {late} late, within the grace period: no "
              "penalty.")
LATE_PENALTY = ("Submitted {submitted}, due {due}: {late} late, so {penalty:g} points are taken "
                "off ({rule}).")
#: Follows the due date when the student has an extension.
EXTENDED = " (your extended due date)"
#: The `{rule}` of `LATE_PENALTY`.
LATE_RULE_ZERO = "more than the cutoff: the score is zero"
LATE_RULE_UNITS = ("{units} started {per}{plural} at {percent:g}% of the points each, at most "
                   "{cap:g}%")

# --------------------------------------------------------------------------- instructors: the box
# Why the kernel's box cannot start (grading/sandbox.py and limits.py,
# `SandboxUnavailableError`), read as `SandboxUnavailableError: ...` where grading stops. `{last}`
# is the end of the box's error output.

NO_BWRAP = ("bubblewrap (bwrap) is not installed, so student code cannot be contained. Install "
            "it (Debian/Ubuntu: apt-get install bubblewrap) or, on a trusted machine only, set "
            "c.SandboxedKernelManager.required = False.")
NO_SETPRIV = ("`setpriv` is missing: the kernel cannot become its own unprivileged user. "
              "Install util-linux (Debian/Ubuntu: apt-get install util-linux).")
NO_USER_NAMESPACES = (
    "bubblewrap could not create the kernel's namespaces: this system forbids user namespaces to "
    "ordinary users. Allow them (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 also "
    "sysctl kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile for {bwrap}), "
    "or grade as root. ({last})")
ENVIRONMENT_UNREADABLE = (
    "the kernel's user cannot read the Python environment {path}: {why}. Make it readable by "
    "other users (chmod -R o+rX on it) or grade with an environment that is. ({last})")
#: The `{why}` of `ENVIRONMENT_UNREADABLE`.
MODE_UNREADABLE = "{path} is mode {mode} (other users may not read it)"
BOX_WONT_START = (
    "the kernel's sandbox could not start Python with ipykernel and the course's helpers: "
    "{last}. Check that the Python environment {prefix} works and is readable by other users.")
#: The `{last}` of `BOX_WONT_START` when the box wrote nothing.
NO_ERROR_OUTPUT = "no error output"
VIEW_HOLDS_SECRET = (
    "the Python environment or the course's helpers ({path}) contain {secret}, which the kernel "
    "must not see: install the course's environment in a folder of its own (make creates .venv).")
UIDS_IN_USE = ("Every uid in c.SandboxedKernelManager.uid_range ({uid_range}) is in use by "
               "another kernel: widen the range.")
CGROUP_FAILED = (
    "could not create the kernel's cgroup ({error}); the grader runs as root and cgroups v1 are "
    "mounted under {cgroup_root}, so processes, memory and CPU of the kernel must be capped "
    "there. Mount the `pids`, `memory` and `cpu` controllers read-write, or grade as an "
    "ordinary user (limits per process then).")
ROOT_NEEDS_UID = (
    "the kernel's box was asked for without a uid of its own while the grader runs as root, so "
    "the kernel would write as root: nothing was started. This is a bug in the grader; please "
    "report it with the command that was run.")

# --------------------------------------------------------------------------- instructors: the run
# What the grading run says in its log about the kernel (grading/sandbox.py, grading/execute.py),
# and why a kernel was started afresh instead of forked (grading/forkserver.py, `FORK_FALLBACK`).

NO_SANDBOX = ("No sandbox: bubblewrap (bwrap) is missing and "
              "c.SandboxedKernelManager.required is False, so student code runs with the "
              "grader's rights. Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) "
              "before grading real submissions.")
RUNNING_AGAIN = ("The kernel stopped before the hidden tests of {cells} cells were sent, so "
                 "cells 1-{last} run again in a fresh kernel with those tests in place.")
BUDGET_USED = "Cell {cell}: the notebook used up its time budget, so the kernel was stopped."
KERNEL_STOP_FAILED = ("Stopping the kernel raised {error}; a kernel that had died already "
                      "cannot be stopped, so grading goes on.")
FORK_FALLBACK = (
    "Started this kernel afresh in the same box instead of forking it, because {error}: grading "
    "goes on, each kernel a few seconds slower. If every kernel says so, fix the cause named "
    "here (the fork server runs the course's Python environment in the kernel's box).")
#: The `{error}` of `FORK_FALLBACK`, by the code `ForkServerError` keeps (the fork server
#: answers a request it could not serve with the same codes).
FORK_SERVER_ERRORS = {
    "not_started": "the fork server did not start ({detail})",
    "no_answer": "the fork server did not answer within {detail} s",
    "exited": "the fork server had exited with status {detail}",
    "spawn_failed": "the fork server could not box a forked kernel ({detail})",
    "spawn_timeout": "a forked kernel did not report within {detail} s that it was boxed",
    "bad_request": "the fork server refused a request ({detail})",
    "no_kernel": "the fork server has no kernel {detail}",
    "unknown_request": "the fork server does not know the request {detail}",
}

# --------------------------------------------------------------------------- instructors: replay
# Why the instructor's test cell could not be replayed (grading/verify.py, in the log).

REPLAY_IMPORT = ("Test cells must not import `{name}` outside `@kernel_only` fixtures: the "
                 "grader checks recorded evidence without TensorFlow.")

# --------------------------------------------------------------------------- instructors: the class
# Why a submission could not be graded, read from nbgrader's log (grading/worker.py) or from how
# its worker ended (grading/batch.py). Listed after the run as `ada/a1: {reason}` and in the
# report, so each starts lowercase; the exception it was read from may follow in parentheses.

#: Heads the list of `failure_summary`.
UNGRADED = "{count} submissions could not be graded:"
NOTEBOOK_MISSING = ("`{notebook}` is missing from the submission{renamed}: nbgrader grades "
                    "notebooks by their released names; rename it back")
#: The `{renamed}` of `NOTEBOOK_MISSING` when the submission holds other notebooks.
NOTEBOOK_RENAMED = " (renamed? found {names})"
NOTEBOOK_EMPTY = ("the notebook file is empty (not valid JSON): ask the student to submit it "
                  "again")
NOTEBOOK_NOT_JSON = ("the notebook file is not valid JSON (cut off or edited by hand): ask the "
                     "student to submit it again")
NOTEBOOK_MALFORMED = "the file is not a valid notebook (its cells are missing or malformed)"
KERNEL_UNRESPONSIVE = "the kernel stopped responding and could not be interrupted"
NBGRADER_FAILED = "nbgrader could not grade this submission (see its log)"
#: Follows a reason the worker read from nbgrader's log.
SEE_LOG = " (log: {path})"
WORKER_ERROR = "the grading worker could not grade it: {error}"
WORKER_SILENT = "the grading worker stopped answering"
WORKER_KILLED = "the grading worker was killed ({signal}{hint}) while grading this submission"
#: The `{hint}` of `WORKER_KILLED` when the signal was SIGKILL, the out-of-memory killer's.
OUT_OF_MEMORY = "; out of memory?"
WORKER_EXITED = "the grading worker exited with code {code} while grading this submission"
GRADING_TOO_LONG = "grading took longer than {seconds:.0f} s; the worker was stopped"
DASK_WORKER_FAILED = "the Dask worker failed: {error}"

#: Why `make grade` graded a submission (again), by the codes of `record.why_grade`; printed as
#: "regraded 4 submissions because {reason}" and kept in grades/audit.json.
REGRADE_REASONS = {
    "not graded": "it was not graded yet",
    "tests": "the assignment's tests changed",
    "checks": "the course's checks changed",
    "submission": "the submission changed",
    "missing": "its gradebook entry or graded copy is missing",
    "forced": "of --force",
}


def regrade_reason(codes: Iterable[str]) -> str:
    """The reasons of `REGRADE_REASONS` for `codes`, in one line."""
    return ", ".join(REGRADE_REASONS[code] for code in codes) or "it was asked for"

# --------------------------------------------------------------------------- instructors: commands
# What the course's commands say (cli.py, hub.py, lab.py, lms.py, report.py, exchange.py,
# grading/late.py, grading/protections.py), on the terminal, as the exception's line, or in
# nbgrader's log. Usage errors follow argparse's `keras-course: error: `, so they start lowercase.

#: After a grading run; `{count}` is spelled out where it starts a sentence the tone test reads.
UNGRADED_SEE_ABOVE = "{count} submissions could not be graded: see the list above."
NO_SUCH_COMMAND = "there is no command `{command}`."
#: Instead of `NO_SUCH_COMMAND` when a command is spelled almost like the one typed.
DID_YOU_MEAN = "there is no command `{command}`; did you mean `{near}`?"
#: Follows `NO_SUCH_COMMAND` or `DID_YOU_MEAN`.
COMMANDS_ARE = "The commands are: {commands} (`{prog} --help` says what each does)."
UNRECOGNIZED_ARGUMENTS = ("unrecognized arguments: {arguments} (`{prog} {command} --help` lists "
                          "the options)")
NO_LAB_MODE = "There is no lab mode `{mode}`: use one of {modes}."

#: `keras-course hub` (hub.py), each ending the command.
HUB_STEP_FAILED = ("`{command} ...` failed (exit {code}). Fix what its output below names, then "
                   "run this again.\n{output}")
NO_SHARED_PYTHON = (
    "No Python {version} that every user can run: the course's Python ({python}) lives where "
    "other users cannot reach. Install one (Debian: `apt-get install python{version} "
    "python{version}-venv`).")
NO_NPM = ("JupyterHub needs configurable-http-proxy, from npm: install Node.js and npm (Debian: "
          "`apt-get install nodejs npm`), then run this again.")
PROXY_NOT_FOUND = ("The proxy configurable-http-proxy was installed with npm, but the command "
                   "search path does not reach it: add npm's global bin folder (under `npm "
                   "prefix -g`) to that path and run this again.")
HUB_NEEDS_ROOT = ("`make hub` creates system users and starts servers as them: run it as root "
                  "(sudo make hub).")
HUB_RUNNING = "The hub `{name}` is already running (`make hub-stop` stops it)."
HUB_DID_NOT_START = ("JupyterHub did not start. Fix what the end of its log ({log}) below names, "
                     "then run this again.\n{tail}")
NO_HUB_ACTION = "The hub's commands are `start`, `stop` and `reset`, not `{action}`."

#: `keras-course export` (lms.py), warnings in nbgrader's log.
NOT_IN_ROSTER = ("{student}: in the gradebook but not in {roster}: NOT exported (add a row for "
                 "`{student}` to {roster})")
NOT_IN_GRADEBOOK = ("{student}: in {roster} but not in the gradebook (never submitted): exported "
                    "with 0 points (remove the row if `{student}` left the course).")

#: `course.toml` and its extensions file (grading/late.py), as the exception's line.
NOT_A_TIME = "{what}: `{text}` is not a date and time like `2026-12-04 23:59`"
LATE_PER = "{file} [late] per: `{per}` must be `hour` or `day`"
EXTENSION_WITHOUT_DUE = ("{file} line {line}: `{until}` extends `{assignment}`, which has no due "
                         "date: give it one under [due], or write the date the extension ends.")

#: The grading protections (grading/protections.py), as `ProtectionsMissingError: ...`.
PROTECTIONS_IN_FORCE = "The course's grading protections are in force."
PROTECTIONS_NOT_IN_FORCE = (
    "grading stopped before any submission ran, because the course's protections are not in "
    "force: {problems}. Restore nbgrader_config.py from the course repository (`git checkout "
    "nbgrader_config.py`) and grade again.")
#: The `{problems}` of `PROTECTIONS_NOT_IN_FORCE`, by what `pipeline_problems` found, joined
#: with "; ".
PROTECTION_PROBLEMS = {
    "not_loaded": ("the course's nbgrader_config.py was not loaded (it is missing, unreadable, or "
                   "raised an error while loading)"),
    "no_sandbox": ("`{step}` is not in Autograde.autograde_preprocessors: student code would run "
                   "outside the sandbox"),
    "verify_not_next": ("`{step}` does not come right after the sandboxed Execute: test cells "
                        "would be scored on what the student's kernel printed"),
    "skip_not_before": ("`{step}` does not come right before the sandboxed Execute: a step "
                        "between them could change a cell after it was found equal to the "
                        "instructor's"),
    "stock_execute": ("`{step}` is in Autograde.autograde_preprocessors: it runs student code "
                      "without the sandbox"),
    "no_restore": ("`{step}` is not in Autograde.sanitize_preprocessors: tampered test cells "
                   "would not be restored"),
    "not_required": ("c.SandboxedKernelManager.required is False: kernels could start without "
                     "bubblewrap"),
}
CONFIG_MISSING = ("{path} does not exist, so nothing was graded. Restore it from the course "
                  "repository (`git checkout nbgrader_config.py`) and grade again.")
CONFIG_UNLOADABLE = (
    "the course's nbgrader_config.py could not be loaded ({error}). Nothing was graded. Fix the "
    "file (`python -m keras_course.grading.protections check {root}` shows the error again) and "
    "grade again.")
FOREIGN_GUARD = ("{path} exists and is not this course's guard: merge its settings by hand with "
                 "the guard (see keras_course/grading/protections.py) and run again.")
REFUSE_TO_GRADE = (
    "This course refuses to autograde: its nbgrader_config.py did not load, so the grading "
    "sandbox and the out-of-kernel verdicts are not in force and no student code was run. Run "
    "`python -m keras_course.grading.protections check {root}` to see why, fix or restore the "
    "file (`git checkout nbgrader_config.py`), and grade again.")

#: `keras-course report` (report.py): why a submission is flagged as stopped, by the error name
#: in its autograded notebook, joined with "; ".
STOPPED_BY = {
    "CellTimeoutError": "a cell timed out",
    "DeadKernelError": "the kernel died",
    "NotRun": "cells were not run (the kernel was stopped earlier)",
    "KeyboardInterrupt": "a cell was interrupted at its time limit",
    "TimeoutError": "a cell timed out",
}
#: Counted among a check's failure messages when its cell shows none.
NO_FAILURE_MESSAGE = "(no message: see the graded notebook)"
ZERO_CHECKS = "0 of {count} checks passed (a blank or unrun notebook?)"

#: `nbgrader collect` (exchange.py), in its log. nbgrader's own sentence, word for word:
NO_COURSE_ID = "No course id specified. Re-run with --course flag."
REFUSED_SUBMISSION = "Refused {name}: it claims to be `{user}`'s submission, but {why} ({where})."
#: The `{why}` of `REFUSED_SUBMISSION`, by what was found (`Refused.code`).
REFUSED_WHY = {
    "no_user": "there is no user `{user}` on this machine",
    "not_folder": "it is not a folder",
    "owner": "it belongs to `{owner}`",
    "too_big": "it holds {size} bytes, more than the {limit} allowed",
}
#: The `{where}` of `REFUSED_SUBMISSION`.
REFUSED_RENAMED = "renamed to {aside}; its owner or root can delete it"
REFUSED_LEFT = "left in place ({error})"
