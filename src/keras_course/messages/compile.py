"""What the model checks say about how a model is compiled: optimizer, loss and metrics."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .formatting import code, count, names

# --------------------------------------------------------------------------- compile


def not_compiled() -> str:
    return ("Your model is not compiled. Call `model.compile(...)` inside the function before "
            "returning the model.")


_OPTIMIZER_CLASSES = {
    "adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop", "adamw": "AdamW", "adagrad": "Adagrad",
    "adamax": "Adamax", "adadelta": "Adadelta", "nadam": "Nadam", "ftrl": "Ftrl",
}


def wrong_optimizer(found: Any, expected: str | None) -> str:
    cls = _OPTIMIZER_CLASSES.get(expected) if expected is not None else None
    also = f" (or `keras.optimizers.{cls}()`)" if cls else ""
    return (f"Your model is compiled with optimizer `{found}`; expected `{expected}`. Pass "
            f'`optimizer="{expected}"`{also} to `model.compile`.')


def wrong_loss(found: Any, expected: str) -> str:
    return (f"Your model is compiled with loss {_listing(found)}; expected `{expected}`. Pass "
            f'`loss="{expected}"` to `model.compile`.')


def missing_metric(found: Sequence[str], expected: str) -> str:
    what = "an accuracy metric" if expected == "accuracy" else f"metric `{expected}`"
    return (f"Your model's metrics are {_listing(found)}; expected {what}. Add "
            f'`metrics=["{expected}"]` to `model.compile`.')


def metric_in_loss_weights(misplaced: Sequence[str]) -> str:
    return (f"Your model has no metrics, but {_listing(list(misplaced))} ended up in its loss "
            "weights: in Keras 3 the third positional argument of `compile` is `loss_weights`. "
            'Pass the metrics by keyword: `model.compile(..., metrics=["accuracy"])`.')


def _listing(found: Any) -> str:
    if found is None or found == []:
        return "none"
    if isinstance(found, (list, tuple)):
        return names(found)
    return code(found)


def losses_list(found: Sequence[Any], outputs: Sequence[str]) -> str:
    keyed = ", ".join(f'"{n}": ...' for n in outputs)
    return (f"Your losses are a list ({_listing(found)}); expected a dict keyed by output name. "
            "Keras matches a list to the outputs by their order, which can silently put a loss "
            f"on the wrong head: write `loss={{{keyed}}}`.")


def losses_not_keyed(found: Any, outputs: Sequence[str]) -> str:
    keyed = ", ".join(f'"{n}": ...' for n in outputs)
    if found is None:
        return f"Your model is compiled without a loss. Pass `loss={{{keyed}}}`."
    return (f"Your model uses one loss, `{found}`, for all of {names(outputs)}; expected a "
            f"loss per output, keyed by output name: `loss={{{keyed}}}`.")


def unknown_keys(argument: str, keys: Sequence[str], outputs: Sequence[str]) -> str:
    verb = "is" if len(keys) == 1 else "are"
    return (f"Your `{argument}` dict has {count(len(keys), 'key')} that {verb} not an output "
            f"of the model: {names(keys)} (outputs: {names(outputs)}). Key it by the output "
            "names.")


def missing_loss(output: str) -> str:
    return (f"Your losses have no entry for output `{output}`, so that head would not be "
            f'trained. Add `"{output}": ...` to the `loss` dict.')


def wrong_loss_for(output: str, found: Any, expected: str) -> str:
    return (f"The loss for output `{output}` is `{found}`; expected `{expected}`. Change the "
            f'entry `"{output}"` of the `loss` dict.')


def not_keyed(argument: str, found: Any, outputs: Sequence[str]) -> str:
    keyed = ", ".join(f'"{n}": ...' for n in outputs)
    kind = "a list" if isinstance(found, list) else code(found)
    return (f"Your `{argument}` is {kind}; expected a dict keyed by output name. Keras matches "
            "a list to the outputs by their order, which can silently attach it to the wrong "
            f"head: write `{argument}={{{keyed}}}`.")


def missing_metric_for(output: str, found: Sequence[str], expected: str) -> str:
    what = "an accuracy metric" if expected == "accuracy" else f"metric `{expected}`"
    return (f"The metrics for output `{output}` are {_listing(found)}; expected {what}. Add "
            f'`"{output}": ["{expected}"]` to the `metrics` dict.')


