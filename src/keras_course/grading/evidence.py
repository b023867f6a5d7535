"""Evidence for out-of-kernel grading: what a test cell's calls returned, and their replay.

A graded test cell runs twice. In the student's kernel, `call(build_sequential, 20, 3)` calls the
student's function, returns its result to the visible checks, and (under `nbgrader autograde`)
records what came back as a display output of the cell. After the kernel is done, the
`VerifyEvidence` preprocessor runs the instructor's copy of the same cell in the grader's own
process, where `call(...)` hands back the recorded results in order instead of calling anything.
The checks that decide the points therefore run where student code never ran. What the kernel
is sent of a test cell (only what records evidence, hidden calls last) is `cell_source.py`.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from .. import messages
from ..errors import CourseCheckError

#: MIME type of an evidence record in a cell's outputs.
EVIDENCE_MIME = "application/vnd.keras-course.evidence+json"

#: Largest record accepted, in characters of JSON (a contract model is about 10 000).
MAX_RECORD_CHARS = 2_000_000


class EvidenceError(CourseCheckError):
    """The grader found no usable record of what a test cell's calls returned."""


class CallFailedError(CourseCheckError):
    """A graded function raised an exception when a test called it."""


@dataclass(frozen=True)
class Placeholder:
    """Stands in, during replay, for a name the cell did not define (a student's function)."""

    name: str

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True)
class KernelOnly:
    """Stands in, during replay, for a value only the kernel computed (a fixture model)."""

    label: str


@dataclass
class Replay:
    """The recorded calls of one test cell, handed back in order.

    `filename` and `hidden_lines` say which lines of the replayed cell are hidden tests: a call
    made from one of them is named without its arguments in messages.
    """

    records: list[dict]
    position: int = 0
    used: list[str] = field(default_factory=list)
    filename: str = ""
    hidden_lines: frozenset[int] = frozenset()
    #: True for test cells after the first one whose hidden calls reached the kernel: code
    #: that saw those calls could echo them in what it raises, so no message of the cell
    #: repeats an exception's class or text.
    quiet: bool = False

    def in_hidden_test(self) -> bool:
        """True when the innermost frame of the replayed cell is on a hidden test's line."""
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.filename:
                return frame.f_lineno in self.hidden_lines
            frame = frame.f_back
        return False

    def unused(self) -> int:
        """How many records no call of the cell asked for (more records than calls)."""
        return len(self.records) - self.position

    def next_record(self, kind: str, label: str) -> dict:
        """The next record, which must be of `kind`; missing evidence is a failed check."""
        if self.position < len(self.records):
            record = self.records[self.position]
            self.position += 1
            if record.get("kind") == kind:
                self.used.append(label)
                return record
            raise EvidenceError(messages.RECORD_OUT_OF_ORDER.format(label=label))
        raise EvidenceError(messages.NO_RECORD.format(label=label))


_REPLAY: contextvars.ContextVar[Replay | None] = contextvars.ContextVar("replay", default=None)


@contextlib.contextmanager
def replaying(records: list[dict], filename: str = "",
              hidden_lines: frozenset[int] = frozenset(), quiet: bool = False
              ) -> Iterator[Replay]:
    """Within this block, `call` and `submitted` return recorded results instead of computing."""
    replay = Replay(list(records), filename=filename, hidden_lines=frozenset(hidden_lines),
                    quiet=quiet)
    token = _REPLAY.set(replay)
    try:
        yield replay
    finally:
        _REPLAY.reset(token)


def recording() -> bool:
    """True in a kernel run by `nbgrader autograde`, the only time evidence is recorded."""
    return os.environ.get("NBGRADER_EXECUTION") == "autograde"


def _jsonable(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy of a plain argument or answer; anything else becomes a short tag."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if depth < 4 and isinstance(value, (list, tuple)):
        return [_jsonable(v, depth + 1) for v in value]
    if depth < 4 and isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _jsonable(v, depth + 1) for k, v in value.items()}
    if hasattr(value, "item") and callable(value.item) and getattr(value, "shape", None) == ():
        return _jsonable(value.item(), depth)  # numpy scalars
    return {"__object__": type(value).__name__}


def _is_keras_model(value: Any) -> bool:
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(value, keras.Model)


def _describe_result(value: Any) -> dict:
    if _is_keras_model(value):
        from ..describe import model_evidence

        return {"type": "model", "evidence": model_evidence(value)}
    jsonable = _jsonable(value)
    if isinstance(jsonable, dict) and "__object__" in jsonable:
        text = repr(value)
        return {"type": "object", "class_name": type(value).__name__,
                "repr": text if len(text) <= 200 else text[:197] + "..."}
    return {"type": "value", "value": jsonable}


def _emit(record: dict) -> None:
    from IPython.display import display

    display({EVIDENCE_MIME: record}, raw=True)


def call_label(name: str, args: tuple | list, kwargs: dict, hidden: bool = False) -> str:
    """How a call is written in a message: `build_sequential(20, 3)`.

    A hidden test's call is named without its arguments: they are part of the hidden test.
    """
    if hidden:
        return messages.HIDDEN_CALL.format(name=name)

    def show(value: Any) -> str:
        if isinstance(value, KernelOnly):
            return value.label
        if _is_keras_model(value):
            return "a model"
        if isinstance(value, dict) and "__object__" in value:
            return "a model" if value["__object__"] in ("Sequential", "Functional") else "an object"
        return repr(value)

    parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    return f"`{name}({', '.join(parts)})`"


def call(func: Callable | Placeholder, *args: Any, **kwargs: Any) -> Any:
    """Call a graded function for a test; under autograde, record what it returned."""
    name = getattr(func, "name", None) if isinstance(func, Placeholder) else None
    name = name or getattr(func, "__name__", None) or "the function"
    replay = _REPLAY.get()
    if replay is not None:
        return _replay_call(replay, name, args, kwargs)
    label = call_label(name, args, kwargs)
    try:
        if isinstance(func, Placeholder):  # only replay makes one, and replay returned above
            raise TypeError("'Placeholder' object is not callable")
        result = func(*args, **kwargs)
    except Exception as exc:  # the student's code failed: report it kindly, record the failure
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if recording():
            _emit({"kind": "call", "function": name, "args": _jsonable(list(args)),
                   "kwargs": _jsonable(kwargs), "error": error[:1000]})
        raise CallFailedError(messages.call_failed(label, error)) from exc
    if recording():
        _emit({"kind": "call", "function": name, "args": _jsonable(list(args)),
               "kwargs": _jsonable(kwargs), "result": _describe_result(result)})
    return result


class _Stand_in:
    """What replay returns for a call whose result was neither a model nor plain data."""

    def __init__(self, class_name: str, text: str) -> None:
        self.class_name, self.text = class_name, text

    def __repr__(self) -> str:
        return self.text


def _same_argument(recorded: Any, replayed: Any) -> bool:
    if isinstance(replayed, (KernelOnly, Placeholder)):
        return True
    return recorded == _jsonable(replayed)


def _replay_call(replay: Replay, name: str, args: tuple, kwargs: dict) -> Any:
    hidden = replay.in_hidden_test()
    label = call_label(name, args, kwargs, hidden=hidden)
    record = replay.next_record("call", label)
    recorded_args = record.get("args") if isinstance(record.get("args"), list) else None
    raw_kwargs = record.get("kwargs")
    recorded_kwargs = raw_kwargs if isinstance(raw_kwargs, dict) else {}
    if (record.get("function") != name or recorded_args is None
            or len(recorded_args) != len(args)
            or not all(_same_argument(r, a) for r, a in zip(recorded_args, args))
            or set(recorded_kwargs) != set(kwargs)
            or not all(_same_argument(recorded_kwargs[k], v) for k, v in kwargs.items())):
        raise EvidenceError(messages.RECORD_MISMATCH.format(label=label))
    if "error" in record:
        raise CallFailedError(messages.call_failed(label, str(record["error"]), hidden=hidden,
                                                   quiet=replay.quiet))
    result = record.get("result")
    if not isinstance(result, dict):
        raise EvidenceError(messages.RECORD_UNREADABLE.format(label=label))
    if result.get("type") == "model":
        # The grader decides on its own rebuild of the recorded configuration (rebuild.py),
        # never on a description the kernel could have shaped.
        from .rebuild import describe_recorded

        try:
            return describe_recorded(result.get("evidence"))
        except CourseCheckError:
            raise
        except Exception as exc:
            raise EvidenceError(messages.RECORDED_MODEL_UNREADABLE.format(
                label=label, error=type(exc).__name__)) from exc
    if result.get("type") == "value":
        # A graded function must return a model: plain data (even a dict shaped like a model
        # description) is handed to the checks as an opaque stand-in, never as a description.
        value = result.get("value")
        if value is None:
            return None
        text = repr(value)
        return _Stand_in(type(value).__name__, text if len(text) <= 200 else text[:197] + "...")
    if result.get("type") == "object":
        if result.get("class_name") == "NoneType":
            return None
        return _Stand_in(str(result.get("class_name")), str(result.get("repr")))
    raise EvidenceError(messages.RECORD_UNREADABLE.format(label=label))


def submitted(name: str, value: Any = None) -> Any:
    """An answer (a quiz choice, a number) handed to a test; under autograde, recorded."""
    replay = _REPLAY.get()
    if replay is not None:
        record = replay.next_record("value", messages.ANSWER_LABEL.format(name=name))
        return record.get("value")
    if recording():
        _emit({"kind": "value", "name": name, "value": _jsonable(value)})
    return value


def kernel_only(builder: Callable) -> Callable:
    """Mark a fixture builder whose result only the kernel needs (replay skips calling it)."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _REPLAY.get() is not None:
            return KernelOnly(call_label(builder.__name__, args, kwargs).strip("`"))
        return builder(*args, **kwargs)

    wrapper.__name__ = builder.__name__
    wrapper.__doc__ = builder.__doc__
    wrapper.__dict__["__wrapped__"] = builder
    return wrapper


def parse_records(outputs: list[dict]) -> list[dict]:
    """The evidence records in a cell's outputs, in order; malformed ones are dropped.

    Records come from the student's kernel, so anything may be in them: text that is not JSON,
    JSON nested deeper than the parser goes, records too large to be a model's description.
    """
    records = []
    for output in outputs:
        if not isinstance(output, dict) or output.get("output_type") not in (
                "display_data", "execute_result"):
            continue
        data = output.get("data")
        record = data.get(EVIDENCE_MIME) if isinstance(data, dict) else None
        try:
            if isinstance(record, str):  # nbformat may keep +json bundles as text
                if len(record) > MAX_RECORD_CHARS:
                    continue
                record = json.loads(record)
            if isinstance(record, dict) and len(json.dumps(record)) <= MAX_RECORD_CHARS:
                records.append(record)
        except (ValueError, TypeError, RecursionError):
            continue
    return records
