"""How nbgrader's Execute runs a notebook in the sandboxed kernel: the grading protocol.

`SandboxedExecute` is nbgrader's `Execute` with these changes, configured in `nbgrader_config.py`
in its place (`make grade` uses `forkserver.ForkingExecute`, the same with forked kernels). The
kernel itself is boxed by `SandboxedKernelManager` (`sandbox.py`); here is what the grader does
with what the kernel sends:

- each cell's output is capped while it arrives (and a display may be updated only by the cell
  that made it), and once a notebook has used its time budget the kernel is killed and the
  remaining cells are not run, instead of each waiting for its own timeout;
- a kernel that dies (it exits, crashes, is killed for memory) or ignores the interrupt at a
  cell's timeout costs the rest of the notebook, not the submission: that cell gets an error
  saying what happened, later cells are marked as not run, and the tests that ran keep their
  points (nbclient would raise and nbgrader would fail the whole submission);
- test cells reach the kernel as `cell_source.kernel_source` makes them: only the statements that
  record evidence, never the checks or their expected values; with `hidden_last`, each test
  cell's hidden calls are sent after the notebook's last cell (see `SandboxedExecute`).
"""
from __future__ import annotations

import copy
import time

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import from_dict
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, default

from .. import messages
from ..coursedir import is_test_cell
from ..messages import TRUNCATED, WITHHELD
from .cell_source import HIDDEN_CALLS_KEY, hidden_lines, kernel_parts, kernel_source
from .sandbox import SandboxedKernelManager


def _notice(ename: str, text: str):
    return from_dict({"output_type": "error", "ename": ename, "evalue": text,
                      "traceback": [f"{ename}: {text}"]})


def _payload_size(value, limit: int, max_depth: int = 64) -> int:
    """Characters in a message's payload, counted without recursion; `limit + 1` when it is
    larger than `limit` or nested deeper than `max_depth` (the notebook writer recurses)."""
    size, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            return limit + 1
        if isinstance(item, str):
            size += len(item)
        elif isinstance(item, dict):
            size += len(item)
            stack.extend((v, depth + 1) for v in item.values())
            stack.extend((k, depth + 1) for k in item)
        elif isinstance(item, (list, tuple)):
            size += len(item) + 1
            stack.extend((v, depth + 1) for v in item)
        else:
            size += 8
        if size > limit:
            return limit + 1
    return size


def _withhold_after_hidden_tests(cells) -> None:
    """Replace the outputs of ordinary cells that ran after a hidden test's calls had reached the
    kernel (in their cells, as stock nbgrader sends them) by a one-line note: code in an earlier
    cell could have kept those calls and printed or drawn them."""
    hidden_seen = False
    for cell in cells:
        if is_test_cell(cell):
            hidden_seen = hidden_seen or bool(hidden_lines(cell.source))
        elif hidden_seen and cell.cell_type == "code" and cell.get("outputs"):
            cell.outputs = [from_dict({"output_type": "stream", "name": "stdout",
                                       "text": WITHHELD})]


class SandboxedExecute(Execute):
    """nbgrader's Execute with the kernel sandboxed, output capped and a notebook time budget.

    A kernel that dies (it exited, crashed, or was killed, for example for memory) or that
    ignores the interrupt at a cell's timeout does not fail the submission: the cell gets an
    error saying so, the kernel is stopped, and every later cell is marked as not run, so the
    tests that already ran keep their points and the rest score zero. Test cells are sent to
    the kernel as `kernel_source` makes them: only the statements that record evidence.

    Hidden calls last (`hidden_last`): each test cell's statements from its first hidden test on
    are sent after the notebook's last cell, in the cells' order, and their outputs join the
    cell's own. No cell of the notebook runs after a hidden call reached the kernel, so every
    output and picture of the graded notebook can be shown in feedback. When the kernel stops
    before the hidden calls were sent (it died or hung in a later cell), the notebook runs again
    in a fresh kernel up to the last such test cell with every test cell whole, as stock
    nbgrader runs it, so those tests keep the points they would have had; in that run, outputs
    of ordinary cells after the first hidden test are replaced by a one-line note (as they are
    in every run when `hidden_last` is off).
    """

    max_cell_output = Integer(2_000_000, help="characters of output kept per cell").tag(config=True)
    notebook_budget = Float(900.0, help="seconds one notebook may run in all").tag(config=True)
    evidence_only = Bool(True, help=(
        "send the kernel only the statements of each autograded test cell that record "
        "evidence (`call`, `submitted`), never its checks or expected values")).tag(config=True)
    hidden_last = Bool(True, help=(
        "send each test cell's hidden calls after the notebook's last cell, so that no cell "
        "runs after they reached the kernel")).tag(config=True)

    @default("shutdown_kernel")
    def _stop_at_once(self) -> str:
        # once the last cell has run, a graded kernel has nothing left to give: it is killed
        # (with its box) instead of asked to shut down, which waits for the kernel to exit
        # and cost about 2.5 s a notebook, and runs none of the submission's exit handlers
        return "immediate"

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)
        self._reset_run(defer=False)
        self._sending_hidden = False

    def preprocess(self, nb, resources=None, km=None):
        original = copy.deepcopy(nb) if self.hidden_last and self.evidence_only else None
        nb, resources = self._run(nb, resources, km, defer=original is not None)
        in_place = original is None
        if in_place:  # hidden calls reached the kernel in their cells: what ran after is withheld
            _withhold_after_hidden_tests(nb.cells)
        if self._unsent and original is not None:  # (only a deferring run leaves any unsent)
            last = max(self._unsent)
            self.log.warning(messages.RUNNING_AGAIN.format(cells=len(self._unsent),
                                                           last=last + 1))
            again = copy.deepcopy(original)
            again.cells = again.cells[:last + 1]
            again, resources = self._run(again, resources, None, defer=False)
            _withhold_after_hidden_tests(again.cells)  # the later cells ran before any hidden call
            nb.cells[:last + 1] = again.cells
            self.nb = nb
            in_place = True
        # how the hidden calls were sent, for `VerifyEvidence` (set on every run, so a
        # submission's own metadata never says it)
        nb.metadata[HIDDEN_CALLS_KEY] = "in place" if in_place else "last"
        return nb, resources

    def _run(self, nb, resources, km, defer: bool):
        self._reset_run(defer)
        return super().preprocess(nb, resources, km=km)

    def _reset_run(self, defer: bool) -> None:
        """The state of one run of the notebook, fresh."""
        self._started = time.monotonic()
        self._stopped: str | None = None
        self._current_cell = None
        self._output_chars: dict = {}
        self._defer = defer
        self._deferred: list = []
        self._unsent: list = []

    def _left(self) -> float:
        return self.notebook_budget - (time.monotonic() - self._started)

    def _get_timeout(self, cell):
        """A cell's timeout, never beyond what is left of the notebook's budget."""
        timeout = super()._get_timeout(cell)
        left = max(1, int(self._left()))
        return left if timeout is None else min(timeout, left)

    async def _stop_kernel(self, reason: str) -> None:
        """Stop the kernel; `reason` is a code of `messages.STOP_REASONS`."""
        self._stopped = reason
        if self.km is not None:
            try:
                await ensure_async(self.km.shutdown_kernel(now=True))
            except Exception as exc:  # noqa: BLE001 - a dead kernel may fail to shut down
                self.log.warning(messages.KERNEL_STOP_FAILED.format(error=exc))

    async def async_execute_cell(self, cell, cell_index, execution_count=None,
                                 store_history=True):
        source = cell.source
        later = ""
        if self.evidence_only and is_test_cell(cell):
            if self._defer:
                cell.source, later = kernel_parts(source)
            else:
                cell.source = kernel_source(source)
        try:
            cell = await self._execute(cell, cell_index, execution_count, store_history)
        finally:
            cell.source = source
        if later.strip() and self._stopped is None and not any(
                output.get("output_type") == "error" for output in cell.get("outputs", [])):
            self._deferred.append((cell, cell_index, later))  # a cell that raised stops there
        if self._defer and cell_index == len(self.nb.cells) - 1:
            await self._send_hidden_calls()
        return cell

    async def _send_hidden_calls(self) -> None:
        """Send the test cells' deferred parts, each cell's outputs following its own."""
        deferred, self._deferred = self._deferred, []
        if self._stopped is not None:  # stopped before any was sent: `preprocess` runs again
            self._unsent = [index for _, index, _ in deferred]
            return
        for cell, index, source in deferred:
            if self._stopped is not None:
                cell.outputs.append(_notice("NotRun", messages.NOT_RUN.format(
                    reason=messages.STOP_REASONS[self._stopped])))
                continue
            part = from_dict({"cell_type": "code", "execution_count": None, "source": source,
                              "metadata": copy.deepcopy(cell.metadata), "outputs": []})
            self._sending_hidden = True  # no display of the cell's own part may be updated
            try:
                part = await self._execute(part, index, None, True)
            finally:
                self._sending_hidden = False
                self.nb.cells[index] = cell  # nbclient puts the cell it ran in the notebook
            cell.outputs.extend(part.outputs)

    async def _execute(self, cell, cell_index, execution_count, store_history):
        if self._stopped is not None:
            if cell.cell_type == "code" and cell.source.strip():
                cell.outputs = [_notice("NotRun", messages.NOT_RUN.format(
                    reason=messages.STOP_REASONS[self._stopped]))]
            return cell
        self._current_cell = cell_index
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count,
                                                    store_history)
        except DeadKernelError:
            text = messages.KERNEL_DIED
            self.log.warning("cell %s: %s", cell_index, text)
            cell.outputs.append(_notice("DeadKernelError", text))
            await self._stop_kernel("died")
            return cell
        except CellTimeoutError as exc:
            if "IOPub" in str(exc):
                text = messages.OUTPUT_STILL_ARRIVING.format(seconds=self.iopub_timeout)
            else:
                text = messages.CELL_TIMED_OUT.format(seconds=self._get_timeout(cell))
            self.log.warning("cell %s: %s", cell_index, text)
            cell.outputs.append(_notice("CellTimeoutError", text))
            await self._stop_kernel("timeout")
            return cell
        finally:
            if self._stopped is None and self._left() <= 0:
                self.log.warning(messages.BUDGET_USED.format(cell=cell_index))
                await self._stop_kernel("budget")

    # nbclient binds its synchronous `execute_cell` (what nbconvert's ExecutePreprocessor calls)
    # to its own `async_execute_cell` when the class is defined: bind it to this one.
    execute_cell = run_sync(async_execute_cell)

    def _count(self, cell_index, size: int) -> bool:
        """Add `size` characters to a cell's output; False once it is over the cap."""
        used = self._output_chars.get(cell_index, 0) + size
        self._output_chars[cell_index] = used
        return used <= self.max_cell_output

    def output(self, outs, msg, display_id, cell_index):
        """Keep a cell's output up to `max_cell_output` characters, then one notice."""
        size = _payload_size(msg.get("content"), self.max_cell_output)
        if not self._count(cell_index, size):
            if not (outs and outs[-1].get("text") == TRUNCATED):
                outs.append(from_dict({"output_type": "stream", "name": "stdout",
                                       "text": TRUNCATED}))
            return None
        return super().output(outs, msg, display_id, cell_index)

    def _update_display_id(self, display_id, msg):
        """A display may be updated only in the cell that is running (never an earlier cell's
        output, which would let a later cell rewrite what an earlier one showed), never while
        hidden calls are sent (their evidence must not rewrite the cell's visible records), and
        within the cap."""
        if self._sending_hidden:  # what the cell showed before its hidden calls stays as it was
            return
        cells = self._display_id_map.get(display_id, {})
        self._display_id_map[display_id] = {i: v for i, v in cells.items()
                                            if i == self._current_cell}
        size = _payload_size(msg.get("content"), self.max_cell_output)
        if self._count(self._current_cell, size):
            super()._update_display_id(display_id, msg)
