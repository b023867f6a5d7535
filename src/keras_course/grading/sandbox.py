"""The student's kernel in a box: bubblewrap, resource limits, capped output, a time budget.

`SandboxedExecute` is nbgrader's `Execute` with three changes, configured in
`nbgrader_config.py` in its place:

- the kernel starts inside bubblewrap (`bwrap`): the whole file system read-only, the course
  folder replaced by an empty one except the submission's own folder (writable) and the Python
  environment (read-only), a private /tmp, no network (the kernel talks to nbgrader over
  Unix sockets in a private folder), and its own process namespace, so every process the
  kernel started dies with it;
- `prlimit` caps its address space, file sizes and process count while it runs;
- each cell's output is capped while it arrives, and once a notebook has used its time budget
  (an endless loop that ignores interrupts) the kernel is killed and the remaining cells are
  not run, instead of each waiting for its own timeout.

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
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import from_dict
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, List, Unicode


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
                "--unshare-all", "--die-with-parent",
                "--setenv", "HOME", "/tmp", "--setenv", "MPLCONFIGDIR", "/tmp/matplotlib",
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


class SandboxedExecute(Execute):
    """nbgrader's Execute with the kernel sandboxed, output capped and a notebook time budget."""

    max_cell_output = Integer(2_000_000, help="characters of output kept per cell").tag(config=True)
    notebook_budget = Float(900.0, help="seconds one notebook may run in all").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)
        self._started = None
        self._budget_spent = False

    def preprocess(self, nb, resources=None, km=None):
        self._started = time.monotonic()
        self._budget_spent = False
        return super().preprocess(nb, resources, km=km)

    async def async_execute_cell(self, cell, cell_index, execution_count=None,
                                 store_history=True):
        if self._budget_spent:
            if cell.cell_type == "code":
                cell.outputs = [from_dict({
                    "output_type": "error", "ename": "NotRun",
                    "evalue": "not run: the notebook used up its time budget in an earlier cell",
                    "traceback": ["NotRun: not run: the notebook used up its time budget in an "
                                  "earlier cell"]})]
            return cell
        left = self.notebook_budget - (time.monotonic() - self._started)
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count,
                                                    store_history)
        except (CellTimeoutError, DeadKernelError):
            raise
        finally:
            if time.monotonic() - self._started > self.notebook_budget or left <= 0:
                self._budget_spent = True
                if self.km is not None:
                    await self.km.shutdown_kernel(now=True)

    def output(self, outs, msg, display_id, cell_index):
        """Keep a cell's output up to `max_cell_output` characters, then one notice."""
        if sum(len(str(o)) for o in outs) > self.max_cell_output:
            if not (outs and outs[-1].get("text") == TRUNCATED):
                outs.append(from_dict({"output_type": "stream", "name": "stdout",
                                       "text": TRUNCATED}))
            return None
        return super().output(outs, msg, display_id, cell_index)
