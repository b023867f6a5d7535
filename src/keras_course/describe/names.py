"""One name for each thing Keras accepts under several: activations, losses, metrics, optimizers.

`"relu"`, `keras.activations.relu` and `{"class_name": "function", "config": "relu"}` are one
activation; `"mse"` and `MeanSquaredError()` one loss. The compile settings are described as
those names (`describe_compile`).
"""
from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .description import CompileSettings

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


def layer_activation(class_name: str, config: dict) -> str | None:
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
        raw = value.get("config")
        config = raw if isinstance(raw, dict) else {}
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


def describe_compile(config: Any) -> CompileSettings | None:
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
