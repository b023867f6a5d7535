"""Grading at scale: parallel workers, PostgreSQL, Dask, dead workers and interrupted runs.

One small class (the reference solution, the untouched release notebook and two variants of
`a1_sequential`) is graded several ways, and every way must give the same grades, cell by cell:

- serially by stock `nbgrader autograde a1_sequential` (one process for the class, the course's
  configuration): the reference;
- by `make grade`'s command on the local worker pool into SQLite;
- by the same command with the gradebook on a real PostgreSQL server the test starts;
- by the same command with its workers on a Dask cluster (a `LocalCluster`), configured only
  through `KERAS_COURSE_DASK_SCHEDULER` and `KERAS_COURSE_DB_URL`.

Then: a worker killed in the middle of a notebook is reported and the rest is graded; a run
killed half-way is resumed by running it again, which grades only what is missing.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from conftest import copy_course
from nbgrader.api import Gradebook

from keras_course.course import load_variant, release, submit
from keras_course.grading.batch import grade_all
from keras_course.grading.record import Job, Result, all_jobs
from keras_course.grading.worker import grade_submission

pytestmark = pytest.mark.pipeline

A = "a1_sequential"
#: student -> what they hand in ("reference", "blank" or a variant of demo/variants/a1_sequential)
CLASS = {"ref": "reference", "blank": "blank", "hard": "hard_coded_sizes", "noinput": "no_input"}


def small_class(dest: Path, env: dict | None = None) -> Path:
    root = copy_course(dest)
    old = dict(os.environ)
    os.environ.update(env or {})
    try:
        release(root)
    finally:
        os.environ.clear()
        os.environ.update(old)
    for student, name in CLASS.items():
        submit(root, student, A, load_variant(root, A, name))
    return root


def read_grades(db_url: str) -> dict[str, dict[str, tuple[float, float]]]:
    """student -> {grade_id: (score, max_score)} of every autograded cell of a1_sequential."""
    grades = {}
    with Gradebook(db_url) as gb:
        for sub in gb.assignment_submissions(A):
            grades[sub.student.id] = {g.name: (g.score, g.max_score) for nb in sub.notebooks
                                      for g in nb.grades if g.auto_score is not None}
    return grades


def sqlite(root: Path) -> str:
    return f"sqlite:///{root / 'gradebook.db'}"


def course_grade(root: Path, env: dict | None = None, *args: str,
                 check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "keras_course.course", "grade", "--root",
                           str(root), *args], capture_output=True, text=True, timeout=1800,
                          env={**os.environ, **(env or {})})
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> dict:
    """The class graded by stock nbgrader, serially, in one process: the reference grades."""
    root = small_class(tmp_path_factory.mktemp("serial") / "course")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", A, "--force"],
                          cwd=root, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    grades = read_grades(sqlite(root))
    assert set(grades) == set(CLASS)
    return grades


def expected_losses(root: Path) -> dict[str, list[str]]:
    out = {}
    for student, name in CLASS.items():
        variant = load_variant(root, A, name)
        out[student] = sorted(variant.loses) if variant and name != "blank" else []
    return out


def assert_right_grades(grades: dict, serial: dict, root: Path) -> None:
    assert grades == serial
    losses = expected_losses(root)
    for student, cells in grades.items():
        lost = sorted(g for g, (s, m) in cells.items() if s != m)
        if CLASS[student] == "blank":
            assert lost == sorted(cells), student
        else:
            assert lost == losses[student], student


# ----------------------------------------------------------------------------------- SQLite

def test_parallel_grades_equal_serial_grades(serial, tmp_path):
    root = small_class(tmp_path / "course")
    proc = course_grade(root, None, "--workers", "2")
    assert "4 submissions to grade with 2 workers" in proc.stdout
    assert_right_grades(read_grades(sqlite(root)), serial, root)
    assert (root / "reports" / "index.html").exists()
    again = course_grade(root)
    assert "0 submissions to grade" in again.stdout


# ------------------------------------------------------------------------------- PostgreSQL

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if found:
        return found[0].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _install_postgres() -> None:
    """Debian's PostgreSQL server, installed when missing (a fresh CI machine has none)."""
    if _pg_bin() is not None:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("PostgreSQL is not installed and cannot be installed here "
                    "(run `sudo apt-get install postgresql`)")
    subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=True,
                   capture_output=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    assert _pg_bin() is not None


@pytest.fixture(scope="module")
def postgres():
    """A private PostgreSQL server on a loopback port, as an unprivileged user, in a temp dir."""
    _install_postgres()
    bin_dir = _pg_bin()
    folder = Path(tempfile.mkdtemp(prefix="keras-course-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use its own system user
        import pwd

        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                  "--init-groups"]
    port = _free_port()
    data = folder / "data"

    def run(*cmd: str) -> None:
        proc = subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=120,
                              cwd=folder)
        assert proc.returncode == 0, proc.stdout + proc.stderr

    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
        "--encoding=UTF8", "--no-sync")
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w",
        "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            for name in ("gradebook_local", "gradebook_dask"):
                cur.execute(f"CREATE DATABASE {name}")
        conn.close()
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)


def test_postgresql_gradebook_gives_the_same_grades(serial, postgres, tmp_path):
    url = f"{postgres}/gradebook_local"
    env = {"KERAS_COURSE_DB_URL": url}
    root = small_class(tmp_path / "course", env)
    course_grade(root, env)
    assert not (root / "gradebook.db").exists(), "SQLite was used instead of PostgreSQL"
    assert_right_grades(read_grades(url), serial, root)
    rows = (root / "grades" / "grades.csv").read_text().splitlines()
    assert len(rows) == 1 + len(CLASS) * 4  # one row per student and assignment


# ------------------------------------------------------------------------------------- Dask

def test_dask_workers_and_postgresql_give_the_same_grades(serial, postgres, tmp_path):
    from distributed import LocalCluster

    url = f"{postgres}/gradebook_dask"
    env = {"KERAS_COURSE_DB_URL": url}
    root = small_class(tmp_path / "course", env)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, host="127.0.0.1") as cluster:
        proc = course_grade(root, {**env, "KERAS_COURSE_DASK_SCHEDULER": cluster.scheduler_address})
        assert f"on the Dask cluster at {cluster.scheduler_address}" in proc.stdout
        workers = {r["worker"] for r in map(json.loads, _results(root))}
    assert_right_grades(read_grades(url), serial, root)
    assert len(workers) >= 1


def _results(root: Path) -> list[str]:
    """The worker that graded each submission, from the per-submission record."""
    entries = json.loads((root / "grades" / "graded.json").read_text())
    return [json.dumps({"worker": e.get("worker", "")}) for e in entries.values()]


# ----------------------------------------------------------------- dead workers, interrupts

def die_in_the_middle(job: Job, settings) -> Result:
    """A grader that kills its own worker a few seconds into student `crash`'s notebook."""
    if job.student == "crash":
        import threading

        folder = Path(settings.root) / "autograded" / job.student / job.assignment

        def kill_when_running() -> None:
            while not folder.exists():  # nbgrader creates it just before the kernel starts
                time.sleep(0.05)
            time.sleep(1.5)
            os.kill(os.getpid(), signal.SIGKILL)

        threading.Thread(target=kill_when_running, daemon=True).start()
    return grade_submission(job, settings)


def test_a_worker_that_dies_mid_notebook_fails_only_its_submission(serial, tmp_path):
    root = small_class(tmp_path / "course")
    submit(root, "crash", A, None)
    results = grade_all(root, all_jobs(root), workers=2,
                        grader=f"{__name__}:die_in_the_middle")
    by_student = {r.job.student: r for r in results}
    assert set(by_student) == {*CLASS, "crash"}
    assert not by_student["crash"].ok
    assert "grading worker was killed (SIGKILL" in by_student["crash"].reason
    assert all(by_student[s].ok for s in CLASS), [r.reason for r in results]
    grades = read_grades(sqlite(root))
    assert {s: grades[s] for s in CLASS} == serial
    # the next run grades only what was not graded, and this time it works
    again = course_grade(root)
    assert "1 submissions to grade" in again.stdout
    assert read_grades(sqlite(root))["crash"] == serial["ref"]


def test_an_interrupted_run_resumes_and_grades_nothing_twice(serial, tmp_path):
    root = small_class(tmp_path / "course")
    manifest = root / "grades" / "graded.json"
    proc = subprocess.Popen([sys.executable, "-m", "keras_course.course", "grade", "--root",
                             str(root), "--workers", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + 900
    done: dict = {}
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            done = json.loads(manifest.read_text())
        except (OSError, ValueError):
            done = {}
        if len(done) >= 2:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    family = psutil.Process(proc.pid).children(recursive=True)
    os.kill(proc.pid, signal.SIGKILL)  # kill -9 the command alone: its workers must follow
    proc.wait(30)
    _, alive = psutil.wait_procs(family, timeout=30)
    assert not alive, f"processes outlived the interrupted run: {alive}"
    before = json.loads(manifest.read_text())
    assert 2 <= len(before) < len(CLASS)
    again = course_grade(root, None, "--workers", "1")
    assert f"{len(CLASS) - len(before)} submissions to grade" in again.stdout
    after = json.loads(manifest.read_text())
    for key, entry in before.items():
        assert after[key]["graded_at"] == entry["graded_at"], f"{key} was graded twice"
    assert_right_grades(read_grades(sqlite(root)), serial, root)
