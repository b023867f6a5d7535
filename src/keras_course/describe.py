"""Describe a Keras model as plain JSON data: inputs, outputs, layers, graph and compile settings.

Everything here reads Keras 3's public serialisation (`model.to_json()`,
`model.get_compile_config()`); nothing imports TensorFlow or Keras, so the same code describes a
live model in the student's kernel and its recorded JSON in a grader process that refuses to
import them. `describe(model) == describe_evidence(model_evidence(model)) ==
describe_json(model.to_json())`.

The description's `graph` is normalised so that equivalent builds look the same: dropout-like
layers are contracted (transparent), an activation layer that follows a linear `Dense` is fused
into it, `ops` merges (`h + y`) and merge layers share one class name, and nested models are
expanded into their layers (one expansion per call, so a nested encoder called twice shows its
layers twice while the objects stay one).
"""
from __future__ import annotations

import json
import math
import re
import warnings
from typing import Any

import networkx as nx

from . import messages
from .errors import NotAModelError

#: Marks a dict as a description made by this module (and its version).
SCHEMA = "keras_course.description/1"

#: Model classes whose configuration lists their layers.
SEQUENTIAL = "Sequential"
FUNCTIONAL = "Functional"

#: Layers that compute nothing at inference time: contracted out of the graph.
TRANSPARENT = frozenset({
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianDropout",
    "GaussianNoise", "AlphaDropout", "ActivityRegularization", "Identity",
})

#: Layers that only apply an activation function: normalised to class `Activation`.
ACTIVATION_LAYERS = frozenset({"Activation", "ReLU", "Softmax", "LeakyReLU", "ELU"})

#: `keras.ops` activations applied to a tensor in a Functional graph (`keras.ops.relu(x)`).
OP_ACTIVATIONS = {
    "Relu": "relu", "Relu6": "relu6", "Sigmoid": "sigmoid", "Softmax": "softmax",
    "Tanh": "tanh", "Silu": "silu", "Gelu": "gelu", "Elu": "elu", "Selu": "selu",
    "Softplus": "softplus", "Softsign": "softsign", "LeakyRelu": "leaky_relu",
    "HardSigmoid": "hard_sigmoid", "LogSoftmax": "log_softmax",
}

#: Layers (and `keras.ops` operations) that combine several tensors.
MERGES = frozenset({
    "Add", "Concatenate", "Average", "Multiply", "Subtract", "Maximum", "Minimum", "Dot",
})

#: Layers whose output has the shape of their (first) input.
SAME_SHAPE = TRANSPARENT | ACTIVATION_LAYERS | frozenset({
    "BatchNormalization", "LayerNormalization", "UnitNormalization", "GroupNormalization",
    "Masking", "PReLU",
})

#: Layers without weights.
NO_WEIGHTS = TRANSPARENT | ACTIVATION_LAYERS | MERGES | frozenset({
    "InputLayer", "Flatten", "Reshape", "Permute", "RepeatVector", "Masking", "UnitNormalization",
})

#: Layers whose own `activation` can absorb a following activation layer.
FUSES_ACTIVATION = frozenset({
    "Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D",
    "DepthwiseConv1D", "DepthwiseConv2D", "Conv1DTranspose", "Conv2DTranspose",
})

#: Config keys worth recording for a layer (the rest are initialisers, dtypes, ...).
KEY_CONFIG = (
    "units", "activation", "use_bias", "rate", "axis", "center", "scale", "target_shape",
    "input_dim", "output_dim", "filters", "kernel_size", "strides", "padding", "max_value",
    "negative_slope", "threshold", "alpha", "batch_shape", "dtype",
)

_ACTIVATION_ALIASES = {
    "none": "linear", "identity": "linear", "swish": "silu", "softmax_v2": "softmax",
    "log_softmax_v2": "log_softmax", "sigmoid_v2": "sigmoid",
}

_LOSS_ALIASES = {
    "mse": "mean_squared_error", "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error",
    "kld": "kl_divergence", "kullback_leibler_divergence": "kl_divergence",
    "logcosh": "log_cosh", "acc": "accuracy", "bce": "binary_crossentropy",
    "cce": "categorical_crossentropy", "scce": "sparse_categorical_crossentropy",
}

_MAX_DEPTH = 20  # nested models deeper than this are not expanded


# --------------------------------------------------------------------------- names


def snake_case(name: str) -> str:
    """`SparseCategoricalCrossentropy` -> `sparse_categorical_crossentropy`."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def normalise_activation(value: Any) -> str:
    """One lower-case name for an activation given as a string, a function or a config dict."""
    if value is None:
        return "linear"
    if isinstance(value, dict):
        class_name, config = value.get("class_name"), value.get("config")
        if class_name == "function" and isinstance(config, str):
            value = config
        elif isinstance(class_name, str) and class_name not in ("function", "__lambda__"):
            value = snake_case(class_name)
        else:
            return "custom"
    if not isinstance(value, str):
        return "custom"
    name = value.strip().rsplit(".", 1)[-1].lower()
    name = _ACTIVATION_ALIASES.get(name, name)
    return re.sub(r"_v\d+$", "", name) or "linear"


def _layer_activation(class_name: str, config: dict) -> str | None:
    """The activation a layer applies last, normalised; None for layers without one."""
    if class_name == "ReLU":
        max_value = config.get("max_value")
        slope = config.get("negative_slope") or 0
        threshold = config.get("threshold") or 0
        if threshold:
            return "thresholded_relu"
        if max_value is None:
            return "leaky_relu" if slope else "relu"
        return "relu6" if max_value == 6 and not slope else "clipped_relu"
    if class_name == "Softmax":
        return "softmax"
    if class_name == "LeakyReLU":
        return "leaky_relu"
    if class_name == "ELU":
        return "elu"
    if "activation" in config:
        return normalise_activation(config.get("activation"))
    return None


def normalise_loss(value: Any) -> Any:
    """A loss (or metric) name: strings lower-cased with aliases resolved, objects by class."""
    if value is None:
        return None
    if isinstance(value, dict) and "class_name" in value:
        class_name, config = value.get("class_name"), value.get("config")
        if class_name == "function" and isinstance(config, str):
            value = config
        elif isinstance(class_name, str):
            value = snake_case(class_name)
        else:
            return "custom"
    if isinstance(value, str):
        name = value.strip().rsplit(".", 1)[-1]
        name = snake_case(name) if any(c.isupper() for c in name[1:]) else name.lower()
        return _LOSS_ALIASES.get(name, name)
    return "custom"


def normalise_optimizer(value: Any) -> str | None:
    """`"Adam"`, `keras.optimizers.Adam(...)` and `"adam"` all become `"adam"`."""
    if value is None:
        return None
    if isinstance(value, dict):
        config = value.get("config") if isinstance(value.get("config"), dict) else {}
        inner = config.get("inner_optimizer")
        if value.get("class_name") == "LossScaleOptimizer" and inner is not None:
            return normalise_optimizer(inner)
        value = value.get("class_name")
    if isinstance(value, str):
        return value.strip().rsplit(".", 1)[-1].lower()
    return "custom"


def _normalise_structure(value: Any, leaf: Any) -> Any:
    """Apply `leaf` to every loss or metric in a str / list / dict / list-of-lists structure."""
    if value is None:
        return None
    if isinstance(value, dict) and "class_name" not in value:
        return {str(k): _normalise_structure(v, leaf) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise_structure(v, leaf) for v in value]
    return leaf(value)


def _normalise_metrics(value: Any) -> Any:
    """Metrics keep their shape; inside a dict a single metric becomes a one-item list."""
    value = _normalise_structure(value, normalise_loss)
    if isinstance(value, dict):
        return {k: (v if isinstance(v, list) or v is None else [v]) for k, v in value.items()}
    if isinstance(value, str):
        return [value]
    return value


def _normalise_weights(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _number(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_number(v) for v in value]
    return _number(value)


def _number(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else repr(value)
    return repr(value)


def describe_compile(config: Any) -> dict | None:
    """The normalised compile settings, or None when the model is not compiled."""
    if not isinstance(config, dict) or not config:
        return None
    return {
        "optimizer": normalise_optimizer(config.get("optimizer")),
        "loss": _normalise_structure(config.get("loss"), normalise_loss),
        "metrics": _normalise_metrics(config.get("metrics")),
        "weighted_metrics": _normalise_metrics(config.get("weighted_metrics")),
        "loss_weights": _normalise_weights(config.get("loss_weights")),
        "from_logits": _from_logits(config.get("loss")),
    }


def _from_logits(loss: Any) -> bool:
    """Whether some loss object was created with `from_logits=True`."""
    if isinstance(loss, dict) and "class_name" in loss:
        config = loss.get("config")
        return bool(isinstance(config, dict) and config.get("from_logits"))
    if isinstance(loss, dict):
        return any(_from_logits(v) for v in loss.values())
    if isinstance(loss, (list, tuple)):
        return any(_from_logits(v) for v in loss)
    return False


# --------------------------------------------------------------------------- shapes and params


def _shape(value: Any) -> list | None:
    if isinstance(value, (list, tuple)) and all(
            v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in value):
        return list(value)
    return None


def _infer_shape(class_name: str, config: dict, in_shapes: list) -> list | None:
    """The output shape of a layer from its config and input shapes (None when unknown)."""
    if class_name == "InputLayer":
        return _shape(config.get("batch_shape") or config.get("batch_input_shape"))
    if not in_shapes or in_shapes[0] is None:
        return None
    first = in_shapes[0]
    if class_name in ("Dense", "EinsumDense") and isinstance(config.get("units"), int):
        return first[:-1] + [config["units"]] if first else None
    if class_name in SAME_SHAPE:
        return list(first)
    if class_name in MERGES - {"Concatenate", "Dot"}:
        if any(s is None or len(s) != len(first) for s in in_shapes):
            return list(first)
        return [max((d for d in dims if d is not None), default=None) if None not in dims
                else next((d for d in dims if d is not None and d != 1), None)
                for dims in zip(*in_shapes)]
    if class_name == "Concatenate":
        if any(s is None or len(s) != len(first) for s in in_shapes):
            return None
        axis = config.get("axis", -1)
        if not isinstance(axis, int) or not -len(first) <= axis < len(first):
            return None
        axis %= len(first)
        out = list(first)
        sizes = [s[axis] for s in in_shapes]
        out[axis] = None if None in sizes else sum(sizes)
        return out
    if class_name == "Flatten":
        rest = first[1:]
        return [first[0], None if None in rest else math.prod(rest)]
    if class_name == "Reshape":
        target = _shape(config.get("target_shape"))
        return [first[0]] + target if target is not None else None
    if class_name == "Embedding" and isinstance(config.get("output_dim"), int):
        return list(first) + [config["output_dim"]]
    return None


def _layer_params(class_name: str, module: str | None, config: dict,
                  in_shapes: list) -> int | None:
    """Parameters a layer creates, from its config and first input shapes; None when unknown."""
    if class_name in NO_WEIGHTS or (module or "").startswith("keras.src.ops"):
        return 0
    first = in_shapes[0] if in_shapes else None
    if class_name == "Dense":
        units = config.get("units")
        if first is None or not first or first[-1] is None or not isinstance(units, int):
            return None
        return (first[-1] + bool(config.get("use_bias", True))) * units
    if class_name in ("BatchNormalization", "LayerNormalization"):
        if first is None:
            return None
        axes = config.get("axis", -1)
        axes = axes if isinstance(axes, list) else [axes]
        try:
            size = math.prod(first[a] for a in axes)
        except (TypeError, IndexError):
            return None
        per = int(bool(config.get("center", True))) + int(bool(config.get("scale", True)))
        if class_name == "BatchNormalization":
            per += 2  # moving mean and moving variance
        return per * size
    if class_name in ("Conv1D", "Conv2D", "Conv3D"):
        kernel, filters = config.get("kernel_size"), config.get("filters")
        groups = config.get("groups") or 1
        channels_first = config.get("data_format") == "channels_first"
        channels = (first[1] if channels_first else first[-1]) if first else None
        if not isinstance(kernel, list) or not isinstance(filters, int) or channels is None:
            return None
        weights = math.prod(kernel) * (channels // groups) * filters
        return weights + (filters if config.get("use_bias", True) else 0)
    dims = (config.get("input_dim"), config.get("output_dim"))
    if class_name == "Embedding" and all(isinstance(d, int) for d in dims):
        return dims[0] * dims[1]
    return None


# --------------------------------------------------------------------------- config reading


def _tensors(value: Any) -> list[list]:
    """The `keras_history` of every symbolic tensor in a call's args/kwargs, in order."""
    found: list[list] = []
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            config = value.get("config") or {}
            history = config.get("keras_history")
            if isinstance(history, list) and len(history) == 3:
                found.append([history[0], history[1], history[2], _shape(config.get("shape"))])
            return found
        for item in value.values():
            found.extend(_tensors(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_tensors(item))
    return found


def _refs(value: Any) -> list[tuple[str, Any]]:
    """`input_layers`/`output_layers` as (name, [layer, node, tensor]) pairs in Keras' order.

    A single triple, a list of triples, or a dict keyed by name (flattened in sorted key order,
    as Keras flattens dicts).
    """
    if isinstance(value, dict):
        return [(str(k), value[k]) for k in sorted(value)]
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [("", value)]
    if isinstance(value, list):
        return [("", v) for v in value if isinstance(v, list) and len(v) == 3]
    return []


def _is_model_config(layer: dict) -> bool:
    config = layer.get("config")
    return (isinstance(config, dict) and isinstance(config.get("layers"), list)
            and (layer.get("class_name") in (SEQUENTIAL, FUNCTIONAL) or "input_layers" in config))


def _built_input_shape(layer: dict) -> list | None:
    """The input shape Keras recorded when it built the layer (`build_config`), if any."""
    build = layer.get("build_config")
    return _shape(build.get("input_shape")) if isinstance(build, dict) else None


def _layer_name(layer: dict) -> str:
    config = layer.get("config") if isinstance(layer.get("config"), dict) else {}
    return str(layer.get("name") or config.get("name") or layer.get("class_name") or "layer")


def _key_config(class_name: str, config: dict) -> dict:
    out = {}
    for key in KEY_CONFIG:
        if key not in config or (key == "dtype" and class_name != "InputLayer"):
            continue
        value = config[key]
        if key == "activation":
            value = normalise_activation(value)
        elif not isinstance(value, (int, float, str, bool, list)) and value is not None:
            continue
        out[key] = value
    if class_name in ACTIVATION_LAYERS:
        out["activation"] = _layer_activation(class_name, config)
    return out


def _api(class_name: str) -> str:
    if class_name == SEQUENTIAL:
        return "sequential"
    if class_name == FUNCTIONAL:
        return "functional"
    return "subclass"


# --------------------------------------------------------------------------- graph building


class _GraphBuilder:
    """Expands a model config into one graph of calls (nested models inlined per call)."""

    def __init__(self) -> None:
        self.graph = nx.DiGraph()
        self.objects: dict[str, list[list[str]]] = {}  # layer object -> calls -> output nodes
        self.object_class: dict[str, str] = {}
        self.object_weights: dict[str, bool] = {}

    def add_node(self, node_id: str, **attrs: Any) -> None:
        self.graph.add_node(node_id, id=node_id, **attrs)

    def record_call(self, obj: str, class_name: str, outputs: list[str], weights: bool) -> None:
        self.objects.setdefault(obj, []).append(outputs)
        self.object_class[obj] = class_name
        self.object_weights[obj] = weights

    def model(self, spec: dict, prefix: str, obj_prefix: str,
              args: list[tuple[str, Any]] | None, depth: int = 0
              ) -> tuple[list[tuple[str, str, Any]], list[tuple[str, Any]]]:
        """Add a model's calls; returns inputs [(name, node, shape)] and outputs [(node, shape)]."""
        config = spec.get("config") or {}
        if spec.get("class_name") == SEQUENTIAL or "input_layers" not in config:
            return self._sequential(config, prefix, obj_prefix, args, depth)
        return self._functional(config, prefix, obj_prefix, args, depth)

    def _input(self, layer: dict, prefix: str, name: str) -> tuple[str, Any]:
        config = layer.get("config") or {}
        shape = _infer_shape("InputLayer", config, [])
        dtype = config.get("dtype")
        if isinstance(dtype, dict):
            dtype = (dtype.get("config") or {}).get("name")
        node = f"{prefix}{name}"
        self.add_node(node, kind="input", layer=name, name=name, class_name="InputLayer",
                      units=None, activation=None, shape=shape,
                      dtype=dtype if isinstance(dtype, str) else None, absorbed=[])
        return node, shape

    def _sequential(self, config: dict, prefix: str, obj_prefix: str,
                    args: list[tuple[str, Any]] | None, depth: int):
        layers = [lay for lay in config.get("layers") or [] if isinstance(lay, dict)]
        inputs: list[tuple[str, str, Any]] = []
        current: tuple[str, Any] | None = None
        if layers and layers[0].get("class_name") == "InputLayer":
            first = layers.pop(0)
            if args is None:
                node, shape = self._input(first, prefix, _layer_name(first))
                inputs.append((_layer_name(first), node, shape))
                current = (node, shape)
        elif args is None and _shape(config.get("build_input_shape")) is not None:
            node, shape = self._input({"config": {"batch_shape": config["build_input_shape"]}},
                                      prefix, "input_layer")
            inputs.append(("input_layer", node, shape))
            current = (node, shape)
        if args:
            current = args[0]
        for layer in layers:
            in_shape = _built_input_shape(layer) or (current[1] if current else None)
            outs = self.call(layer, prefix, obj_prefix, [current] if current else [],
                             [in_shape] if current else [], depth)
            current = outs[0] if outs else None
        return inputs, ([current] if current else [])

    def _functional(self, config: dict, prefix: str, obj_prefix: str,
                    args: list[tuple[str, Any]] | None, depth: int):
        layers = {_layer_name(lay): lay for lay in config.get("layers") or []
                  if isinstance(lay, dict)}
        memo: dict[tuple[str, int], list[tuple[str, Any]]] = {}
        inputs: list[tuple[str, str, Any]] = []
        input_refs = _refs(config.get("input_layers"))
        for position, (key, ref) in enumerate(input_refs):
            layer_name = str(ref[0])
            layer = layers.get(layer_name, {"config": {}})
            if args is None:
                name = key or layer_name
                node, shape = self._input(layer, prefix, layer_name)
                self.graph.nodes[node]["name"] = name
                inputs.append((name, node, shape))
                memo[(layer_name, 0)] = [(node, shape)]
            elif position < len(args):
                memo[(layer_name, 0)] = [args[position]]

        def resolve(name: str, index: int) -> list[tuple[str, Any]]:
            if (name, index) in memo:
                return memo[(name, index)]
            memo[(name, index)] = []  # guards against cycles in a hostile config
            layer = layers.get(name)
            nodes = layer.get("inbound_nodes") if layer else None
            if not isinstance(nodes, list) or not 0 <= index < len(nodes):
                return []
            operands, shapes = [], []
            for hist_layer, hist_node, hist_tensor, shape in _tensors(nodes[index]):
                produced = resolve(str(hist_layer), int(hist_node)) if isinstance(
                    hist_node, int) else []
                if isinstance(hist_tensor, int) and 0 <= hist_tensor < len(produced):
                    operands.append(produced[hist_tensor])
                    shapes.append(shape if shape is not None else produced[hist_tensor][1])
            memo[(name, index)] = self.call(layer, prefix, obj_prefix, operands, shapes, depth,
                                            index)
            return memo[(name, index)]

        for name, layer in layers.items():
            for index in range(len(layer.get("inbound_nodes") or [])):
                resolve(name, index)
        outputs = []
        for _key, ref in _refs(config.get("output_layers")):
            index = ref[1]
            layer = layers.get(str(ref[0]))
            listed = layer.get("inbound_nodes") if isinstance(layer, dict) else None
            if (isinstance(index, int) and isinstance(listed, list) and index >= len(listed)
                    and _is_model_config(layer)):
                # Keras numbers a nested model's calls from its own defining node: its first
                # call in this model is node 1 in `output_layers` (an encoder, then a decoder)
                index -= 1
            produced = resolve(str(ref[0]), index) if isinstance(index, int) else []
            if isinstance(ref[2], int) and 0 <= ref[2] < len(produced):
                outputs.append(produced[ref[2]])
        return inputs, outputs

    def call(self, layer: dict, prefix: str, obj_prefix: str, operands: list[tuple[str, Any]],
             in_shapes: list, depth: int, index: int = 0) -> list[tuple[str, Any]]:
        """Add one call of `layer` on `operands`; returns its outputs [(node, shape)]."""
        name = _layer_name(layer)
        class_name = str(layer.get("class_name"))
        obj = f"{obj_prefix}{name}"
        if _is_model_config(layer) and depth < _MAX_DEPTH:
            _, outs = self.model(layer, f"{prefix}{name}#{index}/", f"{obj}/", operands, depth + 1)
            weights = any(w for o, w in self.object_weights.items() if o.startswith(f"{obj}/"))
            self.record_call(obj, class_name, [node for node, _ in outs], weights)
            return outs
        config = layer.get("config") if isinstance(layer.get("config"), dict) else {}
        node = f"{prefix}{name}#{index}"
        kind_class = "Activation" if class_name in ACTIVATION_LAYERS else class_name
        activation = _layer_activation(class_name, config)
        if str(layer.get("module")).startswith("keras.src.ops") and class_name in OP_ACTIVATIONS:
            kind_class, activation = "Activation", OP_ACTIVATIONS[class_name]  # keras.ops.relu
        units = config.get("units") if isinstance(config.get("units"), int) else None
        shape = _infer_shape("Activation" if kind_class == "Activation" else class_name,
                             config, in_shapes)
        rate = config.get("rate")
        # a dropout that drops everything (rate 1) is not see-through: it stays in the chain
        drops_all = ({"drops_all": True} if class_name in TRANSPARENT and isinstance(
            rate, (int, float)) and not isinstance(rate, bool) and rate >= 1 else {})
        self.add_node(node, kind="op", layer=obj, name=name, class_name=kind_class,
                      units=units, activation=activation,
                      shape=shape, absorbed=[], **drops_all)
        for operand, _ in operands:
            self.graph.add_edge(operand, node)
        weights = class_name not in NO_WEIGHTS and not str(layer.get("module")).startswith(
            "keras.src.ops")
        self.record_call(obj, kind_class, [node], weights)
        return [(node, shape)]


def _normalise_graph(graph: nx.DiGraph, protected: set[str]) -> dict[str, str]:
    """Contract transparent layers and fuse activations into the `Dense` before them.

    Returns where each removed node went. `protected` nodes (model outputs) are never fused away
    from under an activation that follows them.
    """
    moved: dict[str, str] = {}
    for node in list(graph.nodes):
        attrs = graph.nodes[node]
        transparent = (attrs.get("class_name") in TRANSPARENT and not attrs.get("drops_all")
                       ) or (attrs.get("class_name") == "Activation"
                             and attrs.get("activation") == "linear")
        preds = list(graph.predecessors(node))
        if attrs.get("kind") != "op" or not transparent or len(preds) != 1:
            continue
        pred = preds[0]
        for succ in list(graph.successors(node)):
            graph.add_edge(pred, succ)
        graph.nodes[pred].setdefault("absorbed", []).append(attrs["name"])
        graph.remove_node(node)
        moved[node] = pred
    outputs = {_follow(moved, n) for n in protected}
    for node in list(nx.topological_sort(graph)) if nx.is_directed_acyclic_graph(graph) else []:
        attrs = graph.nodes[node]
        preds = list(graph.predecessors(node))
        if attrs.get("class_name") != "Activation" or len(preds) != 1:
            continue
        pred = preds[0]
        before = graph.nodes[pred]
        if (before.get("class_name") not in FUSES_ACTIVATION or before.get("activation") != "linear"
                or graph.out_degree(pred) != 1 or pred in outputs):
            continue
        before["activation"] = attrs.get("activation")
        absorbed = [*before.get("absorbed", []), attrs["name"], *attrs.get("absorbed", [])]
        before["absorbed"] = absorbed
        for succ in list(graph.successors(node)):
            graph.add_edge(pred, succ)
        graph.remove_node(node)
        moved[node] = pred
        if node in outputs:
            outputs.discard(node)
            outputs.add(pred)
    return moved


def _follow(moved: dict[str, str], node: str) -> str:
    seen = set()
    while node in moved and node not in seen:
        seen.add(node)
        node = moved[node]
    return node


# --------------------------------------------------------------------------- descriptions


def _empty(class_name: str, built: bool, note: str | None) -> dict:
    return {
        "schema": SCHEMA, "api": _api(class_name), "class_name": class_name, "name": None,
        "built": built, "inputs": [], "outputs": [], "layers": [], "edges": [], "shared": [],
        "params": None, "graph": {"nodes": [], "edges": [], "inputs": {}, "outputs": {},
                                  "shared": []},
        "compile": None, "note": note,
    }


def _layer_entries(spec: dict, depth: int) -> tuple[list[dict], list[list[str]]]:
    """The model's own layers (not expanded) and the edges between them."""
    config = spec.get("config") or {}
    layers = [lay for lay in config.get("layers") or [] if isinstance(lay, dict)]
    sequential = spec.get("class_name") == SEQUENTIAL or "input_layers" not in config
    entries, edges = [], []
    shape: list | None = None
    if sequential and not (layers and layers[0].get("class_name") == "InputLayer"):
        shape = _shape(config.get("build_input_shape"))
    previous: str | None = None
    for layer in layers:
        name, class_name = _layer_name(layer), str(layer.get("class_name"))
        lconfig = layer.get("config") if isinstance(layer.get("config"), dict) else {}
        nested = _describe_config(layer, depth + 1) if _is_model_config(layer) else None
        if sequential:
            in_shapes = [] if class_name == "InputLayer" else [_built_input_shape(layer) or shape]
            calls = 0 if class_name == "InputLayer" else 1
            if previous is not None:
                edges.append([previous, name])
            previous = name
        else:
            nodes = layer.get("inbound_nodes")
            nodes = nodes if isinstance(nodes, list) else []
            calls = len(nodes)
            in_shapes = [t[3] for t in _tensors(nodes[0])] if nodes else []
            for node in nodes:
                for tensor in _tensors(node):
                    edge = [str(tensor[0]), name]
                    if edge not in edges:
                        edges.append(edge)
        if (not in_shapes or in_shapes[0] is None) and _built_input_shape(layer) is not None:
            in_shapes = [_built_input_shape(layer)]
        if nested is not None:
            params = nested["params"]
            out = nested["outputs"][0]["shape"] if nested["outputs"] else None
        else:
            params = _layer_params(class_name, layer.get("module"), lconfig, in_shapes)
            out = _infer_shape(class_name, lconfig, in_shapes)
        entries.append({"name": name, "class_name": class_name,
                        "config": _key_config(class_name, lconfig), "calls": calls,
                        "params": params, "nested": nested})
        shape = out
    return entries, edges


def _describe_config(spec: dict, depth: int = 0) -> dict:
    """Describe a model from its serialised form `{"class_name", "config", ...}` (no compile)."""
    class_name = str(spec.get("class_name"))
    config = spec.get("config")
    build = spec.get("build_config")
    has_layers = isinstance(config, dict) and isinstance(config.get("layers"), list)
    if not has_layers:
        built = isinstance(build, dict) and build.get("input_shape") is not None
        return _empty(class_name, built, messages.SUBCLASS_NOTE if _api(class_name) == "subclass"
                      else messages.UNREADABLE_NOTE)
    builder = _GraphBuilder()
    inputs, outputs = builder.model(spec, "", "", None, depth)
    layers, edges = _layer_entries(spec, depth)
    out_refs = _refs(config.get("output_layers")) if "input_layers" in config else [("", None)]
    graph = builder.graph
    output_nodes = [node for node, _ in outputs]
    moved = _normalise_graph(graph, set(output_nodes))
    out_entries, out_map = [], {}
    for (key, ref), (node, shape) in zip(out_refs, outputs):
        final = _follow(moved, node)
        attrs = graph.nodes[final]
        layer_name = str(ref[0]) if ref else (layers[-1]["name"] if layers else attrs["name"])
        name = key or layer_name
        out_entries.append({"name": name, "layer": layer_name, "shape": shape,
                            "activation": attrs.get("activation"), "units": attrs.get("units")})
        out_map[name] = final
    shared = []
    for obj, calls in builder.objects.items():
        if len(calls) < 2:
            continue
        calls = [[_follow(moved, n) for n in call] for call in calls]
        last = graph.nodes[calls[0][0]] if calls[0] and calls[0][0] in graph else {}
        shape = last.get("shape")
        width = last.get("units") if builder.object_class[obj] in FUSES_ACTIVATION else (
            shape[-1] if shape else None)
        shared.append({"layer": obj, "class_name": builder.object_class[obj], "units": width,
                       "activation": last.get("activation"),
                       "weights": builder.object_weights[obj], "calls": calls})
    params: int | None = 0
    for entry in layers:
        params = None if params is None or entry["params"] is None else params + entry["params"]
    built = bool(inputs) or (_api(class_name) == "subclass" and isinstance(build, dict))
    if not inputs:  # unbuilt: Keras cannot count weights that do not exist yet
        params = None
    return {
        "schema": SCHEMA,
        "api": _api(class_name),
        "class_name": class_name,
        "name": config.get("name"),
        "built": built,
        "inputs": [{"name": name, "shape": shape,
                    "dtype": graph.nodes[node].get("dtype")}
                   for name, node, shape in inputs],
        "outputs": out_entries,
        "layers": layers,
        "edges": edges,
        "shared": [s["layer"] for s in shared],
        "params": params,
        "graph": {
            "nodes": [dict(graph.nodes[n]) for n in graph.nodes],
            "edges": [[a, b] for a, b in graph.edges],
            "inputs": {name: node for name, node, _ in inputs},
            "outputs": out_map,
            "shared": shared,
        },
        "compile": None,
        "note": None if _api(class_name) != "subclass" else messages.SUBCLASS_GRAPH_NOTE,
    }


def describe_json(text: str, compile_config: dict | None = None) -> dict:
    """Describe a model from `model.to_json()`; `compile_config` overrides the JSON's own."""
    try:
        spec = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise NotAModelError(messages.not_json()) from exc
    if not isinstance(spec, dict) or "class_name" not in spec:
        raise NotAModelError(messages.not_json())
    return _describe_spec(spec, compile_config, str(spec.get("class_name")))


def _describe_spec(spec: dict, compile_config: Any, class_name: str) -> dict:
    try:
        description = _describe_config(spec)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RecursionError,
            nx.NetworkXException) as exc:
        description = _empty(class_name, False, messages.unreadable_note(exc))
    if not compile_config:
        compile_config = spec.get("compile_config")
    description["compile"] = describe_compile(compile_config)
    return description


def describe_evidence(evidence: dict) -> dict:
    """Describe a model from what `model_evidence` exported (pure: no TensorFlow needed)."""
    if not isinstance(evidence, dict):
        raise NotAModelError(messages.not_evidence())
    class_name = str(evidence.get("class_name") or "Model")
    text = evidence.get("json")
    spec = None
    if isinstance(text, str):
        try:
            spec = json.loads(text)
        except ValueError:
            spec = None
    if not isinstance(spec, dict):
        description = _empty(class_name, bool(evidence.get("built")), messages.NO_JSON_NOTE)
        description["compile"] = describe_compile(evidence.get("compile"))
        return description
    return _describe_spec(spec, evidence.get("compile"), str(spec.get("class_name", class_name)))


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda o: repr(o)))


def is_keras_model(obj: Any) -> bool:
    """Whether `obj` is a Keras 3 model (keras or tf.keras), judged without importing Keras."""
    return any(cls.__name__ == "Model" and cls.__module__.startswith("keras")
               for cls in type(obj).__mro__)


def model_evidence(model: Any) -> dict:
    """What a kernel exports about a live model: class, JSON config and compile config."""
    cls = type(model)
    evidence: dict[str, Any] = {"class_name": cls.__name__, "module": cls.__module__,
                                "json": None, "compile": None,
                                "built": bool(getattr(model, "built", False))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. serialising a lambda warns on stderr
        try:
            evidence["json"] = model.to_json()
        except Exception:  # noqa: BLE001 - a model Keras cannot serialise is still described
            evidence["json"] = None
        try:
            if getattr(model, "compiled", False):
                evidence["compile"] = _jsonable(model.get_compile_config())
        except Exception:  # noqa: BLE001
            evidence["compile"] = None
    return evidence


def describe(obj: Any, *, label: str = "the model") -> dict:
    """Describe a live Keras model, its JSON, its evidence dict, or return a description as is.

    Anything else raises `NotAModelError` with a message naming what was found instead.
    """
    if isinstance(obj, dict):
        if obj.get("schema") == SCHEMA:
            return obj
        if "json" in obj and "class_name" in obj:
            return describe_evidence(obj)
        raise NotAModelError(messages.not_a_model(obj, label))
    if isinstance(obj, str):
        try:
            spec = json.loads(obj)
        except ValueError:
            spec = None
        if isinstance(spec, dict) and "class_name" in spec:
            return describe_json(obj)
        raise NotAModelError(messages.not_a_model(obj, label))
    if is_keras_model(obj):
        return describe_evidence(model_evidence(obj))
    raise NotAModelError(messages.not_a_model(obj, label))
