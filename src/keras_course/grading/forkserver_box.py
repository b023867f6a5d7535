"""The fork server: the process inside the box that imports TensorFlow once and forks kernels.

Runs as `python -m keras_course.grading.forkserver_box serve FD MODULES`, started inside
bubblewrap by the grading worker (`forkserver.ForkServer`, which says how the server's own box is
built). It imports MODULES, says it is ready on the socket FD, then only answers the worker's
requests on that socket: spawn a kernel, poll it, signal it, forget it. Answers are JSON; an
error is a code (`{"error": "spawn_failed", "detail": ...}`) that the worker puts in words.
Student code never runs in this process. The standard library only, besides `box.kernel_env`
and `boxinit.copy_regular_files`: this is what the sandbox runs.

Each fork is boxed on top of the server's box before any student code runs:

- **Folder.** A fresh size-capped tmpfs over the folder of submissions, its own submission's
  regular files copied into the same path (`boxinit.copy_regular_files`: O_NOFOLLOW, no links,
  FIFOs or devices, size-capped), every other kernel's connection folder hidden. Nothing the
  kernel makes reaches the real folder, which nbgrader later writes, chmods and copies.
- **Environment.** The spawn request carries the kernel's environment already filtered by the
  allowlist (`box.kernel_env`), and the fork filters it again before it becomes the kernel.
- **Namespaces.** New user, mount, process, IPC, UTS and network namespaces, a fresh /tmp and
  /dev/shm (size-capped), then one more user and mount namespace, which locks those mounts (a
  process cannot unmount what a more privileged namespace mounted). The kernel is process 1 of
  its namespace: everything it starts dies with it. The server and each fork's supervisor are
  not dumpable, so the kernel can neither trace nor read them.
- **Resources.** Address space, file size and process count are capped per process as in
  `boxinit.py`; the kernel volunteers for the out-of-memory killer (oom_score_adj 500) so that
  a kernel that fills the cgroup's memory goes before the server.
"""
from __future__ import annotations

import ctypes
import gc
import json
import os
import select
import signal
import socket
import sys
import time

from .box import kernel_env

_CLONE_NEWNS, _CLONE_NEWUTS, _CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
_CLONE_NEWUSER, _CLONE_NEWPID, _CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
_MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_REC, _MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE = 1, 4
#: The largest control message (a kernel's environment fits easily).
MSG_SIZE = 1 << 20
#: Seconds a fork has to say it has become a kernel.
SPAWN_SECONDS = 60


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
        ready, _, _ = select.select([read], [], [], SPAWN_SECONDS)
        answer = os.read(read, 4096).decode(errors="replace") if ready else None
        os.close(read)
        if answer != "ok":
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if answer is None:
                return {"error": "spawn_timeout", "detail": SPAWN_SECONDS}
            return {"error": "spawn_failed", "detail": answer}
        return {"pid": pid}

    def handle(self, req: dict) -> dict:
        self.reap()
        op = req.get("op")
        if op == "spawn":
            return self.spawn(req)
        pid = int(req.get("pid", 0))
        if pid not in self.children and pid not in self.status:
            return {"error": "no_kernel", "detail": pid}
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
        return {"error": "unknown_request", "detail": repr(op)}

    def loop(self) -> None:
        while True:
            try:
                data = self.sock.recv(MSG_SIZE)
            except InterruptedError:
                continue
            if not data:
                return
            try:
                answer = self.handle(json.loads(data))
            except Exception as exc:  # noqa: BLE001 - answer, never die on a bad request
                answer = {"error": "bad_request", "detail": f"{type(exc).__name__}: {exc}"}
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
    # what is imported now lives as long as every kernel: out of the garbage collector's
    # sight, so that a kernel's first full collection does not walk (and copy, page by page,
    # from this process) the whole of TensorFlow; that cost a kernel about 0.4 s
    gc.collect()
    gc.freeze()
    sock.send(json.dumps({"ready": True, "seconds": time.monotonic() - started,
                          "not_preloaded": failed, "pid": os.getpid()}).encode())
    quiet = os.open(os.devnull, os.O_WRONLY)  # the worker stops reading our output now
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    os.close(quiet)
    _Server(sock).loop()
    # the worker is done (its end of the socket is closed): exit without the interpreter's and
    # TensorFlow's clean-up, which its worker's exit would wait for
    os._exit(0)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), [m for m in (sys.argv[3] if len(sys.argv) > 3 else "").split(",")
                                 if m])
    else:
        raise SystemExit("usage: python -m keras_course.grading.forkserver_box serve FD "
                         "[MODULES]")
