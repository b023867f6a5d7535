"""The student's kernel in a box: bubblewrap, resource limits, capped output, a time budget.

`SandboxedExecute` is nbgrader's `Execute` with these changes, configured in
`nbgrader_config.py` in its place:

- the kernel starts inside bubblewrap (`bwrap`): the whole file system read-only, the course
  folder replaced by an empty one except the submission's own folder (writable) and the Python
  environment (read-only), a private /tmp, no network (the kernel talks to nbgrader over
  Unix sockets in a private folder), and its own process namespace, so every process the
  kernel started dies with it;
- `prlimit` caps its address space, file sizes and process count while it runs;
- each cell's output is capped while it arrives (and a display may be updated only by the cell
  that made it), and once a notebook has used its time budget the kernel is killed and the
  remaining cells are not run, instead of each waiting for its own timeout;
- a kernel that dies (it exits, crashes, is killed for memory) or ignores the interrupt at a
  cell's timeout costs the rest of the notebook, not the submission: that cell gets an error
  saying what happened, later cells are marked as not run, and the tests that ran keep their
  points (nbclient would raise and nbgrader would fail the whole submission);
- test cells reach the kernel as `evidence.kernel_source` makes them: only the statements that
  record evidence, never the checks or their expected values.

bubblewrap is used because it needs no daemon and no root: it works the same on a grading
machine run by root and on a JupyterHub server where the grader is an ordinary user with user
namespaces. Where `bwrap` is missing, grading refuses to start unless
`SandboxedKernelManager.required` is set to False.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import from_dict
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, List, Unicode

from .evidence import kernel_source

TRUNCATED = "... output truncated here: this cell printed more than the grader keeps ...\n"


class SandboxUnavailableError(RuntimeError):
    """bubblewrap is not installed, and grading without it was not allowed."""


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel inside bubblewrap with resource limits."""

    course_root = Unicode("", help="folder hidden from the kernel (default: the course root)"
                          ).tag(config=True)
    hidden_paths = List(Unicode(), help="more folders the kernel must not see (an exchange)"
                        ).tag(config=True)
    memory_limit = Integer(8 * 1024**3, help="address-space limit of the kernel, bytes"
                           ).tag(config=True)
    file_size_limit = Integer(200 * 1024**2, help="largest file the kernel may write, bytes"
                              ).tag(config=True)
    process_limit = Integer(512, help="processes and threads the kernel may have").tag(config=True)
    required = Bool(True, help="refuse to grade when bwrap is missing").tag(config=True)
    bwrap = Unicode("bwrap", help="the bubblewrap executable").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._private = tempfile.mkdtemp(prefix="keras-course-kernel-")
        self.transport = "ipc"
        self.connection_file = os.path.join(self._private, "kernel.json")
        self.ip = os.path.join(self._private, "ipc")

    def sandbox_command(self, kernel_cmd: list[str], cwd: str) -> list[str]:
        """`kernel_cmd` wrapped in bwrap and prlimit, with `cwd` as the only writable folder."""
        bwrap = shutil.which(self.bwrap)
        if bwrap is None:
            if self.required:
                raise SandboxUnavailableError(
                    "bubblewrap (bwrap) is not installed, so student code cannot be contained. "
                    "Install it (Debian/Ubuntu: apt-get install bubblewrap) or, on a trusted "
                    "machine only, set c.SandboxedKernelManager.required = False.")
            self.log.warning("bwrap missing: grading WITHOUT a sandbox")
            return kernel_cmd
        root = Path(self.course_root or os.getcwd())
        cmd = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
               "--tmpfs", "/tmp"]
        hidden = [Path("/tmp"), root, *(Path(p) for p in self.hidden_paths)]
        for folder in hidden[1:]:
            if folder.is_dir():
                cmd += ["--tmpfs", str(folder)]
        # what the kernel needs from inside a hidden folder (a course or an environment under
        # /tmp, a virtualenv inside the course): Python, its environment and the helpers
        import keras_course

        needed = {Path(sys.prefix), Path(sys.base_prefix),
                  Path(sys.executable).resolve().parent.parent,
                  Path(keras_course.__file__).resolve().parents[1]}
        for path in sorted(needed):
            if any(_inside(path, folder) for folder in hidden):
                cmd += ["--ro-bind", str(path), str(path)]
        cmd += ["--bind", self._private, self._private, "--bind", cwd, cwd, "--chdir", cwd,
                # no capabilities: a root kernel could otherwise unmount the cover over the
                # course folder or remount / read-write
                "--unshare-all", "--die-with-parent", "--cap-drop", "ALL",
                "--setenv", "HOME", "/tmp", "--setenv", "MPLCONFIGDIR", "/tmp/matplotlib",
                # the submission's folder is not on sys.path: a planted `ipykernel_launcher.py`
                # or `keras_course/` next to the notebook cannot stand in for the real ones
                "--setenv", "PYTHONSAFEPATH", "1",
                # ipykernel's parent poller misreads the parent's pid in a pid namespace;
                # --die-with-parent does its job
                "--unsetenv", "JPY_PARENT_PID",
                "--", "prlimit", f"--as={self.memory_limit}", f"--fsize={self.file_size_limit}",
                f"--nproc={self.process_limit}", "--", *kernel_cmd]
        return cmd

    async def _async_pre_start_kernel(self, **kw):
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        cwd = str(Path(kw.get("cwd") or os.getcwd()).resolve())
        return self.sandbox_command(kernel_cmd, cwd), kw

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self._private, ignore_errors=True)


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


class SandboxedExecute(Execute):
    """nbgrader's Execute with the kernel sandboxed, output capped and a notebook time budget.

    A kernel that dies (it exited, crashed, or was killed, for example for memory) or that
    ignores the interrupt at a cell's timeout does not fail the submission: the cell gets an
    error saying so, the kernel is stopped, and every later cell is marked as not run, so the
    tests that already ran keep their points and the rest score zero. Test cells are sent to
    the kernel as `kernel_source` makes them: only the statements that record evidence.
    """

    max_cell_output = Integer(2_000_000, help="characters of output kept per cell").tag(config=True)
    notebook_budget = Float(900.0, help="seconds one notebook may run in all").tag(config=True)
    evidence_only = Bool(True, help=(
        "send the kernel only the statements of each autograded test cell that record "
        "evidence (`call`, `submitted`), never its checks or expected values")).tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)
        self._started = None
        self._stopped = None
        self._current_cell = None
        self._output_chars = {}

    def preprocess(self, nb, resources=None, km=None):
        self._started = time.monotonic()
        self._stopped = None
        self._current_cell = None
        self._output_chars = {}
        return super().preprocess(nb, resources, km=km)

    def _left(self) -> float:
        return self.notebook_budget - (time.monotonic() - self._started)

    def _get_timeout(self, cell):
        """A cell's timeout, never beyond what is left of the notebook's budget."""
        timeout = super()._get_timeout(cell)
        left = max(1, int(self._left()))
        return left if timeout is None else min(timeout, left)

    async def _stop_kernel(self, reason: str) -> None:
        self._stopped = reason
        if self.km is not None:
            try:
                await ensure_async(self.km.shutdown_kernel(now=True))
            except Exception as exc:  # noqa: BLE001 - a dead kernel may fail to shut down
                self.log.warning("stopping the kernel: %s", exc)

    async def async_execute_cell(self, cell, cell_index, execution_count=None,
                                 store_history=True):
        if self._stopped is not None:
            if cell.cell_type == "code" and cell.source.strip():
                cell.outputs = [_notice("NotRun", f"not run: {self._stopped}")]
            return cell
        self._current_cell = cell_index
        source = cell.source
        if self.evidence_only and cell.cell_type == "code" and utils.is_grade(cell) \
                and not utils.is_solution(cell):
            cell.source = kernel_source(source)
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count,
                                                    store_history)
        except DeadKernelError:
            text = ("the kernel died while this cell ran (it exited, crashed, or was killed, "
                    "for example for using too much memory)")
            self.log.warning("cell %s: %s", cell_index, text)
            cell.outputs.append(_notice("DeadKernelError", text))
            await self._stop_kernel("the kernel died in an earlier cell")
            return cell
        except CellTimeoutError:
            text = (f"this cell ran longer than {self._get_timeout(cell)} s and did not stop "
                    "when interrupted, so the kernel was stopped")
            self.log.warning("cell %s: %s", cell_index, text)
            cell.outputs.append(_notice("CellTimeoutError", text))
            await self._stop_kernel("an earlier cell did not finish and the kernel was stopped")
            return cell
        finally:
            cell.source = source
            if self._stopped is None and self._left() <= 0:
                self.log.warning("cell %s: the notebook used up its time budget", cell_index)
                await self._stop_kernel("the notebook used up its time budget in an earlier cell")

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
        output, which would let a later cell rewrite what an earlier one showed), within the
        cap."""
        cells = self._display_id_map.get(display_id, {})
        self._display_id_map[display_id] = {i: v for i, v in cells.items()
                                            if i == self._current_cell}
        size = _payload_size(msg.get("content"), self.max_cell_output)
        if self._count(self._current_cell, size):
            super()._update_display_id(display_id, msg)
