"""The normalised layer graph of a description as a networkx DiGraph, and what checks ask of it."""
from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import networkx as nx

#: How many input-to-output paths a chain check looks at (contract models have one or two).
MAX_PATHS = 500

Signature = tuple[str | None, Any, Any]


def to_digraph(description: Mapping[str, Any]) -> nx.DiGraph:
    """The description's normalised graph: one node per layer call, edges along tensors."""
    graph = nx.DiGraph()
    data = description.get("graph") or {}
    for node in data.get("nodes") or []:
        graph.add_node(node["id"], **node)
    graph.add_edges_from((a, b) for a, b in data.get("edges") or [])
    return graph


def signature(attrs: Mapping[str, Any]) -> Signature:
    """(class_name, units, activation) of a node: what a chain entry is compared with."""
    activation = attrs.get("activation")
    if attrs.get("class_name") not in ("Dense", "Activation") and activation == "linear":
        activation = None
    return (attrs.get("class_name"), attrs.get("units"), activation)


def input_nodes(description: Mapping[str, Any]) -> dict[str, str]:
    """Input name -> node id."""
    return dict((description.get("graph") or {}).get("inputs") or {})


def output_nodes(description: Mapping[str, Any]) -> dict[str, str]:
    """Output name -> node id of the (normalised) call that produces it."""
    return dict((description.get("graph") or {}).get("outputs") or {})


def start_nodes(graph: nx.DiGraph, description: Mapping[str, Any]) -> list[str]:
    """Where chains start: the inputs, or (unbuilt model) the layers nothing feeds."""
    starts = list(input_nodes(description).values())
    return starts or [n for n in graph.nodes if graph.in_degree(n) == 0]


def paths(graph: nx.DiGraph, sources: list[str], target: str) -> list[list[str]]:
    """Simple paths from any source to `target`, inputs left out (at most `MAX_PATHS`)."""
    found: list[list[str]] = []
    for source in sources:
        if source not in graph or target not in graph:
            continue
        if source == target:
            found.append([] if graph.nodes[source].get("kind") == "input" else [source])
            continue
        for path in itertools.islice(nx.all_simple_paths(graph, source, target), MAX_PATHS):
            if graph.nodes[path[0]].get("kind") == "input":
                path = path[1:]
            found.append(path)
    return found


def merges(graph: nx.DiGraph) -> list[str]:
    """Calls that combine two or more distinct tensors."""
    return [n for n in graph.nodes if len(set(graph.predecessors(n))) >= 2]


def block(graph: nx.DiGraph, start: str, end: str) -> list[str]:
    """The longest chain of calls from `start` (excluded) to `end` (included)."""
    inside = (nx.descendants(graph, start) | {start}) & (nx.ancestors(graph, end) | {end})
    longest = nx.dag_longest_path(graph.subgraph(inside))
    return longest[1:] if longest and longest[0] == start else longest


def skips(graph: nx.DiGraph) -> list[tuple[str, str, str, list[str]]]:
    """Every (merge, h, y, block): a merge of `h` with `y` computed from `h` through `block`."""
    found = []
    for merge in merges(graph):
        operands = list(dict.fromkeys(graph.predecessors(merge)))
        for h, y in itertools.permutations(operands, 2):
            if nx.has_path(graph, h, y):
                found.append((merge, h, y, block(graph, h, y)))
    return found


def serves(graph: nx.DiGraph, calls: list[list[str]], inputs: dict[str, str]) -> list[str]:
    """The inputs that do not reach a call of their own of a layer object (empty: it serves all).

    A call belongs to an input when that input reaches it and no other of `inputs` does, so one
    call on the concatenation of two inputs (or a layer reused further down a merged trunk) is
    not sharing: each input must go through the object by itself, as in a siamese encoder.
    """
    owners = []
    for call in calls:
        reached = set()
        for node in call:
            if node in graph:
                reached |= nx.ancestors(graph, node) | {node}
        owners.append({name for name, node in inputs.items() if node in reached})
    return [name for name in inputs if {name} not in owners]
