"""The student's kernel in a box: `SandboxedKernelManager` starts each kernel in bubblewrap.

nbgrader's kernels start through this manager (`execute.SandboxedExecute` sets it; `make grade`
starts the same box through the fork server, `forkserver.py`). The command is built by
`box.bwrap_command` (view, namespaces, environment, mounts), the limits come from `limits.py`
(uid, cgroup) and `boxinit.py` (per process). A submission controls everything its kernel can
touch; each boundary below says what the kernel controls and what the grader trusts (DESIGN.md
section 3).

- **Folder.** The kernel's working folder (`autograded/<student>/<assignment>/`, the same path
  inside the box) is a fresh size-capped tmpfs (`folder_size`) that `boxinit.py` fills, before
  any student code runs, with copies of the submission folder's *regular* files only (each
  opened O_NOFOLLOW|O_NONBLOCK and checked with fstat; links, FIFOs, sockets and devices are
  skipped; at most `folder_size` bytes). The real folder is bound read-only elsewhere for that
  copy and never bound writable. *The kernel controls* its copy, which dies with the box.
  *The grader trusts* nothing in it: nbgrader's later write of the graded notebook, its chmod of
  every file there (`BaseConverter.set_permissions`) and `generate_feedback`'s copy only ever
  meet the files nbgrader put there itself; no kernel-made file, link, FIFO, device or hard
  link exists outside the box. /tmp and /dev/shm are private size-capped tmpfs (`tmp_size`,
  `shm_size`).
- **Connection folder.** A private folder per kernel (mkdtemp) holds the connection file and
  the kernel's ipc sockets; for a root grader it is owned by the kernel's uid. *The kernel
  controls* what is in it. *The grader* only connects to the sockets it named and removes the
  folder with `shutil.rmtree`, which on Linux works on file descriptors and never follows a link
  (safe against symlink races).
- **Identity.** A root grader starts bubblewrap without a user namespace (so the kernel's uid
  is a real one), and `setpriv --reuid=U --regid=U --clear-groups` inside the box makes the
  kernel an unprivileged uid of its own (one per kernel, from `uid_range`, held by a lock file
  in /run/keras-course-uids; no /etc/passwd entry), with no capability, an empty bounding set
  and no-new-privileges. An ordinary grader (a JupyterHub instructor) gets bubblewrap's
  unprivileged user namespace, every capability dropped. *The kernel controls* processes of
  that uid only. *The grader trusts* that uid with nothing: it owns no file of the grader's.
- **Environment.** `--clearenv`, then an allowlist (`ENV_ALLOW`: locale, NBGRADER_EXECUTION,
  TensorFlow's and the thread-count variables, MPLBACKEND; `env_allow` adds more) and PATH (the
  Python environment's bin, /usr/bin, /bin), HOME=/tmp, PYTHONSAFEPATH=1, MPLCONFIGDIR,
  PYTHONPATH (the helpers). A database URL, a hub token or any other secret of the grader's
  never reaches the kernel.
- **View.** Not the grader's file system: only /usr and the merged-usr links (/bin, /lib*,
  /sbin), a few files of /etc (the loader's cache, fonts, time zone), the Python environment
  (`sys.prefix`, `sys.base_prefix`, resolved to their real paths, with the links that lead to
  them: a `.venv` that links to a shared environment elsewhere works), the course's helper
  package, its own folder, private /tmp, /dev and /proc (its own pid namespace). Never /root
  (except a Python environment inside it), /home, the exchange, the course folder, the
  gradebook or other students. No network (the kernel talks to nbgrader over Unix sockets).
- **Resources.** A root grader with cgroups v1 mounted gives each kernel a cgroup of its own
  (`pids.max` = `process_limit`, `memory.limit_in_bytes` and `memory.memsw.limit_in_bytes` =
  `cgroup_memory`, a CPU quota of `cgroup_cpus` cores), entered by a shell before bubblewrap
  starts (nothing of the kernel runs outside it) and removed after. Otherwise the kernel's own
  uid carries RLIMIT_NPROC (enforced for non-root uids only, which is why the uid matters);
  every process also has RLIMIT_AS and RLIMIT_FSIZE. The tmpfs sizes bound the disk.
- **Failure.** A missing or broken protection stops grading with the cause and the fix
  (`SandboxUnavailableError`): bwrap missing (unless `required` is False), setpriv missing, a
  cgroup that cannot be made although cgroups are mounted, user namespaces forbidden to an
  ordinary user, a Python environment the kernel's user cannot read. Before the first kernel,
  `preflight` starts Python with ipykernel in the same box so that an instructor gets that
  reason instead of a kernel that "died before replying to kernel_info".

bubblewrap is used because it needs no daemon and no root: it works the same on a grading
machine run by root and on a JupyterHub server where the grader is an ordinary user with user
namespaces.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, DottedObjectName, Float, Integer, List, Type, Unicode

from .. import messages
from .box import SEED, Bind, SandboxUnavailableError, Tmpfs, bwrap_command, python_view
from .kernel_client import ReadyKernelClient
from .limits import Cgroup, SandboxUid, cgroups_wanted, join_cgroup

BOXINIT = Path(__file__).with_name("boxinit.py")


def _unreadable(path: Path) -> str | None:
    """Why another user cannot read `path` and its files, or None. (The folders along the
    path do not matter: the box makes its own, mode 0755, such as /root for a pyenv.)"""
    for item in (path, *(path.glob("*")), *(path.glob("bin/*"))):
        try:
            mode = item.stat().st_mode
        except OSError:
            continue
        need = 0o005 if item.is_dir() else 0o004
        if mode & need != need:
            return messages.MODE_UNREADABLE.format(path=item, mode=oct(mode & 0o777)[2:])
    return None


_CHECKED: dict[tuple, str] = {}


def explain_failure(stderr: str, bwrap: str) -> str:
    """What an instructor can do about a box that would not start, from its error output."""
    last = " ".join(stderr.strip().splitlines()[-3:])[-600:]
    if "setpriv" in stderr and ("No such file" in stderr or "not found" in stderr):
        return messages.NO_SETPRIV
    if any(s in stderr for s in ("No permissions to creat", "Creating new namespace failed",
                                 "setting up uid map", "unprivileged_userns",
                                 "Operation not permitted")):
        return messages.NO_USER_NAMESPACES.format(bwrap=bwrap, last=last)
    for path in python_view()[0]:
        why = _unreadable(path) if os.geteuid() == 0 else None
        if why:
            return messages.ENVIRONMENT_UNREADABLE.format(path=path, why=why, last=last)
    return messages.BOX_WONT_START.format(last=last or messages.NO_ERROR_OUTPUT,
                                          prefix=sys.prefix)


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel inside bubblewrap with resource limits."""

    #: a client that is ready as soon as the kernel is (`kernel_client.py`)
    client_class = DottedObjectName("keras_course.grading.kernel_client.ReadyKernelClient")
    client_factory = Type(ReadyKernelClient, klass="jupyter_client.asynchronous.AsyncKernelClient")

    course_root = Unicode("", help="the course folder (never visible to the kernel)"
                          ).tag(config=True)
    hidden_paths = List(Unicode(), help="folders the kernel must never see (an exchange); "
                        "the kernel's view holds only what it needs, so these are checked, "
                        "not hidden").tag(config=True)
    memory_limit = Integer(8 * 1024**3, help="address-space limit of each kernel process, bytes"
                           ).tag(config=True)
    file_size_limit = Integer(200 * 1024**2, help="largest file the kernel may write, bytes"
                              ).tag(config=True)
    process_limit = Integer(512, help="processes and threads the kernel may have").tag(config=True)
    cgroup_memory = Integer(4 * 1024**3, help=(
        "memory of the kernel and everything it starts, its folders' files included, bytes "
        "(a cgroup; a root grader only)")).tag(config=True)
    cgroup_cpus = Float(1.0, help="CPU cores the kernel may use in all (a root grader only)"
                        ).tag(config=True)
    folder_size = Integer(256 * 1024**2, help="size of the kernel's folder (tmpfs), bytes"
                          ).tag(config=True)
    tmp_size = Integer(512 * 1024**2, help="size of the kernel's /tmp (tmpfs), bytes"
                       ).tag(config=True)
    shm_size = Integer(64 * 1024**2, help="size of the kernel's /dev/shm (tmpfs), bytes"
                       ).tag(config=True)
    uid_range = Unicode("200000-299999", help=(
        "unprivileged uids for kernels when the grader is root, one per kernel (no "
        "/etc/passwd entry needed)")).tag(config=True)
    env_allow = List(Unicode(), help="more environment variables the kernel may get"
                     ).tag(config=True)
    required = Bool(True, help="refuse to grade when bwrap is missing").tag(config=True)
    bwrap = Unicode("bwrap", help="the bubblewrap executable").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._private = tempfile.mkdtemp(prefix="keras-course-kernel-")
        self.transport = "ipc"
        self.connection_file = os.path.join(self._private, "kernel.json")
        self.ip = os.path.join(self._private, "ipc")
        self._uid: SandboxUid | None = None
        self._cgroup: Cgroup | None = None

    # the pieces both kernel paths share ------------------------------------------------------

    def _bwrap(self) -> str | None:
        bwrap = shutil.which(self.bwrap)
        if bwrap is None and self.required:
            raise SandboxUnavailableError(messages.NO_BWRAP)
        return bwrap

    def _root(self) -> bool:
        return os.geteuid() == 0

    def _check_view(self) -> None:
        """The kernel's view must not hold the course folder or a hidden folder."""
        root = Path(self.course_root or os.getcwd()).resolve()
        for path in python_view()[0]:
            for secret in [root, *(Path(p).resolve() for p in self.hidden_paths)]:
                if path == secret or path in secret.parents:
                    raise SandboxUnavailableError(messages.VIEW_HOLDS_SECRET.format(
                        path=path, secret=secret))
        if self._root() and shutil.which("setpriv") is None:
            raise SandboxUnavailableError(explain_failure("setpriv: not found", self.bwrap))

    def _limits(self) -> list[str]:
        """boxinit's per-process limits. The process count is per uid: enforced for a
        kernel's own unprivileged uid, not for root (a cgroup counts it too, where there is
        one)."""
        return ["--as", str(self.memory_limit), "--fsize", str(self.file_size_limit),
                "--nproc", str(self.process_limit)]

    def preflight(self, prefix: list[str]) -> None:
        """Start Python with ipykernel and the helpers in a box like the kernel's, once per
        process; a box that cannot start stops grading with the cause and the fix."""
        key = (tuple(python_view()[0]), self._root(), self.bwrap)
        if key in _CHECKED:
            return
        import subprocess

        probe = [sys.executable, "-c", "import ipykernel.kernelapp, keras_course.grading"]
        try:
            proc = subprocess.run([*prefix, *probe], capture_output=True, text=True,
                                  timeout=300, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailableError(explain_failure(str(exc), self.bwrap)) from exc
        if proc.returncode != 0:
            raise SandboxUnavailableError(explain_failure(proc.stderr, self.bwrap))
        _CHECKED[key] = "ok"

    def box_prefix(self, uid: int | None, env: Mapping[str, str],
                   cwd: str | None = None) -> list[str]:
        """bwrap (and setpriv) up to the command, for a kernel in `cwd`, or without a folder:
        the submission's real folder read-only at `SEED`, a fresh size-capped tmpfs at `cwd`
        for boxinit to fill, the connection folder read-write."""
        bwrap = self._bwrap()
        if bwrap is None:  # `sandbox_command` found it a moment ago; fail closed if it went
            raise SandboxUnavailableError(messages.NO_BWRAP)
        mounts: list[Bind | Tmpfs] = []
        if cwd is not None:
            mounts = [Bind(cwd, SEED), Tmpfs(cwd, self.folder_size, mode="0777"),
                      Bind(self._private, self._private, writable=True)]
        return bwrap_command(bwrap, uid=uid, env=env, env_allow=self.env_allow,
                             tmp_size=self.tmp_size, shm_size=self.shm_size, mounts=mounts)

    def sandbox_command(self, kernel_cmd: list[str], cwd: str, env=None) -> list[str]:
        """`kernel_cmd` in its box: its own folder (a size-capped tmpfs at `cwd` filled with
        copies of the submission's regular files), its own uid and cgroup when the grader is
        root, an allowlisted environment, a view of only what it needs."""
        bwrap = self._bwrap()
        if bwrap is None:
            self.log.warning(messages.NO_SANDBOX)
            return kernel_cmd
        self._check_view()
        env = os.environ if env is None else env
        uid = None
        if self._root():
            self._uid = self._uid or SandboxUid(self.uid_range)
            uid = self._uid.uid
        self.preflight(self.box_prefix(uid, env))
        if self._cgroup is None and cgroups_wanted():
            self._cgroup = Cgroup(f"kernel-{os.getpid()}-{os.path.basename(self._private)}",
                                  self.process_limit, self.cgroup_memory, self.cgroup_cpus)
        if uid is not None:
            os.chown(self._private, uid, uid)
            if os.path.exists(self.connection_file):
                os.chown(self.connection_file, uid, uid)
        boxinit = [sys.executable, "-I", "-S", str(BOXINIT), "--seed", SEED, "--cwd", cwd,
                   "--size", str(self.folder_size), *self._limits(), "--", *kernel_cmd]
        return join_cgroup(self._cgroup, [*self.box_prefix(uid, env, cwd), *boxinit])

    async def _async_pre_start_kernel(self, **kw):
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        cwd = str(Path(kw.get("cwd") or os.getcwd()).resolve())
        return self.sandbox_command(kernel_cmd, cwd, kw.get("env")), kw

    async def _async_wait(self, pollinterval: float = 0.01) -> None:
        """Until the kernel has exited, looking every 10 ms: jupyter_client looks every 100 ms,
        and a graded kernel, killed once its last cell has run, waited 0.1 s a notebook."""
        await super()._async_wait(pollinterval=pollinterval)

    def _release(self) -> None:
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None
        if self._uid is not None:
            self._uid.release()
            self._uid = None

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self._release()
            # the kernel could write here: rmtree removes links and never follows them
            # (Python's rmtree works on file descriptors, safe against symlink races)
            shutil.rmtree(self._private, ignore_errors=True)
