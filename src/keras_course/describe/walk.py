"""The walk from a model's config tree to one graph of layer calls, and its normalisation.

Each call of a layer is a node (`<layer>#<call>`); a nested model is expanded into its layers
once per call (`<model>#<call>/<layer>#<call>`), so an encoder called twice shows its layers
twice while the layer objects stay one (`objects`: layer object -> its calls' output nodes).
`normalise_graph` then makes equivalent builds look the same: dropout-like layers are
contracted and an activation layer after a linear `Dense` is fused into it.
"""
from __future__ import annotations

from typing import Any

import networkx as nx

from .config import LayerConfig, ModelConfig
from .kinds import (
    ACTIVATION_LAYERS,
    FUSES_ACTIVATION,
    NO_WEIGHTS,
    OP_ACTIVATIONS,
    OPS_MODULE,
    TRANSPARENT,
)
from .names import layer_activation
from .shapes import infer_shape, shape

MAX_DEPTH = 20  # nested models deeper than this are not expanded

#: A tensor in the graph: the node that produced it and its shape.
Operand = tuple[str, Any]


class GraphBuilder:
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

    def model(self, model: ModelConfig, prefix: str, obj_prefix: str,
              args: list[Operand] | None, depth: int = 0
              ) -> tuple[list[tuple[str, str, Any]], list[Operand]]:
        """Add a model's calls; returns inputs [(name, node, shape)] and outputs [(node, shape)]."""
        if model.sequential:
            return self._sequential(model, prefix, obj_prefix, args, depth)
        return self._functional(model, prefix, obj_prefix, args, depth)

    def _input(self, config: Any, prefix: str, name: str) -> Operand:
        """An input node from an `InputLayer`'s config as found in the JSON."""
        config = config or {}
        out_shape = infer_shape("InputLayer", config, [])
        dtype = config.get("dtype")
        if isinstance(dtype, dict):
            dtype = (dtype.get("config") or {}).get("name")
        node = f"{prefix}{name}"
        self.add_node(node, kind="input", layer=name, name=name, class_name="InputLayer",
                      units=None, activation=None, shape=out_shape,
                      dtype=dtype if isinstance(dtype, str) else None, absorbed=[])
        return node, out_shape

    def _sequential(self, model: ModelConfig, prefix: str, obj_prefix: str,
                    args: list[Operand] | None, depth: int):
        layers = list(model.layers)
        inputs: list[tuple[str, str, Any]] = []
        current: Operand | None = None
        if layers and layers[0].class_name == "InputLayer":
            first = layers.pop(0)
            if args is None:
                node, out_shape = self._input(first.raw.get("config"), prefix, first.name)
                inputs.append((first.name, node, out_shape))
                current = (node, out_shape)
        elif args is None and shape(model.build_input_shape) is not None:
            node, out_shape = self._input({"batch_shape": model.build_input_shape},
                                          prefix, "input_layer")
            inputs.append(("input_layer", node, out_shape))
            current = (node, out_shape)
        if args:
            current = args[0]
        for layer in layers:
            in_shape = layer.built_shape or (current[1] if current else None)
            outs = self.call(layer, prefix, obj_prefix, [current] if current else [],
                             [in_shape] if current else [], depth)
            current = outs[0] if outs else None
        return inputs, ([current] if current else [])

    def _functional(self, model: ModelConfig, prefix: str, obj_prefix: str,
                    args: list[Operand] | None, depth: int):
        layers = {layer.name: layer for layer in model.layers}  # a repeated name: the last
        memo: dict[tuple[str, int], list[Operand]] = {}
        inputs: list[tuple[str, str, Any]] = []
        for position, (key, ref) in enumerate(model.input_refs):
            layer_name = str(ref[0])
            found = layers.get(layer_name)
            if args is None:
                name = key or layer_name
                node, out_shape = self._input(found.raw.get("config") if found else {},
                                              prefix, layer_name)
                self.graph.nodes[node]["name"] = name
                inputs.append((name, node, out_shape))
                memo[(layer_name, 0)] = [(node, out_shape)]
            elif position < len(args):
                memo[(layer_name, 0)] = [args[position]]

        def resolve(name: str, index: int) -> list[Operand]:
            if (name, index) in memo:
                return memo[(name, index)]
            memo[(name, index)] = []  # guards against cycles in a hostile config
            layer = layers.get(name)
            nodes = layer.inbound if layer else None
            if layer is None or nodes is None or not 0 <= index < len(nodes):
                return []
            operands, shapes = [], []
            for hist_layer, hist_node, hist_tensor, tensor_shape in layer.call_tensors(index):
                produced = resolve(str(hist_layer), int(hist_node)) if isinstance(
                    hist_node, int) else []
                if isinstance(hist_tensor, int) and 0 <= hist_tensor < len(produced):
                    operands.append(produced[hist_tensor])
                    shapes.append(tensor_shape if tensor_shape is not None
                                  else produced[hist_tensor][1])
            memo[(name, index)] = self.call(layer, prefix, obj_prefix, operands, shapes, depth,
                                            index)
            return memo[(name, index)]

        for name, layer in layers.items():
            # the recorded list's length, as found: a value without one makes the JSON unreadable
            for index in range(len(layer.raw.get("inbound_nodes") or [])):
                resolve(name, index)
        outputs = []
        for _key, ref in model.output_refs:
            index = ref[1]
            found = layers.get(str(ref[0]))
            listed = found.inbound if found else None
            if (isinstance(index, int) and found is not None and listed is not None
                    and index >= len(listed) and found.nested is not None):
                # Keras numbers a nested model's calls from its own defining node: its first
                # call in this model is node 1 in `output_layers` (an encoder, then a decoder)
                index -= 1
            produced = resolve(str(ref[0]), index) if isinstance(index, int) else []
            if isinstance(ref[2], int) and 0 <= ref[2] < len(produced):
                outputs.append(produced[ref[2]])
        return inputs, outputs

    def call(self, layer: LayerConfig, prefix: str, obj_prefix: str, operands: list[Operand],
             in_shapes: list, depth: int, index: int = 0) -> list[Operand]:
        """Add one call of `layer` on `operands`; returns its outputs [(node, shape)]."""
        name, class_name = layer.name, layer.class_name
        obj = f"{obj_prefix}{name}"
        if layer.nested is not None and depth < MAX_DEPTH:
            _, outs = self.model(layer.nested, f"{prefix}{name}#{index}/", f"{obj}/", operands,
                                 depth + 1)
            weights = any(w for o, w in self.object_weights.items() if o.startswith(f"{obj}/"))
            self.record_call(obj, class_name, [node for node, _ in outs], weights)
            return outs
        config = layer.config
        node = f"{prefix}{name}#{index}"
        kind_class = "Activation" if class_name in ACTIVATION_LAYERS else class_name
        activation = layer_activation(class_name, config)
        op = str(layer.module).startswith(OPS_MODULE)
        if op and class_name in OP_ACTIVATIONS:
            kind_class, activation = "Activation", OP_ACTIVATIONS[class_name]  # keras.ops.relu
        units = config.get("units") if isinstance(config.get("units"), int) else None
        out_shape = infer_shape("Activation" if kind_class == "Activation" else class_name,
                                config, in_shapes)
        rate = config.get("rate")
        # a dropout that drops everything (rate 1) is not see-through: it stays in the chain
        drops_all = ({"drops_all": True} if class_name in TRANSPARENT and isinstance(
            rate, (int, float)) and not isinstance(rate, bool) and rate >= 1 else {})
        self.add_node(node, kind="op", layer=obj, name=name, class_name=kind_class,
                      units=units, activation=activation,
                      shape=out_shape, absorbed=[], **drops_all)
        for operand, _ in operands:
            self.graph.add_edge(operand, node)
        self.record_call(obj, kind_class, [node], class_name not in NO_WEIGHTS and not op)
        return [(node, out_shape)]


def normalise_graph(graph: nx.DiGraph, protected: set[str]) -> dict[str, str]:
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
    outputs = {follow(moved, n) for n in protected}
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


def follow(moved: dict[str, str], node: str) -> str:
    """Where `node` went after `normalise_graph` (itself when it stayed)."""
    seen = set()
    while node in moved and node not in seen:
        seen.add(node)
        node = moved[node]
    return node
