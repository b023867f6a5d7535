"""The kernel's box itself, attacked from inside: its folder, identity, environment, view and
limits, and what happens when a protection is missing.

Each test builds the box exactly as `SandboxedKernelManager.sandbox_command` does for a kernel
(bubblewrap, `setpriv` for a root grader, the cgroup, `boxinit`) and runs a small Python program
in it instead of the kernel: seconds per test, no nbgrader. The fork server's box is exercised
by the hostile catalog (`tests/test_hostile.py`), graded along both paths.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from keras_course.grading import sandbox as sb
from keras_course.grading.box import SandboxUnavailableError, helpers_folder
from keras_course.grading.limits import Cgroup, cgroups_wanted
from keras_course.grading.sandbox import SandboxedKernelManager

ROOT_GRADER = os.geteuid() == 0

SECRETS = {"KERAS_COURSE_DB_URL": "postgresql://grader:s3cr3t@db/course",
           "JUPYTERHUB_API_TOKEN": "s3cr3t-token", "KERAS_COURSE_TEST_SECRET": "s3cr3t"}


@pytest.fixture
def course(tmp_path):
    """A course folder with a gradebook, source/, and two students' autograded folders; the
    first holds a link, a FIFO and a subfolder besides its notebook."""
    root = tmp_path / "course"
    (root / "source" / "a1").mkdir(parents=True)
    (root / "source" / "a1" / "a1.ipynb").write_text("instructor's notebook")
    (root / "gradebook.db").write_text("grades")
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    mine = root / "autograded" / "alice" / "a1"
    other = root / "autograded" / "bob" / "a1"
    for folder in (mine, other):
        folder.mkdir(parents=True)
        (folder / "a1.ipynb").write_text(f"notebook of {folder.parent.name}")
    (mine / "data").mkdir()
    (mine / "data" / "points.csv").write_text("1,2\n")
    (mine / "link-to-gradebook").symlink_to(root / "gradebook.db")
    os.mkfifo(mine / "fifo")
    return root


def run_in_box(course: Path, program: str, env: dict | None = None, timeout: float = 120,
               **traits) -> tuple[subprocess.CompletedProcess, SandboxedKernelManager]:
    """`program` run as the kernel of alice's submission would be."""
    km = SandboxedKernelManager(course_root=str(course), **traits)
    cwd = str(course / "autograded" / "alice" / "a1")
    environ = {**os.environ, **SECRETS, **(env or {})}
    try:
        cmd = km.sandbox_command([sys.executable, "-c", textwrap.dedent(program)], cwd, environ)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=environ)
    finally:
        km._release()
        import shutil

        shutil.rmtree(km._private, ignore_errors=True)
    return proc, km


def answer(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_kernel_works_in_a_copy_that_the_grader_never_reads(course):
    before = sb_digest(course)
    proc, _ = run_in_box(course, """
        import json, os
        seen = sorted(os.listdir("."))
        sub = sorted(os.listdir("data"))
        made = []
        for how in (lambda: os.symlink("../../../gradebook.db", "a1.ipynb.link"),
                    lambda: os.mkfifo("planted-fifo"),
                    lambda: os.link("a1.ipynb", "planted-hardlink"),
                    lambda: open("planted.txt", "w").write("x"),
                    lambda: os.remove("a1.ipynb"),
                    lambda: os.symlink("../../bob/a1/a1.ipynb", "a1.ipynb")):
            try:
                how()
                made.append("ok")
            except OSError as exc:
                made.append(type(exc).__name__)
        mounts = open("/proc/self/mounts").read()
        print(json.dumps({"seen": seen, "sub": sub, "made": made, "cwd": os.getcwd(),
                          "tmpfs": any(l.split()[1] == os.getcwd() and l.split()[2] == "tmpfs"
                                       for l in mounts.splitlines())}))
    """)
    got = answer(proc)
    mine = course / "autograded" / "alice" / "a1"
    # only the regular files and folders were copied in, at the same path, on a tmpfs
    assert got["seen"] == ["a1.ipynb", "data"] and got["sub"] == ["points.csv"]
    assert got["cwd"] == str(mine) and got["tmpfs"]
    assert got["made"] == ["ok"] * 6, got["made"]  # it could do all of it, in its own copy...
    # ...and none of it reached the real folder, the other student, the gradebook or source/
    assert sorted(p.name for p in mine.iterdir()) == ["a1.ipynb", "data", "fifo",
                                                      "link-to-gradebook"]
    assert (mine / "a1.ipynb").read_text() == "notebook of alice"
    assert sb_digest(course) == before


def sb_digest(course: Path) -> dict:
    import hashlib

    return {str(p.relative_to(course)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(course.rglob("*")) if p.is_file() and not p.is_symlink()}


def test_the_kernels_folder_is_size_capped(course):
    proc, _ = run_in_box(course, """
        import json, os
        written = 0
        try:
            while written < 200 << 20:
                with open(f"fill-{written}", "wb") as f:
                    f.write(b"x" * (8 << 20))
                written += 8 << 20
        except OSError as exc:
            pass
        print(json.dumps({"written": written}))
    """, folder_size=32 << 20)
    assert answer(proc)["written"] <= 32 << 20


def test_the_environment_is_an_allowlist(course):
    proc, _ = run_in_box(course, """
        import json, os
        print(json.dumps(dict(os.environ)))
    """, env={"TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": "2", "COURSE_EXTRA": "yes"},
        env_allow=["COURSE_EXTRA"])
    env = answer(proc)
    for key, value in SECRETS.items():
        assert key not in env
        assert value not in json.dumps(env)
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "3" and env["OMP_NUM_THREADS"] == "2"
    assert env["COURSE_EXTRA"] == "yes"  # c.SandboxedKernelManager.env_allow
    assert env["HOME"] == "/tmp" and env["PYTHONSAFEPATH"] == "1"
    assert env["PATH"].split(":") == [str(Path(sys.executable).parent), "/usr/bin", "/bin"]
    assert "JPY_PARENT_PID" not in env and "PWD" not in env or env.get("PWD") == "/tmp"


def test_the_kernel_has_an_identity_of_its_own_and_no_capability(course):
    proc, _ = run_in_box(course, """
        import json, os, resource
        caps = {l.split(":")[0]: l.split()[1] for l in open("/proc/self/status")
                if l.startswith("Cap")}
        print(json.dumps({"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(),
                          "groups": os.getgroups(), "caps": caps,
                          "nproc": resource.getrlimit(resource.RLIMIT_NPROC)[0]}))
    """)
    got = answer(proc)
    assert all(int(v, 16) == 0 for v in got["caps"].values()), got["caps"]
    assert got["nproc"] == 512
    if ROOT_GRADER:  # a real unprivileged uid: the process limit is enforced for it
        first, last = (int(x) for x in SandboxedKernelManager().uid_range.split("-"))
        assert first <= got["uid"] <= last and got["euid"] == got["uid"] == got["gid"]
        assert got["groups"] == []


def test_the_kernel_sees_only_what_it_needs(course):
    proc, _ = run_in_box(course, f"""
        import json, os
        def readable(path):
            try:
                open(path, "rb").read(1)
                return True
            except OSError:
                return False
        def listing(path):
            try:
                return sorted(os.listdir(path))
            except OSError:
                return None
        course = {str(course)!r}
        print(json.dumps({{
            "root": listing("/"), "etc": listing("/etc"), "home": listing("/home"),
            "root_home": listing("/root"), "course": listing(course),
            "autograded": listing(course + "/autograded"),
            "read": [p for p in ("/etc/shadow", "/etc/passwd", course + "/gradebook.db",
                                 course + "/nbgrader_config.py",
                                 course + "/source/a1/a1.ipynb",
                                 course + "/autograded/bob/a1/a1.ipynb") if readable(p)],
            "helpers": __import__("keras_course").__file__}}))
    """)
    got = answer(proc)
    # The view holds the system folders and the top folders of the real paths it binds: the
    # Python environment and the helpers (this checkout may live anywhere, /work or /check/...).
    bound = {top for p in (sys.prefix, sys.base_prefix, helpers_folder(), course)
             for top in (Path(p).absolute().parts[1], Path(p).resolve().parts[1])}
    assert set(got["root"]) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc",
                                "root", "run", "sbin", "tmp", "usr", "opt"} | bound, got["root"]
    assert "shadow" not in got["etc"] and "passwd" not in got["etc"]
    assert got["home"] is None
    assert got["root_home"] in (None, [], [".pyenv"]), got["root_home"]
    assert got["course"] == ["autograded"] and got["autograded"] == ["alice"]
    assert got["read"] == []
    assert got["helpers"].startswith(str(helpers_folder()))


@pytest.mark.skipif(not cgroups_wanted(), reason="needs a root grader with cgroups v1")
def test_a_root_graders_kernel_is_capped_by_its_own_cgroup(course):
    proc, km = run_in_box(course, """
        import json, os, time
        pids, refused = [], 0
        while len(pids) < 700 and refused < 50:
            try:
                pids.append(os.posix_spawn("/bin/sleep", ["sleep", "30"], {}))
            except OSError:
                refused += 1
        for pid in pids:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        print(json.dumps({"started": len(pids), "refused": refused}))
    """, process_limit=64, cgroup_memory=1 << 30)
    got = answer(proc)
    assert got["started"] < 64 and got["refused"] == 50
    assert km._cgroup is None  # removed when released
    assert not list(Path("/sys/fs/cgroup/pids").glob(
        f"keras-course-kernel-{os.getpid()}-{os.path.basename(km._private)}"))


@pytest.mark.skipif(not cgroups_wanted(), reason="needs a root grader with cgroups v1")
def test_a_cgroup_that_cannot_be_made_stops_grading():
    with pytest.raises(SandboxUnavailableError, match="cgroup.*Mount the `pids`"):
        Cgroup("bad", pids=-7, memory=1 << 30, cpus=1.0)
    assert not Path("/sys/fs/cgroup/pids/keras-course-bad").exists()


def test_a_symlinked_environment_outside_the_course_works(course, tmp_path):
    """An instructor's `.venv` is a link to an environment elsewhere (issue 10, "Also")."""
    venv = Path(sys.prefix)
    link = course / ".venv"
    link.symlink_to(venv.resolve())
    program = textwrap.dedent(f"""
        import json, subprocess, sys
        sys.path.insert(0, {str(helpers_folder().parent)!r})
        from keras_course.grading.sandbox import SandboxedKernelManager
        km = SandboxedKernelManager(course_root={str(course)!r})
        cmd = km.sandbox_command([sys.executable, "-c",
                                  "import ipykernel.kernelapp, keras_course, sys; "
                                  "print(sys.prefix)"],
                                 {str(course / "autograded" / "alice" / "a1")!r})
        proc = subprocess.run(cmd, capture_output=True, text=True)
        km._release()
        print(json.dumps({{"rc": proc.returncode, "out": proc.stdout, "err": proc.stderr[-500:],
                          "prefix": sys.prefix}}))
    """)
    proc = subprocess.run([str(link / "bin" / "python"), "-c", program], capture_output=True,
                          text=True, timeout=300, cwd=course)
    got = answer(proc)
    assert got["prefix"] == str(link), got  # the grader runs from the link...
    assert got["rc"] == 0, got["err"]  # ...and so does the kernel, in its box
    assert got["out"].strip() == str(link)


def test_a_missing_setpriv_stops_grading_with_the_fix(course, monkeypatch):
    if not ROOT_GRADER:
        pytest.skip("setpriv is used only by a root grader")
    monkeypatch.setenv("PATH", str(course))  # a PATH where setpriv is not
    km = SandboxedKernelManager(course_root=str(course), bwrap="/usr/bin/bwrap")
    with pytest.raises(SandboxUnavailableError, match="setpriv.*util-linux"):
        km.sandbox_command(["true"], str(course / "autograded" / "alice" / "a1"))


def test_a_box_that_cannot_start_says_why_and_what_to_do(course):
    """bubblewrap's own words when user namespaces are forbidden, and a kernel that dies in
    the box, each turned into a cause and a next step."""
    text = sb.explain_failure("bwrap: No permissions to creating new namespace, likely because "
                              "the kernel does not allow non-privileged user namespaces.",
                              "bwrap")
    assert "user namespaces" in text and "unprivileged_userns_clone=1" in text
    km = SandboxedKernelManager(course_root=str(course))
    uid = int(km.uid_range.split("-")[0]) if ROOT_GRADER else None
    prefix = km.box_prefix(uid, os.environ)
    end = prefix.index("--")  # bubblewrap's last option: a bind of what does not exist after it
    broken = [*prefix[:end], "--ro-bind", "/nonexistent-keras-course", "/x", *prefix[end:]]
    with pytest.raises(SandboxUnavailableError, match="could not start|namespaces"):
        sb._CHECKED.clear()
        km.preflight(broken)


def test_the_fork_servers_box_sees_the_submissions_read_only(course, tmp_path):
    """The fork server's own box, from the builder both kernel paths share: the submissions
    read-only, only the worker's connection folders writable, the kernel's environment."""
    from keras_course.grading.forkserver import server_box
    from keras_course.grading.limits import SandboxUid

    km = SandboxedKernelManager(course_root=str(course))
    kernels = tmp_path / "kernels"
    own = kernels / "kernel-1"
    own.mkdir(parents=True)
    uid = SandboxUid(km.uid_range) if ROOT_GRADER else None
    try:
        if uid is not None:  # as ForkServer and ForkingKernelManager do
            os.chmod(kernels, 0o711)
            os.chown(own, uid.uid, uid.uid)
        mine = course / "autograded" / "alice" / "a1"
        os.chmod(mine, 0o777)  # only the read-only bind stands in the way
        program = textwrap.dedent(f"""
            import errno, json, os
            def write(path):
                try:
                    with open(path, "w") as f:
                        f.write("x")
                    return "ok"
                except OSError as exc:
                    return errno.errorcode[exc.errno]
            print(json.dumps({{"submission": write({str(mine / "planted.txt")!r}),
                              "kernels": write({str(kernels / "planted.txt")!r}),
                              "own": write({str(own / "kernel.json")!r}),
                              "course": sorted(os.listdir({str(course)!r})),
                              "env": dict(os.environ), "cwd": os.getcwd(), "uid": os.getuid()}}))
        """)
        cmd = [*server_box(km, "bwrap", course / "autograded", kernels,
                           None if uid is None else uid.uid), sys.executable, "-c", program]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                              env={**os.environ, **SECRETS})
    finally:
        if uid is not None:
            uid.release()
    got = answer(proc)
    assert got["submission"] == "EROFS" and not (mine / "planted.txt").exists()
    assert got["own"] == "ok" and (own / "kernel.json").read_text() == "x"
    assert got["course"] == ["autograded"] and got["cwd"] == "/tmp"
    assert not any(key in got["env"] for key in SECRETS)
    # TensorFlow quiet in the server (unless the grader chose otherwise)
    assert got["env"]["TF_CPP_MIN_LOG_LEVEL"] == os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")
    if ROOT_GRADER:
        assert got["kernels"] == "EACCES" and got["uid"] == uid.uid


def test_the_box_builder_takes_absolute_paths_only():
    from keras_course.grading.box import Bind, Tmpfs, bwrap_command

    uid = 234567 if ROOT_GRADER else None
    for mount in (Bind("autograded", "/x"), Bind("/x", "x/y"), Tmpfs("--bind", 1 << 20)):
        with pytest.raises(ValueError):
            bwrap_command("bwrap", uid=uid, env={}, env_allow=(), tmp_size=1, shm_size=1,
                          mounts=[mount])
    if ROOT_GRADER:  # root in a user namespace of its own could write the grader's files
        with pytest.raises(SandboxUnavailableError, match="as root"):
            bwrap_command("bwrap", uid=None, env={}, env_allow=(), tmp_size=1, shm_size=1)
