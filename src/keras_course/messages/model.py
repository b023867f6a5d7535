"""What the model checks say about the model itself: whether it is a model, its API, inputs
and outputs, layers, connections, shared layers and parameters; and the notes of a
description that cannot be read."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .formatting import code, count, layer_call, names, number, shape

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


