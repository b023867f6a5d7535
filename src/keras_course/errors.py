"""The exceptions a failed course check raises: one base class, one subclass per kind of check."""
from __future__ import annotations

from typing import Any


class CourseCheckError(AssertionError):
    """A student-facing failed check; its message says what was checked and what to do next.

    A subclass of `AssertionError`, so nbgrader and pytest treat it as a failed test.
    """

    #: The check this kind of error reports (see `keras_course.checks`).
    check = "model"

    def __init__(self, message: str, *, verdict: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.verdict = verdict


class NotAModelError(CourseCheckError):
    """What was handed to a model check is not a Keras model (None, a layer, a function...)."""

    check = "model"


class WrongAPIError(CourseCheckError):
    """The model was built with another API than the task asks for."""

    check = "api"


class NotBuiltError(CourseCheckError):
    """The model has no inputs yet (a `Sequential` model without `keras.Input`)."""

    check = "built"


class WrongInputsError(CourseCheckError):
    """The model's inputs have other names, shapes or count than the task asks for."""

    check = "inputs"


class WrongOutputsError(CourseCheckError):
    """The model's outputs have other names, shapes, activations or count."""

    check = "outputs"


class WrongLayersError(CourseCheckError):
    """The chain of layers from an input to an output is not the one the task describes."""

    check = "chain"


class MissingConnectionError(CourseCheckError):
    """An output does not depend on an input, or no layer merges two branches."""

    check = "depends"


class MissingSkipError(CourseCheckError):
    """No skip connection bypasses a block of layers."""

    check = "skip"


class NotSharedError(CourseCheckError):
    """No single layer object serves every input that should share it."""

    check = "shared"


class WrongParamCountError(CourseCheckError):
    """The model's parameter count is not the one the architecture implies."""

    check = "params"


class WrongCompileError(CourseCheckError):
    """The model is not compiled, or not with the optimizer, losses or metrics asked for."""

    check = "compiled"


class WrongAnswerError(CourseCheckError):
    """A quiz answer is not the expected choice."""

    check = "answer"


#: The exception each check raises when it fails.
ERROR_FOR_CHECK: dict[str, type[CourseCheckError]] = {
    "model": NotAModelError,
    "api": WrongAPIError,
    "built": NotBuiltError,
    "inputs": WrongInputsError,
    "outputs": WrongOutputsError,
    "chain": WrongLayersError,
    "depends": MissingConnectionError,
    "merge": MissingConnectionError,
    "skip": MissingSkipError,
    "shared": NotSharedError,
    "params": WrongParamCountError,
    "compiled": WrongCompileError,
    "compiled_by_name": WrongCompileError,
    "answer": WrongAnswerError,
}


def error_for(check: str) -> type[CourseCheckError]:
    """The exception class that reports a failure of `check`."""
    return ERROR_FOR_CHECK.get(check, CourseCheckError)
