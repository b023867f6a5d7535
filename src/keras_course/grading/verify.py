"""The autograde step that decides each test cell's points outside the student's kernel.

Configured in `nbgrader_config.py` right after `Execute`. For every autograded test cell it runs
the instructor's copy of the cell (restored from the gradebook by nbgrader's `OverwriteCells`)
against the evidence the kernel recorded, and replaces the cell's outputs with the verdict: no
output when every check passes, one short error when one fails. nbgrader then scores the cell
from those outputs as usual, so whatever the kernel printed or faked in that cell counts for
nothing.
"""
from __future__ import annotations

import ast
import builtins
import importlib.abc
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader.preprocessors import NbGraderPreprocessor

from .. import messages
from ..coursedir import is_test_cell
from ..errors import CourseCheckError
from .cell_source import (
    HIDDEN_CALLS_KEY,
    evidence_calls,
    hidden_lines,
    visible_calls_after_hidden,
)
from .evidence import EvidenceError, Placeholder, parse_records, replaying

#: Modules a test cell may not need during replay: the grader's process never imports them.
KERNEL_MODULES = ("tensorflow", "keras", "tf_keras", "jax", "torch")


class ReplayImportError(ImportError):
    """A test cell tried to import a kernel-only module while being verified."""


class _RefuseKernelModules(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in KERNEL_MODULES:
            raise ReplayImportError(messages.REPLAY_IMPORT.format(name=name))
        return None


@contextmanager
def _without_kernel_modules() -> Iterator[None]:
    """Replay as in the grader's process, where no kernel module is loaded: one that this
    process loaded already (a test run, a notebook) is set aside meanwhile, so importing it is
    refused here too."""
    finder = _RefuseKernelModules()
    loaded = {name: sys.modules.pop(name) for name in list(sys.modules)
              if name.split(".")[0] in KERNEL_MODULES}
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        sys.modules.update(loaded)


def free_names(source: str) -> set[str]:
    """Names a cell reads but neither binds nor gets from builtins (the student's functions)."""
    tree = ast.parse(source)
    bound: set[str] = set()
    read: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return {n for n in read - bound if not hasattr(builtins, n)}


class Verdict(dict):
    """passed, ename and message of one verified test cell."""


def verify_cell(source: str, outputs: list[dict], grade_id: str = "cell",
                quiet: bool = False) -> Verdict:
    """Run a test cell's source against the evidence in its outputs, outside any kernel.

    `quiet`: hidden calls of an earlier cell reached the kernel, so every message of this one
    names the concept only (see `Replay.quiet`)."""
    try:
        return _verify_cell(source, outputs, grade_id, quiet)
    except Exception as exc:  # noqa: BLE001 - whatever the evidence held, the verdict is zero
        return Verdict(passed=False, ename="GraderError", message=(
            messages.GRADER_COULD_NOT_CHECK.format(grade_id=grade_id, error=type(exc).__name__)),
            detail=repr(exc)[:500])


def _verify_cell(source: str, outputs: list[dict], grade_id: str, quiet: bool = False
                 ) -> Verdict:
    records = parse_records(outputs)
    namespace: dict[str, Any] = {"__name__": "__keras_course_replay__"}
    filename = f"<test cell {grade_id}>"
    try:
        code = compile(source, filename, "exec")
        namespace.update({n: Placeholder(n) for n in free_names(source)})
    except SyntaxError as exc:
        return Verdict(passed=False, ename="GraderError", message=(
            messages.GRADER_COULD_NOT_READ.format(grade_id=grade_id, error=exc.msg)))
    try:
        with _without_kernel_modules(), replaying(records, filename, hidden_lines(source),
                                                  quiet=quiet) as replay:
            exec(code, namespace)
    except CourseCheckError as exc:
        return Verdict(passed=False, ename=type(exc).__name__, message=str(exc))
    except Exception as exc:  # the instructor's test cell is broken: say so, score zero
        return Verdict(passed=False, ename="GraderError", message=(
            messages.GRADER_COULD_NOT_RUN.format(grade_id=grade_id, error=type(exc).__name__)),
            detail=repr(exc)[:500])
    if replay.unused():  # the kernel recorded calls the test never made: not its evidence
        return Verdict(passed=False, ename=EvidenceError.__name__, message=(
            messages.MORE_RECORDS_THAN_CALLS.format(grade_id=grade_id)))
    if not replay.used:
        return Verdict(passed=False, ename=EvidenceError.__name__, message=(
            messages.NOTHING_CHECKED.format(grade_id=grade_id)))
    return Verdict(passed=True, ename="", message="")


def kernel_stop_reason(outputs: list[dict]) -> str:
    """What the kernel's own run of a cell ended with, for the instructor's log."""
    for output in outputs:
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {str(output.get('evalue'))[:200]}"
    return "no error"


def error_output(ename: str, message: str) -> NotebookNode:
    """A notebook error output holding a check's message as a one-line traceback."""
    return from_dict({"output_type": "error", "ename": ename, "evalue": message,
                      "traceback": [f"{ename}: {message}"]})


class VerifyEvidence(NbGraderPreprocessor):
    """Replace each autograded test cell's outputs with the verdict of its out-of-kernel checks.

    It never fails a notebook: a cell whose evidence cannot be checked scores zero with a
    reason, and every other cell is still verified.
    """

    def __init__(self, **kw):
        super().__init__(**kw)
        if self.enabled:  # Keras loads in the rebuild service while the kernel runs
            from .rebuild import service

            service().start()

    def preprocess(self, nb, resources):
        """Rebuild every model the notebook's test cells recorded in one request, then verify
        each cell (the cells' checks then find their models rebuilt already)."""
        from .rebuild import recorded_models, service

        texts = []
        self._hidden_seen = False
        # hidden calls sent after the notebook's last cell: no cell's evidence was recorded
        # after them, so messages may repeat what the code raised (see `SandboxedExecute`)
        self._hidden_last = nb.metadata.get(HIDDEN_CALLS_KEY) == "last"
        for cell in nb.cells:
            if is_test_cell(cell):
                try:
                    models = recorded_models(parse_records(cell.get("outputs", [])))
                except Exception:  # noqa: BLE001 - the cell's own verification reports it
                    continue
                # no more than the instructor's cell asks for: a flood of records costs the
                # grader nothing (extra records fail the cell; a loop's later calls rebuild
                # on demand)
                texts.extend(models[:evidence_calls(cell.source)])
        if texts:
            started = time.monotonic()
            service().prefetch(texts)
            self.log.debug("rebuilt %d models in %.2f s", len(texts), time.monotonic() - started)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        if not is_test_cell(cell):
            return cell, resources
        grade_id = str(cell.metadata["nbgrader"].get("grade_id", f"cell {cell_index}"))
        outputs = cell.get("outputs", [])
        late = getattr(self, "_hidden_last", False) and visible_calls_after_hidden(cell.source)
        verdict = verify_cell(cell.source, outputs, grade_id,
                              quiet=getattr(self, "_hidden_seen", False) or late)
        if hidden_lines(cell.source) and not getattr(self, "_hidden_last", False):
            self._hidden_seen = True  # its hidden calls reached the kernel: later cells quiet
        if not verdict["passed"]:
            try:
                stop = kernel_stop_reason(outputs)
            except Exception:  # noqa: BLE001 - only for the log
                stop = "unreadable outputs"
            self.log.info("%s: %s (kernel: %s)%s", grade_id, verdict["ename"], stop,
                          f" [{verdict['detail']}]" if verdict.get("detail") else "")
        cell.outputs = [] if verdict["passed"] else [error_output(verdict["ename"],
                                                                 verdict["message"])]
        return cell, resources
