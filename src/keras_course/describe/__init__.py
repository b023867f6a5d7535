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

One module per idea, each importing only those above it:

- `kinds`: what each layer class is (transparent, an activation, a merge, weightless, ...)
- `names`: one name for each activation, loss, metric and optimizer; the compile settings
- `shapes`: a layer's output shape and parameter count from its config
- `config`: the serialised config read once into a typed tree (`ModelConfig`, `LayerConfig`)
- `walk`: the tree walked into one graph of layer calls, then normalised
- `description`: the `Description` type (a `TypedDict`: descriptions travel as dicts)
- `live`: what a kernel exports about a live model (`model_evidence`)
- `assemble`: the description put together; the entry points
"""
from __future__ import annotations

from .assemble import describe, describe_evidence, describe_json
from .description import SCHEMA, Description
from .description import api as _api
from .description import empty as _empty
from .kinds import (
    ACTIVATION_LAYERS,
    FUNCTIONAL,
    FUSES_ACTIVATION,
    KEY_CONFIG,
    MERGES,
    NO_WEIGHTS,
    OP_ACTIVATIONS,
    SAME_SHAPE,
    SEQUENTIAL,
    TRANSPARENT,
)
from .live import is_keras_model, model_evidence
from .names import (
    describe_compile,
    normalise_activation,
    normalise_loss,
    normalise_optimizer,
    snake_case,
)

__all__ = [
    "ACTIVATION_LAYERS", "FUNCTIONAL", "FUSES_ACTIVATION", "KEY_CONFIG", "MERGES", "NO_WEIGHTS",
    "OP_ACTIVATIONS", "SAME_SHAPE", "SCHEMA", "SEQUENTIAL", "TRANSPARENT", "Description",
    "_api", "_empty", "describe", "describe_compile", "describe_evidence", "describe_json",
    "is_keras_model", "model_evidence", "normalise_activation", "normalise_loss",
    "normalise_optimizer", "snake_case",
]
