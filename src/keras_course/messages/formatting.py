"""How sentences write values: names in backticks, shapes as Python writes them, counts
and layer calls."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

# --------------------------------------------------------------------------- formatting


def code(value: Any) -> str:
    """`value` in backticks."""
    return f"`{value}`"


def shape(value: Any) -> str:
    """A shape as Python writes a tuple: `(None, 20)`."""
    if value is None:
        return "unknown"
    if isinstance(value, (list, tuple)):
        items = ", ".join("None" if v is None else str(v) for v in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    return str(value)


def names(values: Iterable[Any], conjunction: str = "and") -> str:
    """`a`, `b` and `c`."""
    items = [code(v) for v in values]
    if not items:
        return "none"
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def count(n: int, word: str, plural: str | None = None) -> str:
    """`1 input`, `2 inputs`."""
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def layer_call(class_name: str, units: Any = None, activation: Any = None) -> str:
    """How the layer would be written: `Dense(32, activation="relu")`, `Activation("relu")`."""
    if class_name == "Activation":
        return f'Activation("{activation}")' if activation else "Activation(...)"
    args = []
    if units is not None:
        args.append(str(units))
    elif class_name == "Dense":
        args.append("n")
    if activation is not None and class_name != "Activation" and (
            class_name == "Dense" or activation != "linear"):
        args.append(f'activation="{activation}"')
    return f"{class_name}({', '.join(args)})"


def layer_list(signatures: Sequence[Sequence[Any]]) -> str:
    """`Dense(64, activation="relu")`, `Dense(3, activation="softmax")`."""
    return ", ".join(code(layer_call(*sig)) for sig in signatures) or "no layers"


def number(n: Any) -> str:
    """12,345."""
    return f"{n:,}" if isinstance(n, int) else str(n)

