"""The student's kernel in a box: bubblewrap, its own user, folder, view and limits.

`SandboxedExecute` is nbgrader's `Execute` with these changes, configured in
`nbgrader_config.py` in its place (`make grade` uses the same box through the fork server,
`forkserver.py`). A submission controls everything its kernel can touch; each boundary below
says what the kernel controls and what the grader trusts (DESIGN.md section 3).

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

While it runs:

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
namespaces.
"""
from __future__ import annotations

import copy
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
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, List, Unicode

from .. import messages
from ..coursedir import is_test_cell
from ..messages import TRUNCATED, WITHHELD
from .evidence import HIDDEN_CALLS_KEY, hidden_lines, kernel_parts, kernel_source


class SandboxUnavailableError(RuntimeError):
    """A protection of the kernel's box is missing or broken: grading stops, with the cause and
    the fix (it never falls back to a weaker box)."""


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


# --------------------------------------------------------------------------------------------
# What the kernel gets: environment, view, identity, resources (shared with forkserver.py)
# --------------------------------------------------------------------------------------------

#: Variables a kernel may take from the grader's environment; everything else is dropped
#: (`SandboxedKernelManager.env_allow` adds more).
ENV_ALLOW = (
    "LANG", "LC_ALL", "LC_CTYPE", "NBGRADER_EXECUTION", "TF_CPP_MIN_LOG_LEVEL",
    "TF_ENABLE_ONEDNN_OPTS", "MPLBACKEND", "KERAS_BACKEND", "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)

#: Files and folders of /etc the kernel may read (the loader's cache, fonts, the time zone).
ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
       "/etc/fonts", "/etc/mime.types", "/etc/nsswitch.conf", "/etc/host.conf")

#: Where the kernel reads its submission's real folder (read-only) to fill its own folder.
SEED = "/run/keras-course/submission"

BOXINIT = Path(__file__).with_name("boxinit.py")
_CGROUP_ROOT = Path("/sys/fs/cgroup")
_CONTROLLERS = ("pids", "memory", "cpu")


def helpers_folder() -> Path:
    """The course's helper package (`keras_course`), resolved."""
    import keras_course

    return Path(keras_course.__file__).resolve().parent


def kernel_env(env, extra=()) -> dict[str, str]:
    """The kernel's environment: an allowlist of `env`, nothing else of the grader's."""
    out = {k: str(env[k]) for k in (*ENV_ALLOW, *extra) if k in env}
    out.update({
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": "/tmp", "MPLCONFIGDIR": "/tmp/matplotlib", "PYTHONSAFEPATH": "1",
        "PYTHONPATH": str(helpers_folder().parent),
    })
    return out


def _symlinks_to(path: str, bound: list[Path], depth: int = 0) -> list[tuple[str, str]]:
    """(target, link) pairs the box needs so that `path` leads where it leads outside: the
    symbolic links along it that are not inside a bound folder (a `.venv` linked elsewhere)."""
    if depth > 8:
        return []
    parts = Path(path).parts
    for i in range(2, len(parts) + 1):
        here = Path(*parts[:i])
        if any(here == b or b in here.parents for b in bound):
            return []
        if here.is_symlink():
            target = os.readlink(here)
            rest = Path(os.path.normpath(here.parent / target), *parts[i:])
            return [(target, str(here)), *_symlinks_to(str(rest), bound, depth + 1)]
    return []


def python_view() -> tuple[list[Path], list[tuple[str, str]]]:
    """Folders of the Python environment and the helpers (real paths, bound read-only) and the
    links that lead to them from the paths the grader uses (`sys.executable` among them)."""
    helpers = helpers_folder()
    wanted = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
              str(Path(sys.executable).parent.parent), str(helpers)]
    real: list[Path] = []
    for path in wanted:
        resolved = Path(path).resolve()
        if not any(resolved == r or r in resolved.parents for r in real):
            real = [r for r in real if resolved not in r.parents] + [resolved]
    real.sort()
    links: list[tuple[str, str]] = []
    for path in (*wanted, sys.executable):
        for pair in _symlinks_to(os.path.abspath(path), real):
            if pair not in links:
                links.append(pair)
    return real, links


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


def parents_args(*paths: str) -> list[str]:
    """Folders leading to `paths`, made 0755 in the box (bubblewrap's follow the umask)."""
    args: list[str] = []
    for path in paths:
        for folder in reversed(Path(path).parents):
            if str(folder) not in ("/", "/tmp", "/usr") and not str(folder).startswith("/usr/"):
                args += ["--perms", "0755", "--dir", str(folder)]
    return args


def view_args(tmp_size: int, shm_size: int) -> list[str]:
    """bubblewrap arguments of the kernel's view: the system's programs and libraries, a few
    files of /etc, the Python environment and the helpers read-only; a private, size-capped
    /tmp and /dev/shm, its own /dev and /proc. No /root, /home, exchange or course folder."""
    args: list[str] = []
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += ["--perms", "0755", "--dir", "/etc"]
    for path in ETC:
        args += ["--ro-bind-try", path, path]
    args += ["--dev", "/dev", "--proc", "/proc",
             "--perms", "1777", "--size", str(tmp_size), "--tmpfs", "/tmp",
             "--perms", "1777", "--size", str(shm_size), "--tmpfs", "/dev/shm"]
    real, links = python_view()
    for real_path in real:
        args += [*parents_args(str(real_path)), "--ro-bind", str(real_path), str(real_path)]
    for target, link in links:
        args += [*parents_args(link), "--symlink", target, link]
    return args


def _write(path: Path, value) -> None:
    with open(path, "w") as f:
        f.write(f"{value}\n")


def cgroups_wanted() -> bool:
    """Whether this grader must use cgroups: it is root and the v1 controllers are mounted."""
    return os.geteuid() == 0 and all((_CGROUP_ROOT / c / "cgroup.procs").is_file()
                                     for c in _CONTROLLERS)


class Cgroup:
    """A v1 cgroup in the `pids`, `memory` and `cpu` controllers with the kernel's limits."""

    def __init__(self, name: str, pids: int, memory: int, cpus: float) -> None:
        self.sweep()
        # directly below each controller's root: a common parent would share one task's
        # weight of CPU among every kernel on the machine
        self.dirs = [_CGROUP_ROOT / c / f"keras-course-{name}" for c in _CONTROLLERS]
        try:
            for folder in self.dirs:
                folder.mkdir(parents=True, exist_ok=True)
            pids_dir, memory_dir, cpu_dir = self.dirs
            _write(pids_dir / "pids.max", pids)
            _write(memory_dir / "memory.limit_in_bytes", memory)
            if (memory_dir / "memory.memsw.limit_in_bytes").exists():
                _write(memory_dir / "memory.memsw.limit_in_bytes", memory)
            _write(cpu_dir / "cpu.cfs_period_us", 100_000)
            _write(cpu_dir / "cpu.cfs_quota_us", max(1000, int(cpus * 100_000)))
            # under contention a group weighs as much as one task at the root: give it the
            # weight of the threads it may run (a kernel training on `cpus` cores, and more)
            _write(cpu_dir / "cpu.shares", max(1024, int(cpus * 4096)))
        except OSError as exc:
            self.remove()
            raise SandboxUnavailableError(messages.CGROUP_FAILED.format(
                error=exc, cgroup_root=_CGROUP_ROOT)) from exc

    @staticmethod
    def sweep() -> None:
        """Remove empty cgroups left by graders that were killed (their pid is gone)."""
        for controller in _CONTROLLERS:
            for folder in (_CGROUP_ROOT / controller).glob("keras-course-*-*-*"):
                owner = folder.name.split("-")[3]
                try:
                    if owner.isdigit() and not Path(f"/proc/{owner}").exists() \
                            and not (folder / "cgroup.procs").read_text().strip():
                        folder.rmdir()
                except OSError:
                    pass

    @property
    def procs(self) -> list[str]:
        return [str(folder / "cgroup.procs") for folder in self.dirs]

    def remove(self) -> None:
        """Kill what is left in it and remove it."""
        for folder in self.dirs:
            for _attempt in range(50):
                if not folder.exists():
                    break
                try:
                    for pid in (folder / "cgroup.procs").read_text().split():
                        try:
                            os.kill(int(pid), 9)
                        except ProcessLookupError:
                            pass
                    folder.rmdir()
                    break
                except OSError:
                    time.sleep(0.05)


def join_cgroup(cgroup: Cgroup | None, cmd: list[str]) -> list[str]:
    """`cmd` started by a shell that first puts itself in `cgroup` (so nothing of the kernel
    ever runs outside it)."""
    if cgroup is None:
        return cmd
    script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 111; shift; done; shift; ' \
             'exec "$@"'
    return ["/bin/sh", "-c", script, "sh", *cgroup.procs, "--", *cmd]


class SandboxUid:
    """An unprivileged uid of its own from `first-last`, held (by a lock) until released."""

    lock_dir = Path("/run/keras-course-uids")
    uid: int
    _fd: int | None

    def __init__(self, uid_range: str) -> None:
        import fcntl

        low, _, high = uid_range.partition("-")
        first, last = int(low), int(high or low)
        self.lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        start = (os.getpid() * 7919 + time.monotonic_ns()) % (last - first + 1)
        for i in range(last - first + 1):
            uid = first + (start + i) % (last - first + 1)
            fd = os.open(self.lock_dir / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.uid, self._fd = uid, fd
            return
        raise SandboxUnavailableError(messages.UIDS_IN_USE.format(uid_range=uid_range))

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def become(uid: int) -> list[str]:
    """The command prefix (inside bubblewrap, run as root) that becomes `uid`, no capability."""
    setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
    return [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--bounding-set=-all", "--inh-caps=-all", "--"]


def namespace_args(root: bool) -> list[str]:
    """Namespaces and capabilities. A root grader: no user namespace (the kernel's uid must be
    a real unprivileged one), only the capabilities `setpriv` needs to become it, which it then
    drops. An ordinary grader: bubblewrap's unprivileged user namespace."""
    common = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
              "--unshare-cgroup-try", "--die-with-parent", "--clearenv", "--cap-drop", "ALL"]
    if root:
        return common + ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                         "--cap-add", "CAP_SETPCAP"]
    return ["--unshare-user"] + common


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

    def box_prefix(self, uid: int | None, env, cwd: str | None = None) -> list[str]:
        """bwrap (and setpriv) up to the command, for a kernel in `cwd`, or without a folder."""
        bwrap = self._bwrap()
        if bwrap is None:  # `sandbox_command` found it a moment ago; fail closed if it went
            raise SandboxUnavailableError(messages.NO_BWRAP)
        cmd = [bwrap, *view_args(self.tmp_size, self.shm_size), *namespace_args(uid is not None)]
        for key, value in kernel_env(env, self.env_allow).items():
            cmd += ["--setenv", key, value]
        if cwd is not None:
            cmd += [*parents_args(SEED, cwd, self._private), "--ro-bind", cwd, SEED,
                    "--perms", "0777", "--size", str(self.folder_size), "--tmpfs", cwd,
                    "--bind", self._private, self._private, "--chdir", "/tmp"]
        else:
            cmd += ["--chdir", "/tmp"]
        cmd.append("--")
        if uid is not None:
            cmd += become(uid)
        return cmd

    def sandbox_command(self, kernel_cmd: list[str], cwd: str, env=None) -> list[str]:
        """`kernel_cmd` in its box: its own folder (a size-capped tmpfs at `cwd` filled with
        copies of the submission's regular files), its own uid and cgroup when the grader is
        root, an allowlisted environment, a view of only what it needs."""
        bwrap = self._bwrap()
        if bwrap is None:
            self.log.warning("bwrap missing: grading WITHOUT a sandbox")
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

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)
        self._started = None
        self._stopped = None
        self._current_cell = None
        self._output_chars = {}
        self._defer = False
        self._deferred = []
        self._unsent = []
        self._sending_hidden = False

    def preprocess(self, nb, resources=None, km=None):
        original = copy.deepcopy(nb) if self.hidden_last and self.evidence_only else None
        nb, resources = self._run(nb, resources, km, defer=original is not None)
        in_place = original is None
        if in_place:  # hidden calls reached the kernel in their cells: what ran after is withheld
            _withhold_after_hidden_tests(nb.cells)
        if self._unsent:
            last = max(self._unsent)
            self.log.warning("the kernel stopped before the hidden tests of %d cells were sent: "
                             "running cells 1-%d again with them in place", len(self._unsent),
                             last + 1)
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
        self._started = time.monotonic()
        self._stopped = None
        self._current_cell = None
        self._output_chars = {}
        self._defer = defer
        self._deferred = []
        self._unsent = []
        return super().preprocess(nb, resources, km=km)

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
                self.log.warning("stopping the kernel: %s", exc)

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
                self.log.warning("cell %s: the notebook used up its time budget", cell_index)
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
