"""Kernels forked from a sandboxed process that has already imported TensorFlow: the worker's side.

Importing TensorFlow takes about 4 s and starting ipykernel about 1 s, in every kernel nbgrader
starts: half the time it takes to grade one of this course's notebooks. A grading worker that
uses `ForkingExecute` (in place of `execute.SandboxedExecute`) instead keeps one *fork server*
alive: a process started once, inside bubblewrap, that imports TensorFlow, Keras, ipykernel and
the course's helpers and then only ever forks (`forkserver_box.py`, the code that runs in the
box). Each kernel is a fork of it, so it starts in about 0.1 s with everything imported, and
shares those pages with the server instead of holding its own copy.

This module runs in the grading worker: it starts the server (`ForkServer`), asks it for kernels
and tells jupyter_client about them (`ForkingKernelManager`, `ForkedKernelProcess`). Student code
never runs in the fork server, and each fork is boxed on top of the server's box (see
`forkserver_box.py`). The boundaries are those of `sandbox.py`; the server's own box:

- **Server.** Started by each grading worker with `box.bwrap_command`, as each kernel is: the
  kernel's view, the allowlisted environment (the server itself starts with it), no network,
  its own process namespace; for a root grader with no user namespace and then `setpriv` to an
  unprivileged uid of its own (one per fork server, shared by its kernels), inside a cgroup of
  its own (`pids.max`, memory, CPU quota; the server and the one kernel it runs at a time share
  it); for an ordinary grader in bubblewrap's user namespace. It sees the folder of
  submissions READ-ONLY and the worker's folder of connection folders. It never reads a
  notebook, and dies with its worker.
- **Environment.** The spawn request carries the kernel's environment already filtered by the
  allowlist (`box.kernel_env`); the fork filters it again before it becomes the kernel.

Where the kernel is not an ipykernel, bubblewrap is missing, or the kernel's folder is not two
levels below a folder that holds nothing but submissions, the kernel manager starts the kernel
the ordinary sandboxed way instead (the same protections), so grading never depends on forking.
"""
from __future__ import annotations

import asyncio
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from traitlets import Bool, List, Unicode

from .. import messages
from ..coursedir import quiet_tf
from .box import Bind, _inside, bwrap_command, kernel_env, python_view
from .execute import SandboxedExecute
from .forkserver_box import MSG_SIZE
from .limits import Cgroup, SandboxUid, cgroups_wanted, join_cgroup
from .sandbox import SandboxedKernelManager

#: What the fork server imports before it forks: what every notebook of the course imports.
PRELOAD = [
    "numpy", "tensorflow", "keras", "matplotlib", "matplotlib.pyplot", "sklearn.datasets",
    "networkx", "IPython", "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger",
    "matplotlib_inline.backend_inline",
    "keras_course.notebook", "keras_course.data", "keras_course.plots", "keras_course.grading",
    "keras_course.expect", "keras_course.fixtures", "keras_course.describe",
]


class ForkServerError(RuntimeError):
    """The fork server could not be started, did not answer, or could not fork a kernel;
    `code` is one of `messages.FORK_SERVER_ERRORS` (the fork server answers with the same)."""

    def __init__(self, code: str, detail: object = "") -> None:
        if code not in messages.FORK_SERVER_ERRORS:  # (an answer of a newer or broken server)
            code, detail = "bad_request", f"{code}: {detail}"
        self.code, self.detail = code, detail
        super().__init__(messages.FORK_SERVER_ERRORS[code].format(detail=detail))


def server_box(manager: SandboxedKernelManager, bwrap: str, writable_root: Path,
               kernel_root: Path, uid: int | None) -> list[str]:
    """bubblewrap (and setpriv) up to the fork server's command: the kernel's view and
    environment (TensorFlow quiet), the folder of submissions read-only (each fork copies its
    own folder's regular files into a fresh tmpfs), the connection folders of this worker's
    kernels read-write."""
    env = dict(os.environ)
    quiet_tf(env)
    return bwrap_command(
        bwrap, uid=uid, env=env, env_allow=manager.env_allow, tmp_size=manager.tmp_size,
        shm_size=manager.shm_size,
        mounts=[Bind(str(writable_root), str(writable_root)),
                Bind(str(kernel_root), str(kernel_root), writable=True)])


class ForkServer:
    """A fork server in bubblewrap, started by this process for kernels below `writable_root`."""

    def __init__(self, manager: SandboxedKernelManager, writable_root: Path, bwrap: str,
                 preload: list[str], kernel_root: Path) -> None:
        self.writable_root = writable_root
        self.kernel_root = kernel_root
        self.lock = threading.Lock()
        self.uid: SandboxUid | None = None
        self.cgroup: Cgroup | None = None
        root = os.geteuid() == 0
        if root:  # an unprivileged uid of its own, for the server and its kernels
            self.uid = SandboxUid(manager.uid_range)
            os.chmod(kernel_root, 0o711)
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        #: read-only folders each fork binds back after hiding /tmp and the submissions
        self.keep = [str(path) for path in python_view()[0]
                     if any(_inside(path, folder) for folder in (Path("/tmp"), writable_root))]
        cmd = [*server_box(manager, bwrap, writable_root, kernel_root,
                           None if self.uid is None else self.uid.uid),
               sys.executable, "-m", "keras_course.grading.forkserver_box",
               "serve", str(theirs.fileno()), ",".join(preload)]
        if cgroups_wanted():
            self.cgroup = Cgroup(f"forkserver-{os.getpid()}-{id(self):x}",
                                 manager.process_limit, manager.cgroup_memory,
                                 manager.cgroup_cpus)
            cmd = join_cgroup(self.cgroup, cmd)
        self.proc = subprocess.Popen(cmd, pass_fds=[theirs.fileno()], env={},
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        theirs.close()
        self.info: dict | None = None  # set when the server says it is ready

    def _wait_ready(self, timeout: float = 300) -> None:
        if self.info is not None:
            return
        ready, _, _ = select.select([self.sock], [], [], timeout)
        data = self.sock.recv(MSG_SIZE) if ready else b""
        stderr = self.proc.stderr
        assert stderr is not None  # started with stderr=PIPE
        if not data:
            self.proc.kill()
            if not ready:
                raise ForkServerError("no_answer", timeout)
            err = stderr.read().decode(errors="replace")[-1500:].strip()
            raise ForkServerError("not_started", err or messages.NO_ERROR_OUTPUT)
        stderr.close()
        self.info = json.loads(data)

    def request(self, **msg) -> dict:
        with self.lock:
            self._wait_ready()
            if self.proc.poll() is not None:
                raise ForkServerError("exited", self.proc.returncode)
            self.sock.send(json.dumps(msg).encode())
            ready, _, _ = select.select([self.sock], [], [], 120)
            data = self.sock.recv(MSG_SIZE) if ready else b""
        if not data:
            raise ForkServerError("no_answer", 120)
        return json.loads(data)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        try:
            self.sock.close()
            self.proc.wait(timeout=5)
        except Exception:  # noqa: BLE001
            self.proc.kill()
        if self.cgroup is not None:
            self.cgroup.remove()
        if self.uid is not None:
            self.uid.release()


class ForkedKernelProcess:
    """What jupyter_client's provisioner needs of a kernel process (a `Popen`'s methods)."""

    stdin = stdout = stderr = None

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server, self.pid = server, pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                self.returncode = self.server.request(op="poll", pid=self.pid).get("status")
            except ForkServerError:
                self.returncode = -signal.SIGKILL
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("forked kernel", timeout or 0.0)
            time.sleep(0.05)
        try:
            self.server.request(op="forget", pid=self.pid)
        except ForkServerError:
            pass
        return self.returncode if self.returncode is not None else -signal.SIGKILL

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            self.server.request(op="signal", pid=self.pid, sig=int(signum))

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


_SERVERS: dict[str, ForkServer] = {}
_SERVERS_LOCK = threading.Lock()
_KERNEL_ROOT: Path | None = None


def kernel_root() -> Path:
    """This process's folder for kernel connection files (bound into its fork servers)."""
    global _KERNEL_ROOT
    if _KERNEL_ROOT is None:
        _KERNEL_ROOT = Path(tempfile.mkdtemp(prefix="keras-course-forks-"))
        import atexit

        atexit.register(shutdown_servers)
    return _KERNEL_ROOT


def shutdown_servers() -> None:
    """Stop this process's fork servers and remove their folders."""
    with _SERVERS_LOCK:
        for server in _SERVERS.values():
            server.close()
        _SERVERS.clear()
    if _KERNEL_ROOT is not None:
        shutil.rmtree(_KERNEL_ROOT, ignore_errors=True)


def server_info() -> list[dict]:
    """Pid, start-up seconds and writable folder of each running fork server (for reports)."""
    return [{**(s.info or {}), "host_pid": s.proc.pid, "writable_root": str(s.writable_root)}
            for s in _SERVERS.values() if s.alive()]


class ForkingKernelManager(SandboxedKernelManager):
    """A sandboxed kernel manager whose kernels are forks of a fork server (see the module)."""

    fork = Bool(True, help="fork kernels from a fork server; False starts each one afresh"
                ).tag(config=True)
    preload = List(Unicode(), PRELOAD, help="modules the fork server imports").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        shutil.rmtree(self._private, ignore_errors=True)
        self._private = tempfile.mkdtemp(prefix="kernel-", dir=kernel_root())
        self.connection_file = os.path.join(self._private, "kernel.json")
        self.ip = os.path.join(self._private, "ipc")
        self._fork_cwd: str | None = None

    async def _async_pre_start_kernel(self, **kw):
        # the ordinary kernel command: the fork server boxes each fork itself
        kernel_cmd, kw = await super(SandboxedKernelManager, self)._async_pre_start_kernel(**kw)
        self._fork_cwd = str(Path(kw.get("cwd") or os.getcwd()).resolve())
        return kernel_cmd, kw

    def _server_for(self, cwd: Path, kernel_cmd: list[str]) -> ForkServer | None:
        """The fork server for a kernel in `cwd`, or None where forking does not apply."""
        if not self.fork or "ipykernel_launcher" not in kernel_cmd:
            return None
        bwrap = shutil.which(self.bwrap)
        root = Path(self.course_root or os.getcwd()).resolve()
        writable = cwd.parent.parent
        if bwrap is None or _inside(root, writable):
            return None  # the server would see the whole course: start kernels afresh
        key = str(writable)
        with _SERVERS_LOCK:
            server = _SERVERS.get(key)
            if server is None or not server.alive():
                if server is not None:
                    server.close()
                server = ForkServer(self, writable, bwrap, list(self.preload), kernel_root())
                _SERVERS[key] = server
        return server

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        cwd = Path(self._fork_cwd or os.getcwd())
        env = {k: str(v) for k, v in (kw.get("env") or os.environ).items()}
        self._check_view()
        try:
            server = self._server_for(cwd, kernel_cmd)
            if server is not None:
                live = server
                if live.uid is not None:  # the kernel runs as the server's uid
                    os.chown(self._private, live.uid.uid, live.uid.uid)
                    os.chown(self.connection_file, live.uid.uid, live.uid.uid)
                answer = await asyncio.get_running_loop().run_in_executor(
                    None, lambda: live.request(
                        op="spawn", argv=list(kernel_cmd), env=kernel_env(env, self.env_allow),
                        env_allow=list(self.env_allow), cwd=str(cwd),
                        kernel_dir=self._private, keep=live.keep, links=python_view()[1],
                        submissions=str(live.writable_root), kernels=str(live.kernel_root),
                        sizes={"folder": self.folder_size, "tmp": self.tmp_size,
                               "shm": self.shm_size},
                        limits={"memory": self.memory_limit, "fsize": self.file_size_limit,
                                "nproc": self.process_limit}))
                if "error" in answer:
                    raise ForkServerError(answer["error"], answer.get("detail", ""))
        except ForkServerError as exc:
            self.log.warning(messages.FORK_FALLBACK.format(error=exc))
            server = None
        if server is None:
            await super()._async_launch_kernel(
                self.sandbox_command(kernel_cmd, str(cwd), kw.get("env")), **kw)
            return
        # jupyter_client's LocalProvisioner, told about the process the fork server started
        provisioner: Any = self.provisioner
        provisioner.process = ForkedKernelProcess(server, answer["pid"])
        provisioner.pid, provisioner.pgid, provisioner.cwd = answer["pid"], None, str(cwd)
        self._reconcile_connection_info(provisioner.connection_info)


class ForkingExecute(SandboxedExecute):
    """`SandboxedExecute` whose kernels are forks of a fork server (for long-lived workers)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kernel_manager_class = ForkingKernelManager
