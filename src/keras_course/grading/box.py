"""What a kernel gets in its box: environment, view, namespaces, and the one bubblewrap command.

Both kernel paths start bubblewrap through `bwrap_command`: `SandboxedKernelManager` for each
kernel (`sandbox.py`) and the grading worker for its fork server (`forkserver.py`). What differs
between them is passed in (what is bound where, read-only or read-write, or a fresh tmpfs; the
environment and its allowlist; the uid), so the view, the namespaces, the emptied environment and
the identity are written once. sandbox.py's docstring says, for each boundary, what the kernel
controls and what the grader trusts.

The standard library and `messages` only: the fork server, which runs inside the box, imports
`kernel_env` from here.
"""
from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import messages


class SandboxUnavailableError(RuntimeError):
    """A protection of the kernel's box is missing or broken: grading stops, with the cause and
    the fix (it never falls back to a weaker box)."""


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


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


def helpers_folder() -> Path:
    """The course's helper package (`keras_course`), resolved."""
    import keras_course

    return Path(keras_course.__file__).resolve().parent


def kernel_env(env: Mapping[str, str], extra: Iterable[str] = ()) -> dict[str, str]:
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


@dataclass(frozen=True)
class Bind:
    """The grader's folder `source` seen at `target` in the box, read-only unless `writable`
    (a bind keeps what it shows live: never bind writable what the grader reads later)."""

    source: str
    target: str
    writable: bool = False


@dataclass(frozen=True)
class Tmpfs:
    """A fresh tmpfs of `size` bytes at `target` (mode `mode`), covering whatever was there."""

    target: str
    size: int
    mode: str = "0755"


def bwrap_command(bwrap: str, *, uid: int | None, env: Mapping[str, str],
                  env_allow: Iterable[str], tmp_size: int, shm_size: int,
                  mounts: Sequence[Bind | Tmpfs] = ()) -> list[str]:
    """bubblewrap (and `setpriv`) up to the command, for both kernel paths.

    The view (`view_args`), the namespaces (`namespace_args`), an emptied environment refilled
    from `kernel_env(env, env_allow)`, then `mounts` in order (bubblewrap applies them in the
    order given, so a later mount covers an earlier one at or above its target), the working
    folder /tmp, and for a root grader (`uid` given) `setpriv` to `uid` with no capability;
    otherwise bubblewrap's user namespace. Paths must be absolute: a relative one would be
    taken from wherever bubblewrap runs. A root grader must give a uid: in a user namespace of
    its own the kernel would still be root to every file it can see."""
    if uid is None and os.geteuid() == 0:
        raise SandboxUnavailableError(messages.ROOT_NEEDS_UID)
    for mount in mounts:
        paths = [mount.target] + ([mount.source] if isinstance(mount, Bind) else [])
        if not all(os.path.isabs(p) for p in paths):
            raise ValueError(f"bwrap_command: relative path in {mount!r}")
    cmd = [bwrap, *view_args(tmp_size, shm_size), *namespace_args(uid is not None)]
    for key, value in kernel_env(env, env_allow).items():
        cmd += ["--setenv", key, value]
    cmd += parents_args(*(mount.target for mount in mounts))
    for mount in mounts:
        if isinstance(mount, Tmpfs):
            cmd += ["--perms", mount.mode, "--size", str(mount.size), "--tmpfs", mount.target]
        else:
            cmd += ["--bind" if mount.writable else "--ro-bind", mount.source, mount.target]
    cmd += ["--chdir", "/tmp", "--"]
    if uid is not None:
        cmd += become(uid)
    return cmd
