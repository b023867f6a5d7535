"""Kernels forked from a sandboxed process that has already imported TensorFlow.

Importing TensorFlow takes about 4 s and starting ipykernel about 1 s, in every kernel nbgrader
starts: half the time it takes to grade one of this course's notebooks. A grading worker that
uses `ForkingExecute` (in place of `SandboxedExecute`) instead keeps one *fork server* alive: a
process started once, inside bubblewrap, that imports TensorFlow, Keras, ipykernel and the
course's helpers and then only ever forks. Each kernel is a fork of it, so it starts in about
0.1 s with everything imported, and shares those pages with the server instead of holding its
own copy.

Student code never runs in the fork server, and each fork is boxed on top of the server's box.
The boundaries are those of `sandbox.py` (its docstring says, for each, what the kernel controls
and what the grader trusts); here is how the fork path keeps each one:

- **Server.** Started by each grading worker in bubblewrap with the kernel's view
  (`sandbox.view_args`), the allowlisted environment (the server itself starts with it), no
  network, its own process namespace; for a root grader with no user namespace and then
  `setpriv` to an unprivileged uid of its own (one per fork server, shared by its kernels),
  inside a cgroup of its own (`pids.max`, memory, CPU quota; the server and the one kernel it
  runs at a time share it); for an ordinary grader in bubblewrap's user namespace. It sees the
  folder of submissions READ-ONLY and the worker's folder of connection folders. It never reads
  a notebook, and dies with its worker.
- **Folder.** Each fork mounts a fresh size-capped tmpfs over the folder of submissions, copies
  its own submission's regular files into the same path (`boxinit.copy_regular_files`:
  O_NOFOLLOW, no links, FIFOs or devices, size-capped), and hides every other kernel's
  connection folder, before any student code runs. Nothing the kernel makes reaches the real
  folder, which nbgrader later writes, chmods and copies.
- **Environment.** The spawn request carries the kernel's environment already filtered by the
  allowlist (`sandbox.kernel_env`), and the fork filters it again before it becomes the kernel.
- **Namespaces.** Each fork enters new user, mount, process, IPC and network namespaces, mounts
  a fresh /tmp and /dev/shm (size-capped), then enters one more user and mount namespace,
  which locks those mounts (a process cannot unmount what a more privileged namespace mounted).
  The kernel is process 1 of its namespace: everything it starts dies with it. The server and
  each fork's supervisor are not dumpable, so the kernel can neither trace nor read them.
- **Resources.** Address space, file size and process count are capped per process as in
  `SandboxedExecute`; the kernel volunteers for the out-of-memory killer (oom_score_adj 500)
  so that a kernel that fills the cgroup's memory goes before the server.

Where the kernel is not an ipykernel, bubblewrap is missing, or the kernel's folder is not two
levels below a folder that holds nothing but submissions, the kernel manager starts the kernel
the ordinary sandboxed way instead (the same protections), so grading never depends on forking.
"""
from __future__ import annotations

import asyncio
import ctypes
import json
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from traitlets import Bool, List, Unicode

from .sandbox import (
    Cgroup,
    SandboxedExecute,
    SandboxedKernelManager,
    SandboxUid,
    _inside,
    cgroups_wanted,
    join_cgroup,
    kernel_env,
    namespace_args,
    parents_args,
    python_view,
    view_args,
)

#: What the fork server imports before it forks: what every notebook of the course imports.
PRELOAD = [
    "numpy", "tensorflow", "keras", "matplotlib", "matplotlib.pyplot", "sklearn.datasets",
    "networkx", "IPython", "ipykernel.kernelapp", "matplotlib_inline.backend_inline",
    "keras_course.notebook", "keras_course.data", "keras_course.plots", "keras_course.grading",
    "keras_course.expect", "keras_course.fixtures", "keras_course.describe",
]


_CLONE_NEWNS, _CLONE_NEWUTS, _CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
_CLONE_NEWUSER, _CLONE_NEWPID, _CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
_MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_REC, _MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE = 1, 4
_MSG = 1 << 20  # largest control message (a kernel's environment fits easily)


# --------------------------------------------------------------------------------------------
# Inside the sandbox: the server and each kernel's supervisor
# --------------------------------------------------------------------------------------------

def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _unshare(flags: int) -> None:
    _check(_libc().unshare(ctypes.c_int(flags)), "unshare")


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    def enc(text: str | None) -> bytes | None:
        return text.encode() if text is not None else None

    _check(_libc().mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


def _prctl(option: int, value: int) -> None:
    _check(_libc().prctl(ctypes.c_int(option), ctypes.c_ulong(value), ctypes.c_ulong(0),
                         ctypes.c_ulong(0), ctypes.c_ulong(0)), "prctl")


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _map_ids(uid: int, gid: int) -> None:
    """Map this process's own ids in the user namespace it has just entered."""
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1\n")
    _write("/proc/self/gid_map", f"{gid} {gid} 1\n")


def _box(req: dict) -> None:
    """Namespaces and mounts of one kernel (runs in the fresh fork, single-threaded)."""
    from .boxinit import copy_regular_files

    uid, gid = os.getuid(), os.getgid()
    _unshare(_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWIPC | _CLONE_NEWNET
             | _CLONE_NEWUTS)
    _map_ids(uid, gid)
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    cwd, own = req["cwd"], req["kernel_dir"]
    keep = [p for p in req.get("keep", []) if os.path.isdir(p)]
    # the submission's real folder (read-only in the server's view), opened before it is hidden
    seed = os.open(cwd, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    fds = [os.open(path, os.O_PATH | os.O_DIRECTORY) for path in [own, *keep]]
    sizes = req.get("sizes", {})
    # a fresh /tmp (the connection folders of every kernel live below the server's /tmp) and
    # /dev/shm, both size-capped
    _mount("tmpfs", "/tmp", "tmpfs", _MS_NOSUID | _MS_NODEV,
           f"mode=1777,size={int(sizes.get('tmp', 512 << 20))}")
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", _MS_NOSUID | _MS_NODEV,
               f"mode=1777,size={int(sizes.get('shm', 64 << 20))}")
    # the kernel's folder: the folder of all submissions replaced by a fresh size-capped tmpfs
    # holding only copies of this submission's regular files (nothing the kernel makes there
    # ever reaches the grader); every other kernel's connection folder hidden
    os.makedirs(req["submissions"], exist_ok=True)  # (it may have been below the old /tmp)
    _mount("tmpfs", req["submissions"], "tmpfs", _MS_NOSUID | _MS_NODEV,
           f"mode=0755,size={int(sizes.get('folder', 256 << 20))}")
    os.makedirs(cwd, exist_ok=True)
    copy_regular_files(seed, cwd, int(sizes.get("folder", 256 << 20)))
    os.close(seed)
    # links to the Python environment that lived in what was just covered (a `.venv` below
    # /tmp that links elsewhere)
    for target, link in req.get("links", []):
        if any(link == top or link.startswith(top + "/") for top in ("/tmp", req["submissions"])):
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if not os.path.lexists(link):
                os.symlink(target, link)
    # (the folder of every kernel's connection folder may have been below the old /tmp)
    os.makedirs(req["kernels"], exist_ok=True)
    _mount("tmpfs", req["kernels"], "tmpfs", _MS_NOSUID | _MS_NODEV, "mode=0755,size=1m")
    # then this kernel's connection folder, and the environment if it was under /tmp
    # (bind mounts keep their source's read-only flag)
    for path, fd in zip([own, *keep], fds):
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
        os.close(fd)


def _lock() -> None:
    """Enter one more user and mount namespace: the mounts made so far can no longer be undone."""
    uid, gid = os.getuid(), os.getgid()
    _unshare(_CLONE_NEWUSER | _CLONE_NEWNS)
    _map_ids(uid, gid)


def _run_kernel(req: dict) -> None:
    """Become the kernel (process 1 of its namespace). Never returns."""
    import resource

    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    _prctl(_PR_SET_DUMPABLE, 1)  # its own /proc files must stay its own to map its ids
    try:  # when memory runs out in the server's cgroup, the kernel goes before the server
        _write("/proc/self/oom_score_adj", "500")
    except OSError:
        pass
    try:  # a /proc that shows only this kernel's processes, where the kernel allows it (it
        # refuses while the server's /proc has covered parts; the server is undumpable then)
        _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | 8)  # 8: MS_NOEXEC
    except OSError:
        pass
    _lock()
    os.setsid()
    limits = req.get("limits", {})
    for name, value in (("RLIMIT_AS", limits.get("memory")), ("RLIMIT_FSIZE", limits.get("fsize")),
                        ("RLIMIT_NPROC", limits.get("nproc"))):
        if value:
            resource.setrlimit(getattr(resource, name), (int(value), int(value)))
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(kernel_env(req["env"], req.get("env_allow", ())))
    argv = req["argv"]
    sys.argv = ["ipykernel_launcher", *argv[argv.index("ipykernel_launcher") + 1:]]
    # as in the sandboxed kernel, the submission's folder is not on sys.path: a planted
    # `keras_course/` or `ipykernel.py` next to the notebook shadows nothing
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) not in (req["cwd"], "/tmp")]
    from ipykernel import kernelapp

    try:
        kernelapp.launch_new_instance()
    finally:
        os._exit(0)


def _supervise(req: dict, report: int) -> None:
    """The fork's first process: box it, start the kernel as process 1, relay signals."""
    try:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        _prctl(_PR_SET_DUMPABLE, 1)  # (the server is not) so that /proc/self stays writable
        _box(req)
        _prctl(_PR_SET_DUMPABLE, 0)  # the kernel may not trace or read this process
        kernel = os.fork()
    except BaseException as exc:  # noqa: BLE001 - reported to the server, which reports it on
        os.write(report, f"{type(exc).__name__}: {exc}".encode()[:2000])
        os._exit(70)
    if kernel == 0:
        os.close(report)
        try:
            _run_kernel(req)
        finally:
            os._exit(71)
    os.write(report, b"ok")
    os.close(report)

    def relay(signum, frame):
        # process 1 of a namespace ignores signals it has no handler for: stop it for good
        os.kill(kernel, signal.SIGINT if signum == signal.SIGINT else signal.SIGKILL)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, relay)
    while True:
        try:
            _, status = os.waitpid(kernel, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            status = 0
            break
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code & 0xFF)


class _Server:
    """The fork server's loop: requests arrive on a socket from the grading worker only."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.status: dict[int, int] = {}
        self.children: set[int] = set()

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            self.status[pid] = os.waitstatus_to_exitcode(status)

    def spawn(self, req: dict) -> dict:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            self.sock.close()
            try:
                _supervise(req, write)
            finally:
                os._exit(72)
        os.close(write)
        self.children.add(pid)
        ready, _, _ = select.select([read], [], [], 60)
        answer = os.read(read, 4096).decode(errors="replace") if ready else "no answer in 60 s"
        os.close(read)
        if answer != "ok":
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return {"error": f"could not start a forked kernel: {answer}"}
        return {"pid": pid}

    def handle(self, req: dict) -> dict:
        self.reap()
        op = req.get("op")
        if op == "spawn":
            return self.spawn(req)
        pid = int(req.get("pid", 0))
        if pid not in self.children and pid not in self.status:
            return {"error": f"no kernel {pid}"}
        if op == "poll":
            return {"status": self.status.get(pid)}
        if op == "signal":
            if pid in self.status:
                return {"status": self.status[pid]}
            try:
                os.kill(pid, int(req["sig"]))
            except ProcessLookupError:
                pass
            return {"ok": True}
        if op == "forget":
            self.status.pop(pid, None)
            return {"ok": True}
        return {"error": f"unknown request {op!r}"}

    def loop(self) -> None:
        while True:
            try:
                data = self.sock.recv(_MSG)
            except InterruptedError:
                continue
            if not data:
                return
            try:
                answer = self.handle(json.loads(data))
            except Exception as exc:  # noqa: BLE001 - answer, never die on a bad request
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            self.sock.send(json.dumps(answer).encode())


def serve(fd: int, preload: list[str]) -> None:
    """Main of the fork server: import what kernels need, say so, then serve fork requests."""
    sock = socket.socket(fileno=fd)
    _prctl(_PR_SET_DUMPABLE, 0)
    os.environ.pop("JPY_PARENT_PID", None)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    os.environ.update({"HOME": "/tmp", "MPLCONFIGDIR": "/tmp/matplotlib"})
    started = time.monotonic()
    import importlib

    failed = []
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(2)
    os.dup2(devnull, 2)  # TensorFlow's C++ start-up lines
    try:
        for name in preload:
            try:
                importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 - a missing module is imported by the kernel
                failed.append(f"{name} ({type(exc).__name__})")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    sock.send(json.dumps({"ready": True, "seconds": time.monotonic() - started,
                          "not_preloaded": failed, "pid": os.getpid()}).encode())
    quiet = os.open(os.devnull, os.O_WRONLY)  # the worker stops reading our output now
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    os.close(quiet)
    _Server(sock).loop()


# --------------------------------------------------------------------------------------------
# In the grading worker: start the server, and kernel managers that use it
# --------------------------------------------------------------------------------------------

class ForkServerError(RuntimeError):
    """The fork server could not be started or did not answer."""


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
        cmd = [bwrap, *view_args(manager.tmp_size, manager.shm_size), *namespace_args(root)]
        env = dict(os.environ)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        for key, value in kernel_env(env, manager.env_allow).items():
            cmd += ["--setenv", key, value]
        #: read-only folders each fork binds back after hiding /tmp and the submissions
        self.keep = [str(path) for path in python_view()[0]
                     if any(_inside(path, folder) for folder in (Path("/tmp"), writable_root))]
        # the submissions read-only (each fork copies its own folder's regular files into a
        # fresh tmpfs), the connection folders of this worker's kernels read-write
        cmd += [*parents_args(str(writable_root), str(kernel_root)),
                "--ro-bind", str(writable_root), str(writable_root),
                "--bind", str(kernel_root), str(kernel_root), "--chdir", "/tmp", "--"]
        if self.uid is not None:
            from .sandbox import become

            cmd += become(self.uid.uid)
        cmd += [sys.executable, "-m", "keras_course.grading.forkserver",
                "serve", str(theirs.fileno()), ",".join(preload)]
        if cgroups_wanted():
            self.cgroup = Cgroup(f"forkserver-{os.getpid()}-{id(self):x}",
                                 manager.process_limit, manager.cgroup_memory,
                                 manager.cgroup_cpus)
            cmd = join_cgroup(self.cgroup, cmd)
        import subprocess

        self.proc = subprocess.Popen(cmd, pass_fds=[theirs.fileno()], env={},
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        theirs.close()
        self.info: dict | None = None  # set when the server says it is ready

    def _wait_ready(self, timeout: float = 300) -> None:
        if self.info is not None:
            return
        ready, _, _ = select.select([self.sock], [], [], timeout)
        data = self.sock.recv(_MSG) if ready else b""
        stderr = self.proc.stderr
        assert stderr is not None  # started with stderr=PIPE
        if not data:
            self.proc.kill()
            err = stderr.read().decode(errors="replace")[-1500:] if ready else ""
            raise ForkServerError(f"the fork server did not start: {err or 'no answer'}")
        stderr.close()
        self.info = json.loads(data)

    def request(self, **msg) -> dict:
        with self.lock:
            self._wait_ready()
            if self.proc.poll() is not None:
                raise ForkServerError(f"the fork server exited ({self.proc.returncode})")
            self.sock.send(json.dumps(msg).encode())
            ready, _, _ = select.select([self.sock], [], [], 120)
            data = self.sock.recv(_MSG) if ready else b""
        if not data:
            raise ForkServerError("the fork server did not answer")
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
                import subprocess

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
                    raise ForkServerError(answer["error"])
        except ForkServerError as exc:
            self.log.warning("%s; starting this kernel without forking", exc)
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


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), [m for m in (sys.argv[3] if len(sys.argv) > 3 else "").split(",")
                                 if m])
    else:
        raise SystemExit("usage: python -m keras_course.grading.forkserver serve FD [MODULES]")
