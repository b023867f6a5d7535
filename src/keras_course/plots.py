"""Pictures for the notebooks: learning curves and the layer graph of a model (matplotlib only)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def plot_history(history: Any, metric: str = "accuracy"):
    """Training and validation curves of `loss` and `metric` from a Keras `History` or its dict."""
    import matplotlib.pyplot as plt

    logs = getattr(history, "history", history)
    names = [m for m in ("loss", metric) if m in logs] or sorted(k for k in logs
                                                                 if not k.startswith("val_"))
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = range(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], label="training")
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(name.replace("_", " "))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


#: Box colours of the layer graph: inputs, outputs, shared layers, everything else.
GRAPH_COLOURS = {"input": "#cfe3f7", "output": "#fbd9b5", "shared": "#cdebc5", "layer": "#f2f2f2"}


def _layer_label(layer: Mapping[str, Any], shape: list | None) -> str:
    """`dense_1` over `Dense(64, relu)` over `(None, 64)`: what a box of the graph says."""
    config = layer.get("config") or {}
    args = [str(config["units"])] if isinstance(config.get("units"), int) else []
    activation = config.get("activation")
    if activation and activation != "linear":
        args.append(str(activation))
    kind = layer.get("class_name") or "Layer"
    if kind == "InputLayer":
        kind = "Input"
    text = f"{layer.get('name')}\n{kind}" + (f"({', '.join(args)})" if args else "")
    if shape is not None:
        text += "\n(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"
    return text


def plot_model_graph(model: Any, title: str | None = None):
    """Draw a model's layer graph: one box per layer, one arrow per connection (matplotlib only).

    Inputs are blue, outputs orange, shared layers (one object called more than once) green,
    with the number of calls. A nested model is one box. Drawn from
    `keras_course.describe.describe(model)`, laid out in rows with networkx: each layer sits one
    row below the lowest layer it reads from, and an arrow that skips rows is drawn curved.
    """
    import matplotlib.pyplot as plt
    import networkx as nx

    from . import messages
    from .describe import SAME_SHAPE, describe

    description = describe(model)
    layers = {layer["name"]: layer for layer in description.get("layers") or []}
    calls = description.get("graph") or {}
    owner = {node["id"]: str(node.get("layer", "")).split("/")[0]
             for node in calls.get("nodes") or []}
    graph = nx.DiGraph()
    # Inputs first, in the model's order, so that `left` is drawn left of `right`.
    graph.add_nodes_from(owner[node] for node in (calls.get("inputs") or {}).values()
                         if owner.get(node) in layers)
    graph.add_nodes_from(layers)
    graph.add_edges_from((a, b) for a, b in description.get("edges") or []
                         if a in layers and b in layers)
    if description.get("api") == "subclass" and not layers:
        raise ValueError(messages.NO_DRAWING_SUBCLASS.format(
            class_name=description.get("class_name")))
    if not layers or not nx.is_directed_acyclic_graph(graph):
        note = str(description.get("note") or messages.NO_LAYERS_TO_DRAW).rstrip(".")
        raise ValueError(messages.NO_DRAWING.format(note=note))
    # How many calls each arrow stands for: a shared layer feeds the next layer once per call.
    arrows = {edge: 0 for edge in graph.edges}
    for a, b in calls.get("edges") or []:
        edge = (owner.get(a), owner.get(b))
        if edge in arrows:
            arrows[edge] += 1

    # The shape each layer produces, from the description's graph of calls (first call).
    shapes: dict[str, list | None] = {}
    for node in calls.get("nodes") or []:
        if owner[node["id"]] in layers and owner[node["id"]] not in shapes:
            shapes[owner[node["id"]]] = node.get("shape")
    for layer in layers.values():  # a nested model's box shows the nested model's output shape
        nested = layer.get("nested")
        if nested and nested.get("outputs"):
            shapes[layer["name"]] = nested["outputs"][0].get("shape")
    for name in nx.topological_sort(graph):  # activations and dropout keep their input's shape
        before = list(graph.predecessors(name))
        same_shape = layers[name]["class_name"] in SAME_SHAPE
        if shapes.get(name) is None and len(before) == 1 and same_shape:
            shapes[name] = shapes.get(before[0])
    input_names = {name for name, layer in layers.items() if layer["class_name"] == "InputLayer"}
    output_names = {out.get("layer") for out in description.get("outputs") or []}
    shared = {str(obj).split("/")[0] for obj in description.get("shared") or []}

    # Rows: the longest path from an input, so every arrow points down.
    for name in nx.topological_sort(graph):
        graph.nodes[name]["row"] = max((graph.nodes[p]["row"] + 1
                                        for p in graph.predecessors(name)), default=0)
    pos = nx.multipartite_layout(graph, subset_key="row", align="horizontal", scale=1.0)
    rows = 1 + max(graph.nodes[n]["row"] for n in graph)
    width = max(sum(1 for n in graph if graph.nodes[n]["row"] == r) for r in range(rows))
    xs = {n: 1.5 * pos[n][0] * max(width - 1, 1) for n in graph}  # 1.5 between neighbours
    order = {n: i for i, n in enumerate(graph)}
    for row in range(rows):  # inputs in the model's order, then each row under its inputs
        members = [n for n in graph if graph.nodes[n]["row"] == row]
        slots = sorted(xs[n] for n in members)
        members.sort(key=lambda n: (sum(xs[p] for p in graph.predecessors(n))
                                    / max(graph.in_degree(n), 1), order[n]))
        xs.update(zip(members, slots))
    ys = {n: -float(graph.nodes[n]["row"]) for n in graph}   # inputs on top

    fig, ax = plt.subplots(figsize=(max(4.0, 2.4 * width + 1.0), 1.25 * rows + 0.4))
    boxes = {}
    for name, layer in layers.items():
        kind = ("input" if name in input_names else "output" if name in output_names
                else "shared" if name in shared else "layer")
        label = _layer_label(layer, shapes.get(name))
        if name in shared:
            label += f"\nshared: {layer.get('calls')} calls"
        boxes[name] = ax.text(xs[name], ys[name], label, ha="center", va="center", fontsize=8.5,
                              family="monospace", zorder=3,
                              bbox={"boxstyle": "round,pad=0.4", "facecolor": GRAPH_COLOURS[kind],
                                    "edgecolor": "#555555"})
    # The boxes' padding lies outside the text the arrows are anchored to: shrink past it.
    style = {"arrowstyle": "-|>", "color": "#333333", "lw": 1.2, "shrinkA": 4, "shrinkB": 4}
    for (a, b), count in arrows.items():
        if graph.nodes[b]["row"] - graph.nodes[a]["row"] > 1:  # a skip: around, on the right
            ax.annotate("", xy=(1.0, 0.5), xycoords=boxes[b], xytext=(1.0, 0.5),
                        textcoords=boxes[a], zorder=2,
                        arrowprops={**style, "connectionstyle": "arc3,rad=-0.5"})
            continue
        count = max(count, 1)
        for i in range(count):  # one arrow per call, fanned out a little
            offset = 0.0 if count == 1 else 0.35 + 0.3 * i / (count - 1)
            ax.annotate("", xy=(0.5, 1.0), xycoords=boxes[b], xytext=(offset or 0.5, 0.0),
                        textcoords=boxes[a], zorder=2,
                        arrowprops={**style, "connectionstyle": "arc3"})
    ax.set_xlim(min(xs.values()) - 1.0, max(xs.values()) + 1.0)
    ax.set_ylim(-rows + 0.45, 0.55)
    ax.axis("off")
    if title is None:
        params = description.get("params")
        title = f"{description.get('name') or 'model'} ({description.get('api')}" + (
            f", {params:,} parameters)" if params is not None else ")")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
