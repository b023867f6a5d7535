"""A layer's output shape and parameter count, inferred from its config and its input shapes.

Keras records only some shapes in a model's JSON; the rest follow from the layer's class and
config the way Keras computes them. Unknown stays None: a check never guesses.
"""
from __future__ import annotations

import math
from typing import Any

from .kinds import MERGES, NO_WEIGHTS, OPS_MODULE, SAME_SHAPE


def shape(value: Any) -> list | None:
    """`value` as a shape (a list of ints and Nones), or None when it is not one."""
    if isinstance(value, (list, tuple)) and all(
            v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in value):
        return list(value)
    return None


def infer_shape(class_name: str, config: dict, in_shapes: list) -> list | None:
    """The output shape of a layer from its config and input shapes (None when unknown)."""
    if class_name == "InputLayer":
        return shape(config.get("batch_shape") or config.get("batch_input_shape"))
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
        target = shape(config.get("target_shape"))
        return [first[0]] + target if target is not None else None
    if class_name == "Embedding" and isinstance(config.get("output_dim"), int):
        return list(first) + [config["output_dim"]]
    return None


def layer_params(class_name: str, module: Any, config: dict, in_shapes: list) -> int | None:
    """Parameters a layer creates, from its config and first input shapes; None when unknown."""
    if class_name in NO_WEIGHTS or (module or "").startswith(OPS_MODULE):
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
    input_dim, output_dim = config.get("input_dim"), config.get("output_dim")
    if class_name == "Embedding" and isinstance(input_dim, int) and isinstance(output_dim, int):
        return input_dim * output_dim
    return None
