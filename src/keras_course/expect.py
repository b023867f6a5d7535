"""Assertions for test cells: describe the model, run one check, raise a course error if it fails.

`model` may be a live Keras model, its description, its evidence dict or its JSON string.
`hidden=True` replaces the message with one that names the concept but not the expected values.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from . import checks, messages
from .describe import Description, describe
from .errors import NotAModelError, error_for


def _describe(model: Any, label: str, hidden: bool) -> Description:
    try:
        return describe(model, label=label)
    except NotAModelError:
        if not hidden:
            raise
        # what was returned instead (its class, its text) is the student's choice: not repeated
        text = (messages.not_a_model(None, messages.hide_label(label)) if model is None
                else messages.hidden("model"))
        raise NotAModelError(text) from None


def _enforce(verdict: checks.Verdict, hidden: bool, argument: str | None = None) -> None:
    if verdict.passed:
        return
    if not hidden:
        text = verdict.message
    elif argument is not None or not verdict.hidden_message:
        text = messages.hidden(verdict.check, argument)
    else:
        text = verdict.hidden_message
    raise error_for(verdict.check)(text, verdict=verdict)


def expect_api(model: Any, kind: str, *, hidden: bool = False, label: str = "the model") -> None:
    """The model was built with `kind`: "sequential" or "functional" (or "subclass")."""
    _enforce(checks.check_api(_describe(model, label, hidden), kind), hidden)


def expect_built(model: Any, *, hidden: bool = False, label: str = "the model") -> None:
    """The model is built (it has inputs)."""
    _enforce(checks.check_built(_describe(model, label, hidden)), hidden)


def expect_inputs(model: Any, inputs: Sequence[Any] | Mapping[str, Any], *, hidden: bool = False,
                  label: str = "the model", argument: str | None = None) -> None:
    """Inputs: `[(None, 20)]` (order matters) or `{"top": (None, 32), ...}` (names matter).

    `argument` names the function argument the shapes follow, for the hidden message.
    """
    _enforce(checks.check_inputs(_describe(model, label, hidden), inputs), hidden, argument)


def expect_outputs(model: Any, outputs: Sequence[Any] | Mapping[str, Any], *,
                   hidden: bool = False, label: str = "the model",
                   argument: str | None = None) -> None:
    """Outputs, as for inputs; a value may be a shape or `{"shape": ..., "activation": ...}`."""
    _enforce(checks.check_outputs(_describe(model, label, hidden), outputs), hidden, argument)


def expect_chain(model: Any, layers: Sequence[Any], *, output: str | None = None,
                 hidden: bool = False, label: str = "the model",
                 argument: str | None = None) -> None:
    """The path from the input to `output` (or the only output) is `layers`:
    a list of `(class_name, units, activation)`."""
    _enforce(checks.check_chain(_describe(model, label, hidden), layers, output), hidden,
             argument)


def expect_depends(model: Any, output: str, inputs: str | Iterable[str], *, hidden: bool = False,
                   label: str = "the model") -> None:
    """Every input named in `inputs` reaches output `output`."""
    _enforce(checks.check_depends(_describe(model, label, hidden), output, inputs), hidden)


def expect_merge(model: Any, *, hidden: bool = False, label: str = "the model") -> None:
    """Some layer merges two or more branches."""
    _enforce(checks.check_merge(_describe(model, label, hidden)), hidden)


def expect_skip(model: Any, *, min_layers: int = 2, hidden: bool = False,
                label: str = "the model") -> None:
    """A skip connection bypasses a block of at least `min_layers` layers."""
    _enforce(checks.check_skip(_describe(model, label, hidden), min_layers), hidden)


def expect_shared(model: Any, inputs: Iterable[str], *, units: int | None = None,
                  activation: str | None = None, hidden: bool = False,
                  label: str = "the model") -> None:
    """One layer object (or nested model) serves every input named in `inputs`; with `units`
    (and `activation`), it is an encoder of that width (and activation)."""
    _enforce(checks.check_shared(_describe(model, label, hidden), inputs, units, activation),
             hidden)


def expect_params(model: Any, count: int, *, hidden: bool = False, label: str = "the model",
                  argument: str | None = None) -> None:
    """The model has `count` parameters."""
    _enforce(checks.check_params(_describe(model, label, hidden), count), hidden, argument)


def expect_compiled(model: Any, *, optimizer: str | None = None, loss: str | None = None,
                    metrics: Sequence[str] | None = None, hidden: bool = False,
                    label: str = "the model") -> None:
    """Compiled, with the given optimizer, loss and metrics (e.g. `metrics=["accuracy"]`)."""
    verdict = checks.check_compiled(_describe(model, label, hidden), optimizer=optimizer,
                                    loss=loss, metrics=metrics)
    _enforce(verdict, hidden)


def expect_compiled_by_name(model: Any, losses: Mapping[str, str], *,
                            metrics: Mapping[str, Sequence[str]] | None = None,
                            hidden: bool = False, label: str = "the model") -> None:
    """Losses (and metrics, loss weights) keyed by output name, e.g.
    `{"digit": "sparse_categorical_crossentropy", "parity": "binary_crossentropy"}`."""
    verdict = checks.check_compiled_by_name(_describe(model, label, hidden), losses,
                                            metrics=metrics)
    _enforce(verdict, hidden)


def expect_answer(value: Any, expected: Any, *, question: str, hidden: bool = False,
                  choices: Sequence[Any] | None = None) -> None:
    """A quiz answer equals `expected` (case- and space-insensitive); `choices` lists the
    valid options for a friendlier message."""
    _enforce(checks.check_answer(value, expected, question, choices), hidden)
