"""How fast is `make grade`? Stock serial nbgrader, `make grade`'s function and the floor, measured
on the same submissions in the same run.

    python benchmarks/grading_speed.py                  # 4 students x 4 assignments
    python benchmarks/grading_speed.py --students 8 --assignments a1_sequential
    python benchmarks/grading_speed.py --profile         # also: where the time goes, per phase

It builds a temporary copy of the course, releases it, and writes one class of submissions
(students cycle through the reference solution, the untouched release notebook and the demo
variants of each assignment). Then, one after the other:

- **stock**: a copy of the course with a plain nbgrader configuration (nbgrader's own
  preprocessors, no sandbox, no out-of-kernel checks; the course's timeouts), graded serially
  by `nbgrader autograde ASSIGNMENT --force`, one process per assignment, as nbgrader's
  documentation does it;
- **make grade**: `keras_course.grading.batch.grade_all`, the function under `make grade`, on a
  copy with the course's configuration, with its default workers;
- **floor**: each submitted notebook executed by nbclient in a fresh, plain kernel (a bare
  kernel start plus the notebook's own execution, `NBGRADER_EXECUTION=autograde` set as under
  grading), one after the other.

It prints wall time, seconds per notebook, the ratio to stock, the cost per notebook against
the floor, and the peak memory of each worker (its whole process tree: the worker, its fork
server and kernels; RSS counts shared pages once per process, PSS shares them out), then
whether `make grade` gave exactly the stock grades. Run it on a quiet machine: it prints the
load average before and after.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))

from keras_course.course import load_variant, release, submit  # noqa: E402
from keras_course.grading.batch import Progress, all_jobs, default_workers, grade_all  # noqa: E402

COURSE_FILES = ("source", "release", "demo", "nbgrader_config.py")

#: nbgrader's own configuration for the same course: no sandbox, no out-of-kernel checks.
STOCK_CONFIG = '''"""Plain nbgrader: the course's paths and timeouts, nbgrader's preprocessors."""
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "keras-apis"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root,
                                                       "gradebook.db") + "?timeout=60"
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
c.Execute.startup_timeout = 120
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
# nbgrader's own pipelines, spelled out: the course's environment refuses to autograde a course
# whose configuration sets none (keras_course/grading/protections.py)
from nbgrader.converters import Autograde  # noqa: E402

stock = Autograde.class_traits()
c.Autograde.sanitize_preprocessors = stock["sanitize_preprocessors"].default()
c.Autograde.autograde_preprocessors = stock["autograde_preprocessors"].default()
'''


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{out.get('PATH', '')}"
    out.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    out.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    return out


def copy_course(dest: Path, config: str | None = None) -> Path:
    dest.mkdir(parents=True)
    for name in COURSE_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    if config is not None:
        (dest / "nbgrader_config.py").write_text(config)
    return dest


def make_class(root: Path, students: int, assignments: list[str]) -> dict[tuple[str, str], str]:
    """Submit `students` submissions of each assignment; returns (student, assignment) -> kind."""
    kinds = {}
    for assignment in assignments:
        names = ["reference", "blank"] + sorted(
            p.stem for p in (REPO / "demo" / "variants" / assignment).glob("*.py"))
        for i in range(students):
            name = names[i % len(names)]
            student = f"s{i:03d}"
            submit(root, student, assignment, load_variant(root, assignment, name))
            kinds[(student, assignment)] = name
    return kinds


def copy_submissions(src: Path, dest: Path) -> None:
    shutil.copytree(src / "submitted", dest / "submitted")


def read_grades(root: Path) -> dict[tuple[str, str], dict[str, float]]:
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for a in gb.assignments:
            for sub in gb.assignment_submissions(a.name):
                out[(sub.student.id, a.name)] = {
                    g.name: g.score for nb in sub.notebooks for g in nb.grades
                    if g.auto_score is not None}
    return out


class MemorySampler:
    """Peak RSS and PSS of each child process tree of this process, sampled four times a second."""

    def __init__(self) -> None:
        self.peak_rss: dict[int, int] = {}
        self.peak_pss: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _pss(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _sample(self) -> None:
        me = psutil.Process()
        for top in me.children():
            try:
                tree = [top, *top.children(recursive=True)]
            except psutil.Error:
                continue
            rss = pss = 0
            for p in tree:
                try:
                    rss += p.memory_info().rss
                    pss += self._pss(p.pid)
                except psutil.Error:
                    pass
            self.peak_rss[top.pid] = max(self.peak_rss.get(top.pid, 0), rss)
            self.peak_pss[top.pid] = max(self.peak_pss.get(top.pid, 0), pss)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(0.25)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def worst(self) -> tuple[int, int]:
        """The largest per-tree peaks (RSS, PSS), ignoring trees too small to be workers."""
        rss = [v for v in self.peak_rss.values() if v > 50 * 2**20]
        pss = [v for v in self.peak_pss.values() if v > 50 * 2**20]
        return max(rss, default=0), max(pss, default=0)


def run_stock(root: Path, assignments: list[str]) -> float:
    started = time.monotonic()
    for assignment in assignments:
        proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment,
                               "--force"], cwd=root, env=env(), capture_output=True, text=True)
        (root / f"stock-{assignment}.log").write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            print(f"  stock nbgrader reported errors for {assignment} (see "
                  f"{root / f'stock-{assignment}.log'})")
    return time.monotonic() - started


def run_make_grade(root: Path, workers: int) -> tuple[float, list]:
    jobs = all_jobs(root)
    started = time.monotonic()
    progress = Progress(len(jobs), stream=open(os.devnull, "w"))
    results = grade_all(root, jobs, env(), workers=workers, on_result=progress.update)
    return time.monotonic() - started, results


def run_floor(root: Path) -> tuple[float, list[float]]:
    """Each submitted notebook in a fresh plain kernel through nbclient, serially."""
    import nbformat
    from nbclient import NotebookClient

    os.environ.update({k: v for k, v in env().items() if k.startswith("TF_")})
    times = []
    quiet = os.open(os.devnull, os.O_WRONLY)  # what the kernels print on their own stdout
    saved = os.dup(1), os.dup(2)
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    try:
        started = time.monotonic()
        _floor(root, times, nbformat, NotebookClient)
        return time.monotonic() - started, times
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(quiet)


def _floor(root: Path, times: list[float], nbformat, NotebookClient) -> None:
    for path in sorted((root / "submitted").glob("*/*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        t = time.monotonic()
        os.environ["NBGRADER_EXECUTION"] = "autograde"
        try:
            client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                                    resources={"metadata": {"path": str(path.parent)}})
            asyncio.run(client.async_execute())
        finally:
            os.environ.pop("NBGRADER_EXECUTION", None)
        times.append(time.monotonic() - t)


def profile(root: Path, assignment: str, students: list[str]) -> None:
    """Where the time of one submission goes: in-process autograde with timers on each phase,
    with the course's sandboxed kernels started afresh, then forked."""
    code = PROFILE_SCRIPT
    for fork in ("0", "1"):
        proc = subprocess.run([sys.executable, "-c", code, str(root), assignment, fork,
                               *students], cwd=root, env=env(), capture_output=True, text=True)
        print(proc.stdout.rstrip() or proc.stderr[-2000:])


PROFILE_SCRIPT = r'''
import collections, functools, inspect, os, sys, time
root, assignment, fork, students = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4:]
T = collections.defaultdict(float); N = collections.Counter()
t0 = time.perf_counter()
from nbgrader.apps.autogradeapp import AutogradeApp
from nbgrader.converters import Autograde
from nbgrader.utils import capture_log
from nbclient.client import NotebookClient
from jupyter_core.utils import run_sync
from nbgrader.preprocessors import SaveAutoGrades, OverwriteCells
from keras_course.grading.verify import VerifyEvidence
def timed(cls, name, label):
    f = getattr(cls, name)
    if inspect.iscoroutinefunction(f):
        async def g(*a, **k):
            t = time.perf_counter()
            try: return await f(*a, **k)
            finally: T[label] += time.perf_counter() - t; N[label] += 1
    else:
        def g(*a, **k):
            t = time.perf_counter()
            try: return f(*a, **k)
            finally: T[label] += time.perf_counter() - t; N[label] += 1
    setattr(cls, name, functools.wraps(f)(g))
timed(Autograde, "init_assignment", "gradebook: student, submission, copies")
timed(OverwriteCells, "preprocess", "gradebook: restore cells (sanitize)")
timed(SaveAutoGrades, "preprocess", "gradebook: save grades")
timed(VerifyEvidence, "preprocess", "out-of-kernel checks")
timed(NotebookClient, "async_start_new_kernel", "kernel start (launch)")
timed(NotebookClient, "async_start_new_kernel_client", "kernel start (until ready)")
orig = NotebookClient.async_execute_cell
async def cell(self, c, i, *a, **k):
    t = time.perf_counter()
    try: return await orig(self, c, i, *a, **k)
    finally:
        meta = c.metadata.get("nbgrader", {})
        label = ("cell: setup (imports TensorFlow)" if meta.get("grade_id") == "setup" else
                 "cell: training (fit)" if ".fit(" in c.source else
                 "cells: tests" if meta.get("grade") else "cells: the rest")
        T[label] += time.perf_counter() - t; N[label] += 1
NotebookClient.async_execute_cell = cell
NotebookClient.execute_cell = run_sync(cell)
NotebookClient.start_new_kernel = run_sync(NotebookClient.async_start_new_kernel)
NotebookClient.start_new_kernel_client = run_sync(NotebookClient.async_start_new_kernel_client)
os.chdir(root)
app = AutogradeApp(); app.initialize([])
T["start nbgrader: imports and configuration"] = time.perf_counter() - t0
for h in list(app.log.handlers): app.log.removeHandler(h)
if fork:
    app.config.Autograde.autograde_preprocessors = [
        "keras_course.grading.forkserver.ForkingExecute" if p.endswith("SandboxedExecute") else p
        for p in app.config.Autograde.autograde_preprocessors]
def grade(s):
    app.coursedir.assignment_id, app.coursedir.student_id = assignment, s
    conv = Autograde(coursedir=app.coursedir, parent=app); conv.force = True
    t = time.perf_counter(); r = capture_log(conv)
    assert r["success"], r
    return time.perf_counter() - t
startup = dict(T)
warm = grade(students[0])  # the first one also waits for the fork server: not counted
T.clear(); N.clear()
total = [grade(s) for s in students[1:]]
n = len(total)
title = ("forked kernels (make grade's workers)" if fork else
         "sandboxed kernels started afresh (the course config, as nbgrader autograde runs it)")
print(f"\nwhere the time goes, {title}: seconds per notebook, mean of {n}")
for k, v in startup.items():
    print(f"  {k + ' (once per process)':58s} {v:6.2f}")
if fork:
    from keras_course.grading.forkserver import server_info
    info = server_info()
    if info:
        label = "fork server: import TensorFlow etc. (once per worker)"
        print(f"  {label:58s} {info[0]['seconds']:6.2f}")
for k, v in T.items():
    print(f"  {k:58s} {v / n:6.2f}")
print(f"  {'one notebook in all':58s} {sum(total) / n:6.2f}")
'''


def fmt_mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=4, help="submissions per assignment")
    parser.add_argument("--assignments", default="", help="comma-separated (default: all)")
    parser.add_argument("--workers", type=int, default=None,
                        help=f"make grade's workers (default: {default_workers()})")
    parser.add_argument("--profile", action="store_true",
                        help="also show where the time of one notebook goes")
    parser.add_argument("--keep", type=Path, default=None, help="keep the courses in this folder")
    args = parser.parse_args()
    assignments = [a for a in args.assignments.split(",") if a] or sorted(
        p.name for p in (REPO / "source").iterdir() if p.is_dir())
    workers = args.workers or default_workers()
    base = args.keep or Path(tempfile.mkdtemp(prefix="keras-course-bench-"))
    os.environ.update(env())
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    ours = copy_course(base / "course")
    stock = copy_course(base / "stock", STOCK_CONFIG)
    for course in (ours, stock):
        release(course)
    kinds = make_class(ours, args.students, assignments)
    copy_submissions(ours, stock)
    n = len(kinds)
    print(f"class: {args.students} students x {len(assignments)} assignments = {n} notebooks "
          f"({', '.join(assignments)})")

    with MemorySampler() as stock_mem:
        stock_s = run_stock(stock, assignments)
    print(f"stock nbgrader, serial:   {stock_s:7.1f} s")
    with MemorySampler() as ours_mem:
        ours_s, results = run_make_grade(ours, workers)
    failed = [r for r in results if not r.ok]
    print(f"make grade ({workers} workers): {ours_s:7.1f} s"
          + (f"  ({len(failed)} failed: {[str(r.job) for r in failed]})" if failed else ""))
    with MemorySampler() as floor_mem:
        floor_s, floor_times = run_floor(ours)
    floor_nb = statistics.fmean(floor_times)
    print(f"floor (bare kernel + nbclient, serial): {floor_s:7.1f} s")

    stock_grades, our_grades = read_grades(stock), read_grades(ours)
    differ = {k: (stock_grades.get(k), our_grades.get(k)) for k in set(stock_grades) | set(
        our_grades) if stock_grades.get(k) != our_grades.get(k)}
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    per_stock, per_ours = stock_s / n, ours_s / n
    rows = [
        ("stock nbgrader autograde, serial", stock_s, per_stock, 1.0, per_stock / floor_nb,
         stock_mem.worst()),
        (f"make grade ({workers} workers)", ours_s, per_ours, ours_s / stock_s,
         per_ours / floor_nb, ours_mem.worst()),
        ("floor: bare kernel + nbclient, serial", floor_s, floor_nb, floor_s / stock_s, 1.0,
         floor_mem.worst()),
    ]
    print(f"\n{'':40s} {'wall':>8s} {'s/notebook':>11s} {'vs stock':>9s} {'vs floor':>9s} "
          f"{'peak RSS/worker':>16s} {'peak PSS/worker':>16s}")
    for name, wall, per, ratio, floor_ratio, (rss, pss) in rows:
        print(f"{name:40s} {wall:7.1f}s {per:10.2f}s {ratio:8.2f}x {floor_ratio:8.2f}x "
              f"{fmt_mb(rss):>16s} {fmt_mb(pss):>16s}")
    busy = ours_s * workers / n
    print(f"\nmake grade's cost per notebook: {per_ours:.2f} s of wall time "
          f"({per_ours / floor_nb:.2f}x the floor's {floor_nb:.2f} s); counted in worker time "
          f"({workers} workers busy the whole run): {busy:.2f} s ({busy / floor_nb:.2f}x)")
    print(f"make grade / stock: {ours_s / stock_s:.2f} (target <= 0.5); "
          f"per notebook / floor: {per_ours / floor_nb:.2f} (target <= 1.5)")
    if differ:
        print(f"grades differ from stock in {len(differ)} submissions:")
        for (student, assignment), (a, b) in sorted(differ.items()):
            cells = sorted(g for g in set(a or {}) | set(b or {})
                           if (a or {}).get(g) != (b or {}).get(g))
            print(f"  {student}/{assignment} ({kinds.get((student, assignment))}): {cells} "
                  f"stock={[ (a or {}).get(g) for g in cells]} "
                  f"make grade={[(b or {}).get(g) for g in cells]}")
    else:
        print(f"grades: identical to stock in all {n} submissions, cell by cell")
    (base / "benchmark.json").write_text(json.dumps({
        "notebooks": n, "workers": workers, "stock_s": stock_s, "make_grade_s": ours_s,
        "floor_s": floor_s, "floor_per_notebook_s": floor_nb,
        "peak_rss_per_worker": ours_mem.worst()[0], "peak_pss_per_worker": ours_mem.worst()[1],
        "stock_peak_rss": stock_mem.worst()[0], "differ": len(differ)}, indent=1))
    if args.profile:
        first = assignments[0]
        students = sorted({s for (s, a), k in kinds.items() if a == first and k == "reference"}
                          | {s for (s, a) in kinds if a == first})[:3]
        profile(ours, first, students)
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
