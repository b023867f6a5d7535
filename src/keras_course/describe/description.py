"""The `Description`: what a model is, as plain JSON data the checks read.

A description travels as a dict (through the evidence a kernel records, the rebuild service's
answers and its cache), so its type is a `TypedDict`: the wire format stays a dict, and these
classes say what each field holds. `SCHEMA` marks a dict as one; change it when a field does.
"""
from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from .kinds import FUNCTIONAL, SEQUENTIAL

#: Marks a dict as a description made by this package (and its version).
SCHEMA = "keras_course.description/1"

Api = Literal["sequential", "functional", "subclass"]


class InputEntry(TypedDict):
    name: str  #: the input's name (its key when the model's inputs are a dict)
    shape: list | None  #: with the batch dimension (None); None when unknown
    dtype: str | None


class OutputEntry(TypedDict):
    name: str  #: the output's key in a dict of outputs, else its layer's name
    layer: str  #: the layer that produces it
    shape: list | None
    activation: str | None  #: the activation applied last (after fusing), normalised
    units: int | None


class LayerEntry(TypedDict):
    """One of the model's own layers, as listed in its config (not expanded)."""

    name: str
    class_name: str
    config: dict[str, Any]  #: the `KEY_CONFIG` keys it sets; `activation` normalised
    calls: int  #: how often the model calls it (0 for an `InputLayer` of a Sequential)
    params: int | None  #: weights it creates; None when they cannot be counted
    nested: Description | None  #: the description of a nested model


class GraphNode(TypedDict):
    """A call of a layer (`kind` "op") or a model input (`kind` "input")."""

    id: str  #: `<layer>#<call>`, prefixed by `<model>#<call>/` inside a nested model
    kind: Literal["input", "op"]
    layer: str  #: the layer object (nested: `<model>/<layer>`); calls of one object share it
    name: str
    class_name: str  #: activation layers and `keras.ops` activations are all `Activation`
    units: int | None
    activation: str | None
    shape: list | None
    absorbed: list[str]  #: layers contracted or fused into this node
    dtype: NotRequired[str | None]  #: inputs only
    drops_all: NotRequired[bool]  #: a dropout of rate 1 (kept in the chain)


class SharedEntry(TypedDict):
    """A layer object called more than once."""

    layer: str
    class_name: str
    units: int | None  #: its width: `units`, or the last dimension of its output
    activation: str | None
    weights: bool  #: whether the object has weights (sharing one without is not sharing)
    calls: list[list[str]]  #: the output nodes of each call


class Graph(TypedDict):
    """The normalised graph of calls, nested models expanded once per call."""

    nodes: list[GraphNode]
    edges: list[list[str]]  #: [from node id, to node id]
    inputs: dict[str, str]  #: input name -> node id
    outputs: dict[str, str]  #: output name -> node id
    shared: list[SharedEntry]


class CompileSettings(TypedDict):
    """`model.get_compile_config()` as names (see `names.describe_compile`)."""

    optimizer: str | None
    loss: Any  #: a name, or a list / dict of names shaped like the model's outputs
    metrics: Any
    weighted_metrics: Any
    loss_weights: Any
    from_logits: bool


class Description(TypedDict):
    """A model described: `describe(model)`, `describe_evidence(...)`, `describe_json(...)`."""

    schema: str  #: `SCHEMA`
    api: Api
    class_name: str  #: the model's class (`Sequential`, `Functional`, or the student's own)
    name: Any  #: the model's name as recorded; None when its config was not read
    built: bool
    inputs: list[InputEntry]
    outputs: list[OutputEntry]
    layers: list[LayerEntry]
    edges: list[list[str]]  #: between the model's own layers, by name
    shared: list[str]  #: layer objects called more than once
    params: int | None  #: like `model.count_params()`; None when unbuilt or not countable
    graph: Graph
    compile: CompileSettings | None  #: None when the model is not compiled
    note: str | None  #: why part of the description is missing, in the student's words
    # added by the grader's rebuild (`grading/rebuild_service.py`, `grading/rebuild.py`), never
    # by this package:
    rebuilt: NotRequired[bool]  #: Keras rebuilt the model; shapes and params are Keras's own
    behaviour: NotRequired[dict[str, Any]]  #: {"moves": output -> inputs, "skips": [...]}
    refused: NotRequired[str]  #: the grader refused to rebuild the model (the reason's code)


def api(class_name: str) -> Api:
    """Which API built a model of class `class_name`."""
    if class_name == SEQUENTIAL:
        return "sequential"
    if class_name == FUNCTIONAL:
        return "functional"
    return "subclass"


def empty(class_name: str, built: bool, note: str | None) -> Description:
    """A description without layers or graph (a subclass, or a config that cannot be read)."""
    return {
        "schema": SCHEMA, "api": api(class_name), "class_name": class_name, "name": None,
        "built": built, "inputs": [], "outputs": [], "layers": [], "edges": [], "shared": [],
        "params": None, "graph": {"nodes": [], "edges": [], "inputs": {}, "outputs": {},
                                  "shared": []},
        "compile": None, "note": note,
    }
