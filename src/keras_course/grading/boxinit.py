"""The first program inside the kernel's box: fill its folder, set its limits, become the kernel.

Run as a script (`python -I -S boxinit.py ...`, the standard library only, nothing from the
course's environment or the submission's folder on `sys.path`) by `SandboxedKernelManager`, after
bubblewrap built the box and (for a root grader) `setpriv` became the kernel's own user. The fork
server's supervisor calls `copy_regular_files` itself. Both run before any student code.

    boxinit.py [--seed SRC] --cwd CWD [--as N] [--fsize N] [--nproc N] [--size N] -- CMD...

`--seed`: a read-only view of the submission's real folder. Its regular files (and folders) are
copied into CWD, a fresh size-capped tmpfs at the same path as the real folder; symbolic links,
FIFOs, sockets and devices are skipped, each file is opened with O_NOFOLLOW|O_NONBLOCK and checked
with fstat before a byte is read, and at most `--size` bytes are copied in all.
"""
from __future__ import annotations

import os
import stat
import sys

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def copy_regular_files(src_fd: int, dest: str, budget: int, depth: int = 0) -> int:
    """Copy the regular files and folders below the open folder `src_fd` into `dest`; never
    follows a link, opens a special file or copies more than `budget` bytes. Returns what is
    left of the budget."""
    if depth > 16:
        return budget
    for name in sorted(os.listdir(src_fd)):
        try:
            info = os.stat(name, dir_fd=src_fd, follow_symlinks=False)
        except OSError:
            continue
        target = os.path.join(dest, name)
        if stat.S_ISDIR(info.st_mode):
            try:
                sub = os.open(name, _DIR_FLAGS, dir_fd=src_fd)
            except OSError:
                continue
            try:
                os.makedirs(target, exist_ok=True)
                budget = copy_regular_files(sub, target, budget, depth + 1)
            finally:
                os.close(sub)
            continue
        if not stat.S_ISREG(info.st_mode) or info.st_size > budget:
            continue  # links, FIFOs, sockets, devices; files that do not fit
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=src_fd)
        except OSError:
            continue
        try:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode) or opened.st_size > budget:
                continue
            out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            try:
                left = opened.st_size
                while left > 0:
                    chunk = os.read(fd, min(left, 1 << 20))
                    if not chunk:
                        break
                    os.write(out, chunk)
                    left -= len(chunk)
                    budget -= len(chunk)
            finally:
                os.close(out)
        except OSError:
            continue
        finally:
            os.close(fd)
    return budget


def main(argv: list[str]) -> None:
    split = argv.index("--")
    opts, cmd = argv[:split], argv[split + 1:]
    args = dict(zip(opts[::2], opts[1::2]))
    cwd = args["--cwd"]
    if "--seed" in args:
        src = os.open(args["--seed"], _DIR_FLAGS)
        try:
            copy_regular_files(src, cwd, int(args.get("--size", 256 << 20)))
        finally:
            os.close(src)
    import resource

    for flag, name in (("--as", "RLIMIT_AS"), ("--fsize", "RLIMIT_FSIZE"),
                       ("--nproc", "RLIMIT_NPROC")):
        if args.get(flag):
            value = int(args[flag])
            resource.setrlimit(getattr(resource, name), (value, value))
    os.chdir(cwd)
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
