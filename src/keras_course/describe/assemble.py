"""The assembly of a `Description` from the config tree, the walked graph and the compile settings.

The entry points: `describe` (a live model, its evidence, its JSON or a description),
`describe_evidence` (what a kernel recorded) and `describe_json` (`model.to_json()`). Each reads
the config once (`config.read_model`), walks it once into a graph (`walk.GraphBuilder`), then
lists the model's own layers from the same tree.
"""
from __future__ import annotations

import json
from typing import Any, cast

import networkx as nx

from .. import messages
from ..errors import NotAModelError
from .config import ModelConfig, read_model
from .description import (
    SCHEMA,
    Description,
    GraphNode,
    LayerEntry,
    OutputEntry,
    SharedEntry,
    api,
    empty,
)
from .kinds import ACTIVATION_LAYERS, FUSES_ACTIVATION, KEY_CONFIG
from .live import is_keras_model, model_evidence
from .names import describe_compile, layer_activation, normalise_activation
from .shapes import infer_shape, layer_params, shape
from .walk import GraphBuilder, follow, normalise_graph


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
        out["activation"] = layer_activation(class_name, config)
    return out


def _layer_entries(model: ModelConfig, depth: int) -> tuple[list[LayerEntry], list[list[str]]]:
    """The model's own layers (not expanded) and the edges between them."""
    entries: list[LayerEntry] = []
    edges: list[list[str]] = []
    current: list | None = None
    if model.sequential and not (model.layers and model.layers[0].raw.get("class_name")
                                 == "InputLayer"):
        current = shape(model.build_input_shape)
    previous: str | None = None
    for layer in model.layers:
        name, class_name = layer.name, layer.class_name
        nested = describe_model(layer.nested, depth + 1) if layer.nested is not None else None
        if model.sequential:
            in_shapes = [] if class_name == "InputLayer" else [layer.built_shape or current]
            calls = 0 if class_name == "InputLayer" else 1
            if previous is not None:
                edges.append([previous, name])
            previous = name
        else:
            calls = len(layer.inbound or [])
            in_shapes = [tensor.shape for tensor in layer.call_tensors(0)] if calls else []
            for index in range(calls):
                for tensor in layer.call_tensors(index):
                    edge = [str(tensor.layer), name]
                    if edge not in edges:
                        edges.append(edge)
        if (not in_shapes or in_shapes[0] is None) and layer.built_shape is not None:
            in_shapes = [layer.built_shape]
        if nested is not None:
            params = nested["params"]
            out = nested["outputs"][0]["shape"] if nested["outputs"] else None
        else:
            params = layer_params(class_name, layer.module, layer.config, in_shapes)
            out = infer_shape(class_name, layer.config, in_shapes)
        entries.append({"name": name, "class_name": class_name,
                        "config": _key_config(class_name, layer.config), "calls": calls,
                        "params": params, "nested": nested})
        current = out
    return entries, edges


def describe_model(model: ModelConfig, depth: int = 0) -> Description:
    """Describe a model read by `read_model` (no compile settings)."""
    builder = GraphBuilder()
    inputs, outputs = builder.model(model, "", "", None, depth)
    layers, edges = _layer_entries(model, depth)
    out_refs = model.output_refs if model.functional_form else [("", None)]
    graph = builder.graph
    output_nodes = [node for node, _ in outputs]
    moved = normalise_graph(graph, set(output_nodes))
    out_entries: list[OutputEntry] = []
    out_map: dict[str, str] = {}
    for (key, ref), (node, out_shape) in zip(out_refs, outputs):
        final = follow(moved, node)
        attrs = graph.nodes[final]
        layer_name = str(ref[0]) if ref else (layers[-1]["name"] if layers else attrs["name"])
        name = key or layer_name
        out_entries.append({"name": name, "layer": layer_name, "shape": out_shape,
                            "activation": attrs.get("activation"), "units": attrs.get("units")})
        out_map[name] = final
    shared: list[SharedEntry] = []
    for obj, calls in builder.objects.items():
        if len(calls) < 2:
            continue
        calls = [[follow(moved, n) for n in call] for call in calls]
        last = graph.nodes[calls[0][0]] if calls[0] and calls[0][0] in graph else {}
        last_shape = last.get("shape")
        width = last.get("units") if builder.object_class[obj] in FUSES_ACTIVATION else (
            last_shape[-1] if last_shape else None)
        shared.append({"layer": obj, "class_name": builder.object_class[obj], "units": width,
                       "activation": last.get("activation"),
                       "weights": builder.object_weights[obj], "calls": calls})
    params: int | None = 0
    for entry in layers:
        params = None if params is None or entry["params"] is None else params + entry["params"]
    built = bool(inputs) or (api(model.class_name) == "subclass" and isinstance(model.build, dict))
    if not inputs:  # unbuilt: Keras cannot count weights that do not exist yet
        params = None
    return {
        "schema": SCHEMA,
        "api": api(model.class_name),
        "class_name": model.class_name,
        "name": model.name,
        "built": built,
        "inputs": [{"name": name, "shape": in_shape,
                    "dtype": graph.nodes[node].get("dtype")}
                   for name, node, in_shape in inputs],
        "outputs": out_entries,
        "layers": layers,
        "edges": edges,
        "shared": [s["layer"] for s in shared],
        "params": params,
        "graph": {
            # the builder sets every `GraphNode` key on each node (networkx is untyped)
            "nodes": [cast(GraphNode, dict(graph.nodes[n])) for n in graph.nodes],
            "edges": [[a, b] for a, b in graph.edges],
            "inputs": {name: node for name, node, _ in inputs},
            "outputs": out_map,
            "shared": shared,
        },
        "compile": None,
        "note": None if api(model.class_name) != "subclass" else messages.SUBCLASS_GRAPH_NOTE,
    }


def describe_config(spec: dict) -> Description:
    """Describe a model from its serialised form `{"class_name", "config", ...}` (no compile)."""
    model = read_model(spec)
    if model is None:
        class_name = str(spec.get("class_name"))
        build = spec.get("build_config")
        built = isinstance(build, dict) and build.get("input_shape") is not None
        return empty(class_name, built, messages.SUBCLASS_NOTE if api(class_name) == "subclass"
                     else messages.UNREADABLE_NOTE)
    return describe_model(model)


def describe_json(text: str, compile_config: dict | None = None) -> Description:
    """Describe a model from `model.to_json()`; `compile_config` overrides the JSON's own."""
    try:
        spec = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise NotAModelError(messages.not_json()) from exc
    if not isinstance(spec, dict) or "class_name" not in spec:
        raise NotAModelError(messages.not_json())
    return _describe_spec(spec, compile_config, str(spec.get("class_name")))


def _describe_spec(spec: dict, compile_config: Any, class_name: str) -> Description:
    try:
        description = describe_config(spec)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RecursionError,
            nx.NetworkXException) as exc:
        description = empty(class_name, False, messages.unreadable_note(exc))
    if not compile_config:
        compile_config = spec.get("compile_config")
    description["compile"] = describe_compile(compile_config)
    return description


def describe_evidence(evidence: dict) -> Description:
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
        description = empty(class_name, bool(evidence.get("built")), messages.NO_JSON_NOTE)
        description["compile"] = describe_compile(evidence.get("compile"))
        return description
    return _describe_spec(spec, evidence.get("compile"), str(spec.get("class_name", class_name)))


def describe(obj: Any, *, label: str = "the model") -> Description:
    """Describe a live Keras model, its JSON, its evidence dict, or return a description as is.

    Anything else raises `NotAModelError` with a message naming what was found instead.
    """
    if isinstance(obj, dict):
        if obj.get("schema") == SCHEMA:
            return obj  # type: ignore[return-value]
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
