"""The one part that touches a live model: what a kernel exports about it (`model_evidence`).

Only the model's own public methods are called (`to_json`, `get_compile_config`); Keras is never
imported, so a process that refuses TensorFlow can import this package.
"""
from __future__ import annotations

import json
import warnings
from typing import Any


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
