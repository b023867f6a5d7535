"""How fast is `make grade`? Stock nbgrader (plain and with the course's configuration),
`make grade`'s function and the floor, measured on the same submissions in the same run.

    python benchmarks/grading_speed.py                  # 4 students x 4 assignments
    python benchmarks/grading_speed.py --students 8 --assignments a1_sequential
    python benchmarks/grading_speed.py --profile         # also: where the time goes, per phase
    python benchmarks/grading_speed.py --busy 2          # on a machine busy with other work

It builds a temporary copy of the course, releases it, and writes one class of submissions
(students cycle through the reference solution, the untouched release notebook and the demo
variants of each assignment). Then, one after the other:

- **stock, plain configuration**: a copy of the course with a plain nbgrader configuration
  (nbgrader's own preprocessors, no sandbox, no out-of-kernel checks; the course's timeouts),
  graded serially by `nbgrader autograde ASSIGNMENT --force`, one process per assignment, as
  nbgrader's documentation does it;
- **stock, course configuration**: the same command on a copy with the course's own
  `nbgrader_config.py` (every protection: sandboxed kernels started afresh, verdicts outside the
  kernel, the cell repairs, the skipped demonstration cells), serially;
- **make grade**: `keras_course.grading.batch.grade_all`, the function under `make grade`, on a
  copy with the course's configuration, with its default workers;
- **floor**: what the student's own cells and the test calls cost alone. For each submitted
  notebook, a plain kernel (no sandbox) is started and runs the notebook's set-up cell (the
  one with `grade_id` `setup`: TensorFlow, Keras and the helpers imported); neither is counted.
  Then, counted: the student's solution cells as submitted, and the test cells as the kernel
  receives them under grading (the instructor's test cell from source/, cut to the statements
  that record evidence by `keras_course.grading.cell_source.kernel_source`, hidden calls
  included), in notebook order, with `NBGRADER_EXECUTION=autograde`. Nothing else: no other
  cell, no kernel start, no nbgrader, no gradebook, no verdicts. The floor is the sum of those
  cells' times (from sending each to its reply), per notebook, one notebook after the other.

For each it prints the wall time, the wall time per notebook, the *worker time* per notebook
(wall time x processes grading at once / notebooks: what a notebook costs the machine's
graders, start-up and idle tails included; 1 process for the serial runs and the floor), the
ratio to stock (plain), the worker time against the floor, the 1-minute load average
(`os.getloadavg`) before and after that run, and the peak memory of each worker (its whole
process tree: the worker, its fork server and kernels; RSS counts shared pages once per
process, PSS shares them out). Then whether `make grade` gave exactly the grades of both stock
runs, cell by cell. Run it on a quiet machine, or with `--busy N` to measure, reproducibly, a
machine that N other CPU-bound processes share throughout.
"""
from __future__ import annotations

import argparse
import asyncio
import atexit
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
from keras_course.coursedir import nbgrader_env  # noqa: E402
from keras_course.grading.batch import Progress, default_workers, grade_all  # noqa: E402
from keras_course.grading.record import all_jobs  # noqa: E402

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
    """The environment every row's nbgrader runs in (the same for stock and the course)."""
    return nbgrader_env()


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
    """The floor (see the module's docstring): per notebook, the seconds of its solution cells
    and test calls alone, in a plain kernel that has already started and run the set-up cell."""
    os.environ.update({k: v for k, v in env().items() if k.startswith("TF_")})
    times = []
    quiet = os.open(os.devnull, os.O_WRONLY)  # what the kernels print on their own stdout
    saved = os.dup(1), os.dup(2)
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    try:
        started = time.monotonic()
        _floor(root, times)
        return time.monotonic() - started, times
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(quiet)


def floor_cells(submitted, instructor) -> tuple[list, list]:
    """(set-up cells, counted cells) of a submitted notebook, as the floor runs them."""
    import nbformat

    from keras_course.grading.cell_source import kernel_source

    tests = {}
    for cell in instructor.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            tests[meta.get("grade_id")] = cell.source
    setup, counted = [], []
    for cell in submitted.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("grade_id") == "setup":
            setup.append(nbformat.v4.new_code_cell(cell.source))
        elif meta.get("solution"):
            counted.append(nbformat.v4.new_code_cell(cell.source))
        elif meta.get("grade_id") in tests:
            counted.append(nbformat.v4.new_code_cell(kernel_source(tests[meta["grade_id"]])))
    return setup, counted


def _floor(root: Path, times: list[float]) -> None:
    import nbformat
    from nbclient import NotebookClient

    for path in sorted((root / "submitted").glob("*/*/*.ipynb")):
        submitted = nbformat.read(path, as_version=4)
        instructor = nbformat.read(root / "source" / path.parent.name / path.name, as_version=4)
        setup, counted = floor_cells(submitted, instructor)
        nb = nbformat.v4.new_notebook(cells=setup + counted)
        marks: dict[int, float] = {}
        spent = [0.0]

        def start(cell, cell_index, marks=marks, **_):
            marks[cell_index] = time.monotonic()

        first = len(setup)

        def done(cell, cell_index, marks=marks, spent=spent, first=first, **_):
            if cell_index >= first:
                spent[0] += time.monotonic() - marks[cell_index]

        os.environ["NBGRADER_EXECUTION"] = "autograde"
        try:
            client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                                    on_cell_execute=start, on_cell_executed=done,
                                    resources={"metadata": {"path": str(path.parent)}})
            asyncio.run(client.async_execute())
        finally:
            os.environ.pop("NBGRADER_EXECUTION", None)
        times.append(spent[0])


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
from jupyter_client.manager import AsyncKernelManager
timed(AsyncKernelManager, "shutdown_kernel", "kernel shutdown")
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


def busy(n: int) -> list[subprocess.Popen]:
    """`n` processes that spin on the CPU until killed: other work on the same machine."""
    if n:
        print(f"busy: {n} other processes spinning on the CPU during every row")
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    atexit.register(lambda: [spinner.kill() for spinner in spinners])  # whatever happens
    return spinners


def load() -> str:
    """The 1-minute load average, as printed."""
    return f"{os.getloadavg()[0]:.2f}"


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
    parser.add_argument("--busy", type=int, default=0, metavar="N",
                        help="keep N other processes spinning on the CPU throughout every row "
                             "(a machine shared with other work; --busy 2 on 2 cores)")
    args = parser.parse_args()
    assignments = [a for a in args.assignments.split(",") if a] or sorted(
        p.name for p in (REPO / "source").iterdir() if p.is_dir())
    workers = args.workers or default_workers()
    base = args.keep or Path(tempfile.mkdtemp(prefix="keras-course-bench-"))
    os.environ.update(env())
    print(time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
          + f", {os.cpu_count()} cores, load average {load()} before set-up")
    ours = copy_course(base / "course")
    stock = copy_course(base / "stock", STOCK_CONFIG)
    coursed = copy_course(base / "stock-course-config")
    for course in (ours, stock, coursed):
        release(course)
    kinds = make_class(ours, args.students, assignments)
    copy_submissions(ours, stock)
    copy_submissions(ours, coursed)
    n = len(kinds)
    print(f"class: {args.students} students x {len(assignments)} assignments = {n} notebooks "
          f"({', '.join(assignments)})")

    rows = []
    spinners = busy(args.busy)

    def measure(name: str, processes: int, run):
        before = load()
        with MemorySampler() as mem:
            wall, extra = run()
        rows.append({"name": name, "wall": wall, "processes": processes, "load": (before, load()),
                     "memory": mem.worst(), **extra})
        print(f"  {name}: {wall:.1f} s (load {before} -> {load()})", flush=True)

    measure("stock nbgrader, plain config, serial", 1,
            lambda: (run_stock(stock, assignments), {}))
    measure("stock nbgrader, course config, serial", 1,
            lambda: (run_stock(coursed, assignments), {}))
    results: list = []

    def grade():
        wall, res = run_make_grade(ours, workers)
        results.extend(res)
        return wall, {}

    measure(f"make grade, {workers} workers", workers, grade)
    failed = [r for r in results if not r.ok]
    if failed:
        print(f"  make grade: {len(failed)} failed: {[str(r.job) for r in failed]}")
    floor_times: list[float] = []

    def floor():
        wall, times = run_floor(ours)
        floor_times.extend(times)
        return wall, {}

    measure("floor: solution cells + test calls", 1, floor)
    for spinner in spinners:
        spinner.kill()
        spinner.wait()
    floor_nb = statistics.fmean(floor_times)

    stock_s = rows[0]["wall"]
    print(f"\n{'':38s} {'wall':>7s} {'wall/nb':>8s} {'worker/nb':>10s} {'vs stock':>9s} "
          f"{'worker/floor':>12s} {'load before->after':>19s} {'peak RSS/worker':>16s} "
          f"{'peak PSS/worker':>16s}")
    for row in rows:
        floor_row = row["name"].startswith("floor")
        per = floor_nb if floor_row else row["wall"] / n
        worker = floor_nb if floor_row else row["wall"] * row["processes"] / n
        rss, pss = row["memory"]
        print(f"{row['name']:38s} {row['wall']:6.1f}s {per:7.2f}s {worker:9.2f}s "
              f"{row['wall'] / stock_s:8.2f}x {worker / floor_nb:11.2f}x "
              f"{row['load'][0]:>9s} -> {row['load'][1]:<6s} {fmt_mb(rss):>16s} "
              f"{fmt_mb(pss):>16s}")
    ours_s = rows[2]["wall"]
    ours_worker = ours_s * workers / n
    print(f"\nfloor: {floor_nb:.2f} s per notebook (the solution cells and test calls alone, "
          f"in a kernel already started with its set-up cell run; wall/nb of the floor row is "
          f"that sum, its wall time includes the uncounted kernel starts)")
    print(f"make grade / stock (plain): {ours_s / stock_s:.2f} (target <= 0.25 on a quiet "
          f"machine, 0.35 on a busy one); make grade / stock (course config): "
          f"{ours_s / rows[1]['wall']:.2f}; worker time per notebook / floor: "
          f"{ours_worker / floor_nb:.2f} (target <= 1.5)")
    our_grades = read_grades(ours)
    differ = {}
    for label, other in (("stock (plain)", stock), ("stock (course config)", coursed)):
        theirs = read_grades(other)
        diff = {k: (theirs.get(k), our_grades.get(k)) for k in set(theirs) | set(our_grades)
                if theirs.get(k) != our_grades.get(k)}
        differ[label] = len(diff)
        if not diff:
            print(f"grades: make grade = {label} in all {n} submissions, cell by cell")
            continue
        print(f"grades differ from {label} in {len(diff)} submissions:")
        for (student, assignment), (a, b) in sorted(diff.items()):
            cells = sorted(g for g in set(a or {}) | set(b or {})
                           if (a or {}).get(g) != (b or {}).get(g))
            print(f"  {student}/{assignment} ({kinds.get((student, assignment))}): {cells} "
                  f"{label}={[(a or {}).get(g) for g in cells]} "
                  f"make grade={[(b or {}).get(g) for g in cells]}")
    (base / "benchmark.json").write_text(json.dumps({
        "notebooks": n, "workers": workers, "floor_per_notebook_s": floor_nb,
        "rows": [{k: v for k, v in r.items()} for r in rows], "differ": differ}, indent=1))
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
