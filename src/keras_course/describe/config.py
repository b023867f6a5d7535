"""A model's serialised config (`model.to_json()`), read once into a typed tree.

Keras writes a model as nested dicts: its layers, each with a class, a config, the input shape
it was built with, and (in a Functional model) the tensors of each call (`inbound_nodes`).
`read_model` reads that once, checking each value's type as it goes, into `ModelConfig` and
`LayerConfig`; a nested model is read once and shared by its layer entry and every call of it.
The tensors of each call are read once too, when the walk first reaches that call, so a config
broken in two places fails where it always did. Everything after works on the tree. The JSON
may be hostile: nothing here trusts a value's type before checking it, and `raw` keeps a
layer's dict as found for the few places that read more.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .kinds import FUNCTIONAL, SEQUENTIAL
from .shapes import shape


class TensorRef(NamedTuple):
    """One symbolic tensor a call consumed: Keras' `keras_history` and its recorded shape."""

    layer: Any  #: name of the layer that produced it
    node: Any  #: which call of that layer
    index: Any  #: which of that call's outputs
    shape: list | None


#: `input_layers` / `output_layers` entries: (key, [layer, node, tensor]); the key is "" unless
#: the model's inputs or outputs are a dict.
Ref = tuple[str, Any]


@dataclass(frozen=True)
class LayerConfig:
    """One entry of a model's `layers`."""

    raw: dict  #: the layer's dict as found in the JSON
    name: str
    class_name: str
    module: Any  #: `module` as recorded (`keras.src.ops...` for `ops` calls such as `h + y`)
    config: dict  #: the layer's own config ({} when it is not a dict)
    built_shape: list | None  #: the input shape Keras built it with (`build_config`)
    #: its calls (`inbound_nodes`) in a Functional model, as found; None when not a list
    inbound: list | None
    nested: ModelConfig | None  #: the layer is itself a model with a layer list
    _tensors: dict[int, list[TensorRef]] = field(default_factory=dict, compare=False,
                                                 repr=False)

    def call_tensors(self, index: int) -> list[TensorRef]:
        """The tensors call `index` consumed (read on first use, once; `inbound` lists it)."""
        if index not in self._tensors:
            self._tensors[index] = tensors(self.inbound[index])  # type: ignore[index]
        return self._tensors[index]


@dataclass(frozen=True)
class ModelConfig:
    """A model whose config lists its layers (Sequential, Functional, or a nested one)."""

    class_name: str
    name: Any  #: `config["name"]` as recorded
    build: Any  #: `build_config` as recorded
    #: its layers form a chain (Sequential, or a config without `input_layers`)
    sequential: bool
    functional_form: bool  #: the config has `input_layers` (and so `output_layers`)
    layers: list[LayerConfig]
    input_refs: list[Ref]
    output_refs: list[Ref]
    build_input_shape: Any  #: `build_input_shape` as recorded (a Sequential without Input)


def read_model(spec: dict) -> ModelConfig | None:
    """The tree of a model's `{"class_name", "config", ...}`; None when it lists no layers."""
    config = spec.get("config")
    if not (isinstance(config, dict) and isinstance(config.get("layers"), list)):
        return None
    functional_form = "input_layers" in config
    sequential = spec.get("class_name") == SEQUENTIAL or not functional_form
    return ModelConfig(
        class_name=str(spec.get("class_name")),
        name=config.get("name"),
        build=spec.get("build_config"),
        sequential=sequential,
        functional_form=functional_form,
        layers=[_read_layer(layer, not sequential) for layer in config["layers"]
                if isinstance(layer, dict)],
        input_refs=refs(config.get("input_layers")),
        output_refs=refs(config.get("output_layers")),
        build_input_shape=config.get("build_input_shape"),
    )


def _read_layer(layer: dict, calls_recorded: bool) -> LayerConfig:
    config = layer.get("config")
    inbound = layer.get("inbound_nodes") if calls_recorded else None
    return LayerConfig(
        raw=layer,
        name=layer_name(layer),
        class_name=str(layer.get("class_name")),
        module=layer.get("module"),
        config=config if isinstance(config, dict) else {},
        built_shape=_built_input_shape(layer),
        inbound=inbound if isinstance(inbound, list) else None,
        nested=read_model(layer) if is_model_config(layer) else None,
    )


def tensors(value: Any) -> list[TensorRef]:
    """The `keras_history` of every symbolic tensor in a call's args/kwargs, in order."""
    found: list[TensorRef] = []
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            config = value.get("config") or {}
            history = config.get("keras_history")
            if isinstance(history, list) and len(history) == 3:
                found.append(TensorRef(history[0], history[1], history[2],
                                       shape(config.get("shape"))))
            return found
        for item in value.values():
            found.extend(tensors(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(tensors(item))
    return found


def refs(value: Any) -> list[Ref]:
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


def is_model_config(layer: dict) -> bool:
    """Whether a layer's dict is a model with a layer list (expanded into its layers)."""
    config = layer.get("config")
    return (isinstance(config, dict) and isinstance(config.get("layers"), list)
            and (layer.get("class_name") in (SEQUENTIAL, FUNCTIONAL) or "input_layers" in config))


def _built_input_shape(layer: dict) -> list | None:
    """The input shape Keras recorded when it built the layer (`build_config`), if any."""
    build = layer.get("build_config")
    return shape(build.get("input_shape")) if isinstance(build, dict) else None


def layer_name(layer: dict) -> str:
    raw = layer.get("config")
    config = raw if isinstance(raw, dict) else {}
    return str(layer.get("name") or config.get("name") or layer.get("class_name") or "layer")
