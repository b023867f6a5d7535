"""The kernel's limits: its own unprivileged uid and, for a root grader, its own cgroup.

A root grader with cgroups v1 mounted gives each kernel (or each fork server, shared by the one
kernel it runs at a time) a cgroup of its own: `pids.max`, memory with swap, a CPU quota and the
weight of the threads it may run. A shell enters it before bubblewrap starts (`join_cgroup`), so
nothing of the kernel ever runs outside it; it is removed, and what is left in it killed, after.
The uid (`SandboxUid`) is one per kernel, held by a lock file, so RLIMIT_NPROC (enforced for
non-root uids only) counts that kernel's processes alone. The per-process limits are set by
`boxinit.py` and the fork server's supervisor.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from .. import messages
from .box import SandboxUnavailableError

_CGROUP_ROOT = Path("/sys/fs/cgroup")
_CONTROLLERS = ("pids", "memory", "cpu")


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
