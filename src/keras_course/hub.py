"""The course on a JupyterHub on this machine: `make hub`, `make hub-stop`, `make hub-reset`.

    keras-course hub start [--port 8000]  # set up (idempotent) and start; run as root
    keras-course hub stop                 # stop the hub and every user's server
    keras-course hub reset                # stop, then delete the hub's users, homes,
                                          # exchange and state (the environment stays)

`start` does, each step only when not done yet:

1. The environment: a venv in /opt/keras-course-hub/venv from a Python every user can run
   (a Python under /root is not), with the pinned requirements.txt and this course's package.
2. `configurable-http-proxy` from npm (`npm install -g configurable-http-proxy@5.3.0`).
3. System users: an instructor and students, passwords set with `chpasswd` (random ones, printed
   and kept in /srv/keras-course-hub/hub/passwords.txt, readable by root only), homes 0700.
4. nbgrader's exchange in /srv/keras-course-hub/exchange (0777 and sticky, as nbgrader expects).
5. The instructor's home gets a copy of the course (`~/keras-course`, where `make grade` runs as
   the instructor) and `~/.jupyter/nbgrader_config.py`, which loads the course's configuration:
   that is how formgrader finds the course. Students get the course id, the exchange and
   nbgrader's Assignment List and Validate; formgrader, the course list and Create Assignment are
   switched off for them.
6. JupyterHub (hub/jupyterhub_config.py): PAM logins, every user's server started as that user
   (LocalProcessSpawner), on http://127.0.0.1:PORT only.
"""
from __future__ import annotations

import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import messages
from .coursedir import path_with_first

#: The repository this module was installed from (its hub/ folder holds the hub's config).
REPO = Path(__file__).resolve().parents[2]
PROXY_PACKAGE = "configurable-http-proxy@5.3.0"
#: What of the course the instructor's copy holds (`make grade` runs there).
COURSE_FILES = ("source", "release", "nbgrader_config.py", "course.toml", "extensions.csv",
                "Makefile", "requirements.txt", "pyproject.toml", "README.md", "src")
COURSE_ID = "keras-apis"
#: nbgrader's Lab plugins and server extensions a student's server leaves out.
STUDENT_LAB_OFF = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                   "@jupyter/nbgrader:create-assignment")
STUDENT_SERVER_OFF = ("nbgrader.server_extensions.formgrader",
                      "nbgrader.server_extensions.course_list")


@dataclass
class Site:
    """One hub on this machine: where it lives, who uses it, where it listens."""

    name: str = "keras-course-hub"
    instructor: str = "instructor"
    students: list[str] = field(default_factory=lambda: ["student1", "student2", "student3"])
    port: int = 8000
    venv: str = "/opt/keras-course-hub/venv"
    srv: str = ""  # default: /srv/<name>
    repo: str = str(REPO)
    hub_port: int = 0
    proxy_api_port: int = 0

    def __post_init__(self):
        self.srv = self.srv or f"/srv/{self.name}"

    @property
    def exchange(self) -> Path:
        return Path(self.srv) / "exchange"

    @property
    def state(self) -> Path:
        return Path(self.srv) / "hub"

    @property
    def users(self) -> list[str]:
        return [self.instructor, *self.students]

    def home(self, user: str) -> Path:
        return Path(pwd.getpwnam(user).pw_dir)

    def course(self) -> Path:
        return self.home(self.instructor) / "keras-course"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def say(text: str) -> None:
    print(f"hub: {text}", flush=True)


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(args), capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise SystemExit(messages.HUB_STEP_FAILED.format(
            command=" ".join(args[:4]), code=proc.returncode,
            output=(proc.stdout + proc.stderr)[-2000:]))
    return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- 1. the environment -------------------------------------------------------------------------

def world_runnable(path: Path) -> bool:
    """Whether any user can run `path` (every folder above it searchable by others)."""
    path = path.resolve()
    if not path.is_file() or not os.stat(path).st_mode & stat.S_IXOTH:
        return False
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in path.parents)


def base_python() -> Path:
    """A Python of this minor version that every user can run (the pinned wheels match it)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [Path(getattr(sys, "_base_executable", sys.executable)),
                  Path(f"/usr/bin/python{version}"), Path(f"/usr/local/bin/python{version}")]
    for candidate in candidates:
        if candidate.exists() and world_runnable(candidate):
            return candidate
    raise SystemExit(messages.NO_SHARED_PYTHON.format(version=version, python=candidates[0]))


def stamp_of(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


def ensure_venv(site: Site) -> Path:
    """The hub's environment: the pinned requirements, then the course's package (each only
    when changed since the last run)."""
    venv, repo = Path(site.venv), Path(site.repo)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    pins = venv / ".hub-requirements"
    package = venv / ".hub-package"
    pins_stamp = stamp_of(repo / "requirements.txt")
    package_stamp = stamp_of(repo / "pyproject.toml", *sorted((repo / "src").rglob("*.py")),
                             *sorted((repo / "src").rglob("*.json")))
    if not (venv / "bin" / "python").exists():
        python = base_python()
        say(f"creating the hub's environment {venv} from {python}")
        run(str(python), "-m", "venv", str(venv))
    if not pins.is_file() or pins.read_text() != pins_stamp:
        say("installing the pinned requirements into it (a few minutes the first time)")
        run(*pip, "-r", str(repo / "requirements.txt"))
        pins.write_text(pins_stamp)
    if not package.is_file() or package.read_text() != package_stamp:
        say("installing the course's package into it")
        build = Path(site.srv) / "build"  # pip builds the package outside the repository
        shutil.rmtree(build, ignore_errors=True)
        build.mkdir(parents=True)
        for name in ("src", "pyproject.toml", "README.md"):
            (shutil.copytree if (repo / name).is_dir() else shutil.copy2)(
                repo / name, build / name)
        run(*pip, "--no-deps", "--force-reinstall", str(build))
        shutil.rmtree(build, ignore_errors=True)
        package.write_text(package_stamp)
    # The environment's guard that refuses to autograde without the course's protections
    # (keras_course/grading/protections.py): the Makefile writes it, but the instructor cannot
    # write here.
    run(str(venv / "bin" / "python"), "-m", "keras_course.grading.protections", "install")
    (venv / ".installed").touch()  # the Makefile's stamp: `make grade` in the course copy
    return venv


# --- 2. the proxy -------------------------------------------------------------------------------

def ensure_proxy() -> str:
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    if not shutil.which("npm"):
        raise SystemExit(messages.NO_NPM)
    say(f"installing {PROXY_PACKAGE} from npm")
    run("npm", "install", "--global", "--no-fund", "--no-audit", PROXY_PACKAGE)
    found = shutil.which("configurable-http-proxy")
    if not found:
        raise SystemExit(messages.PROXY_NOT_FOUND)
    return found


# --- 3. users -----------------------------------------------------------------------------------

def ensure_user(name: str, password: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        say(f"creating the user {name}")
        run("useradd", "--create-home", "--shell", "/bin/bash", name)
    run("chpasswd", input=f"{name}:{password}\n")
    home = Path(pwd.getpwnam(name).pw_dir)
    os.chmod(home, 0o700)  # Debian makes homes 0755: classmates could read each other's work


def chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for p in [path, *path.rglob("*")]:
        os.lchown(p, entry.pw_uid, entry.pw_gid)


def write_as(user: str, path: Path, text: str) -> None:
    """Write a file in a user's home, folders included, owned by the user."""
    home = Path(pwd.getpwnam(user).pw_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    for p in [path, *path.relative_to(home).parents]:
        os.lchown(home / p, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)


def lab_settings(user: str) -> None:
    """Answer JupyterLab's "get Jupyter news?" question (no pop-up, no calls home)."""
    home = Path(pwd.getpwnam(user).pw_dir)
    write_as(user, home / ".jupyter/lab/user-settings/@jupyterlab/apputils-extension/"
                          "notification.jupyterlab-settings", '{"fetchNews": "false"}\n')


# --- 4, 5. the exchange and the course ----------------------------------------------------------

def ensure_exchange(site: Site) -> None:
    os.makedirs(site.srv, exist_ok=True)
    os.chmod(site.srv, 0o755)
    site.exchange.mkdir(exist_ok=True)
    os.chmod(site.exchange, 0o1777)  # nbgrader wants 0777; sticky: only owners delete
    site.state.mkdir(exist_ok=True)
    os.chmod(site.state, 0o700)


def install_course(site: Site) -> None:
    """The instructor's copy of the course and Jupyter configuration."""
    user, course = site.instructor, site.course()
    if not course.exists():
        say(f"copying the course into {course}")
        course.mkdir()
        for name in COURSE_FILES:
            src = Path(site.repo) / name
            if src.is_dir():
                shutil.copytree(src, course / name, ignore=shutil.ignore_patterns(
                    ".ipynb_checkpoints", "__pycache__"))
            elif src.exists():
                shutil.copy2(src, course / name)
        (course / ".venv").symlink_to(site.venv)  # `make grade` uses the hub's environment
        chown_tree(course, user)
    home = site.home(user)
    write_as(user, home / ".jupyter" / "nbgrader_config.py", (
        "# Written by `make hub` (keras_course/hub.py). Formgrader finds the course through\n"
        "# this file only: it loads the course's own configuration.\n"
        "c = get_config()  # noqa: F821\n"
        f"load_subconfig({str(course / 'nbgrader_config.py')!r})  # noqa: F821\n"
        f"c.Exchange.root = {str(site.exchange)!r}\n"
        "# collect only what the named student owns, dated by the file system; inbound/ sticky\n"
        "c.ExchangeFactory.collect = 'keras_course.exchange.OwnedCollect'\n"
        "c.ExchangeFactory.release_assignment = 'keras_course.exchange.OwnedReleaseAssignment'\n"
        "# formgrader's links to notebooks, relative to the server's root (the home)\n"
        "c.FormgradeExtension.url_prefix = 'keras-course'\n"))
    lab_settings(user)


def configure_student(site: Site, user: str) -> None:
    home = site.home(user)
    write_as(user, home / ".jupyter" / "nbgrader_config.py", (
        "# Written by `make hub` (keras_course/hub.py): the course and its exchange.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.Exchange.root = {str(site.exchange)!r}\n"
        "# submissions readable by the instructor only, not by classmates\n"
        "c.ExchangeFactory.submit = 'keras_course.exchange.PrivateSubmit'\n"
        "c.Execute.timeout = 120  # Validate: Keras cells train for a few seconds\n"
        "c.Execute.interrupt_on_timeout = True\n"
        "c.Execute.startup_timeout = 120\n"))
    write_as(user, home / ".jupyter" / "jupyter_server_config.json", json.dumps(
        {"ServerApp": {"jpserver_extensions": {name: False for name in STUDENT_SERVER_OFF}}},
        indent=2) + "\n")
    write_as(user, home / ".jupyter" / "labconfig" / "page_config.json", json.dumps(
        {"disabledExtensions": {name: True for name in STUDENT_LAB_OFF}}, indent=2) + "\n")
    lab_settings(user)


# --- 6. the hub ---------------------------------------------------------------------------------

def site_file(site: Site) -> Path:
    return site.state / "site.json"


def load_site(name: str = "keras-course-hub", srv: str = "") -> Site | None:
    path = Path(srv or f"/srv/{name}") / "hub" / "site.json"
    return Site(**json.loads(path.read_text())) if path.is_file() else None


def hub_pid(site: Site) -> int | None:
    try:
        pid = int((site.state / "jupyterhub.pid").read_text())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def health(site: Site) -> bool:
    try:
        with urllib.request.urlopen(f"{site.url}/hub/health", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def setup(site: Site, passwords: dict[str, str] | None = None) -> dict[str, str]:
    """Everything but starting the hub; returns the passwords it set (new ones when not given)."""
    if os.geteuid() != 0:
        raise SystemExit(messages.HUB_NEEDS_ROOT)
    ensure_exchange(site)
    ensure_venv(site)
    ensure_proxy()
    kept = site.state / "passwords.txt"
    if passwords is None:
        old = dict(line.split(":", 1) for line in kept.read_text().split()) if kept.exists() \
            else {}
        passwords = {u: old.get(u) or secrets.token_urlsafe(9) for u in site.users}
    for user in site.users:
        ensure_user(user, passwords[user])
    kept.write_text("".join(f"{u}:{p}\n" for u, p in passwords.items()))
    os.chmod(kept, 0o600)
    install_course(site)
    for student in site.students:
        configure_student(site, student)
    return passwords


def start(site: Site, passwords: dict[str, str] | None = None, timeout: float = 120) -> dict:
    if hub_pid(site):
        raise SystemExit(messages.HUB_RUNNING.format(name=site.name))
    passwords = setup(site, passwords)
    site.hub_port = site.hub_port or free_port()
    site.proxy_api_port = site.proxy_api_port or free_port()
    site_file(site).write_text(json.dumps(asdict(site), indent=2))
    venv = Path(site.venv)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "VIRTUAL_ENV"))}
    system = os.pathsep.join([os.path.dirname(ensure_proxy()), "/usr/local/bin", "/usr/bin",
                              "/bin", "/usr/sbin", "/sbin"])
    env.update(KERAS_HUB_SITE=str(site_file(site)), PATH=path_with_first(venv / "bin", system))
    log = site.state / "jupyterhub.log"
    with log.open("a") as out:
        proc = subprocess.Popen([str(venv / "bin" / "jupyterhub"), "-f",
                                 str(Path(site.repo) / "hub" / "jupyterhub_config.py")],
                                cwd=site.state, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    (site.state / "jupyterhub.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while not health(site):
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            stop(site)
            raise SystemExit(messages.HUB_DID_NOT_START.format(log=log, tail=tail))
        time.sleep(0.3)
    return passwords


def user_pids(users: list[str]) -> list[int]:
    uids = set()
    for user in users:
        try:
            uids.add(pwd.getpwnam(user).pw_uid)
        except KeyError:
            pass
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid in uids:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def stop(site: Site, timeout: float = 30) -> None:
    """Stop the hub (it stops the users' servers and its proxy), then anything its users left."""
    pid = hub_pid(site)
    if pid:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and hub_pid(site):
            time.sleep(0.2)
        if hub_pid(site):
            os.killpg(pid, signal.SIGKILL)
    (site.state / "jupyterhub.pid").unlink(missing_ok=True)
    proxy_pid = site.state / "proxy.pid"
    if proxy_pid.is_file():
        try:
            os.kill(int(proxy_pid.read_text()), signal.SIGTERM)
        except (OSError, ValueError):
            pass
        proxy_pid.unlink(missing_ok=True)
    for sig in (signal.SIGTERM, signal.SIGKILL):  # servers and kernels of the hub's users only
        for pid in user_pids(site.users):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + 10
        while user_pids(site.users) and time.monotonic() < deadline:
            time.sleep(0.2)


def reset(site: Site) -> None:
    """Stop, then delete the users this hub made (and their homes), its exchange and state."""
    stop(site)
    for user in site.users:
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        subprocess.run(["userdel", "--remove", user], capture_output=True)
    shutil.rmtree(site.srv, ignore_errors=True)


def run_command(action: str, port: int = 8000, name: str = "keras-course-hub") -> list[str]:
    """`start`, `stop` or `reset` the hub called `name`; returns the lines to show."""
    site = load_site(name) or Site(name=name)
    if action == "start":
        site.port, site.hub_port, site.proxy_api_port = port, 0, 0
        passwords = start(site)
        lines = [f"JupyterHub is running at {site.url} (log {site.state / 'jupyterhub.log'})"]
        for user, password in passwords.items():
            role = "instructor" if user == site.instructor else "student"
            lines.append(f"  {role:10} {user:10} password {password}")
        return lines + [f"passwords are kept in {site.state / 'passwords.txt'} (root only); "
                        "`make hub-stop` stops it, `make hub-reset` deletes its users and "
                        "exchange"]
    if action == "stop":
        stop(site)
        return ["stopped"]
    if action == "reset":
        reset(site)
        return [f"users {', '.join(site.users)}, their homes and {site.srv} deleted "
                f"(the environment {site.venv} stays)"]
    raise ValueError(messages.NO_HUB_ACTION.format(action=action))


if __name__ == "__main__":  # the program is keras_course.cli; this spelling still works
    from keras_course.cli import main

    sys.exit(main(["hub", *sys.argv[1:]]))
