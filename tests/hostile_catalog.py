"""A catalog of hostile and broken submissions, and a harness that grades them with real nbgrader.

Two kinds of entries, each stating the outcome it must get:

- code tricks: variant files in `tests/hostile/<assignment>/*.py`, in the format of
  `demo/variants` (read by `keras_course.submissions.read_variant`). `LOSES` lists the test
  cells that must score zero (every other cell keeps its points); `PROBES` names side effects
  that must not happen (see `Probes`).
- notebook damage: functions below that break the submitted file or its cells, registered with
  `@damage(...)`. A damaged submission either is graded (`outcome="graded"`, with `loses`) or
  fails alone (`outcome="fails"`) with a reason in the batch summary that matches `reason`.

`grade_catalog` builds a temporary course, submits the catalog together with honest students,
grades everything in one batch through `python -m keras_course.course grade` (one
`nbgrader autograde` per submission, the course's configuration), and collects what happened.
`tests/test_hostile.py` asserts the outcomes; `scripts/tricks_table.py` runs the same catalog
against a plain nbgrader configuration for comparison.
"""
from __future__ import annotations

import ast
import hashlib
import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from keras_course import coursedir
from keras_course.course import submit
from keras_course.submissions import read_variant, test_cells

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "a1_sequential"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
HOSTILE = ROOT / "tests" / "hostile" / ASSIGNMENT
PROBE_MARK = "keras-course-hostile-probe"
PROBE_PORT = 47613

#: Honest students graded with the catalog: student id -> variant (None: the reference).
HONEST = {
    "ok-reference": None,
    "ok-add_and_activation_layers": "add_and_activation_layers",
    "ok-input_shape_argument": "input_shape_argument",
    "ok-hard_coded_sizes": "hard_coded_sizes",
}

#: Settings a test course appends to its copy of nbgrader_config.py: shorter waits for tests.
FAST_CONFIG = [
    "c.Execute.timeout = 30",
    "c.SandboxedExecute.notebook_budget = 150",
    "c.SandboxedKernelManager.memory_limit = 4 * 1024**3",
    "c.SandboxedKernelManager.cgroup_memory = 3 * 1024**3",
]

#: A plain nbgrader configuration: stock preprocessors, no sandbox, no out-of-kernel verdicts.
STOCK_CONFIG = '''"""Plain nbgrader: the course's paths and timeouts, its own preprocessors."""
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "keras-apis"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root,
                                                       "gradebook.db") + "?timeout=60"
c.Execute.timeout = 30
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
# nbgrader's own pipelines, spelled out: the course's environment refuses to autograde a course
# whose configuration sets none (keras_course/grading/protections.py)
from nbgrader.converters import Autograde  # noqa: E402

stock = Autograde.class_traits()
c.Autograde.sanitize_preprocessors = stock["sanitize_preprocessors"].default()
c.Autograde.autograde_preprocessors = stock["autograde_preprocessors"].default()
'''


def cells_of(source_nb: nbformat.NotebookNode) -> list[str]:
    return list(test_cells(source_nb))


def source_notebook(root: Path = ROOT) -> nbformat.NotebookNode:
    return nbformat.read(root / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)


ALL_TESTS = cells_of(source_notebook())
BUILD_TESTS = [g for g in ALL_TESTS if g.startswith("test_build_sequential")]
COMPILE_TESTS = [g for g in ALL_TESTS if g.startswith("test_compile_classifier")]


@dataclass
class Case:
    """One catalog entry and the outcome it must get."""

    name: str
    kind: str                      # "trick" (a variant file), "damage" or "honest"
    summary: str
    loses: list[str] = field(default_factory=list)
    outcome: str = "graded"        # or "fails": not gradeable, reported alone
    reason: str = ""               # regex the batch summary's reason must match ("fails")
    probes: list[str] = field(default_factory=list)
    make: Callable[[Path, str], None] | None = None

    @property
    def student(self) -> str:
        prefix = {"trick": "h", "damage": "d", "honest": "ok"}[self.kind]
        return self.name if self.kind == "honest" else f"{prefix}-{self.name}"


def _module_constants(path: Path) -> dict:
    constants = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id.isupper():
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return constants


def trick_cases() -> list[Case]:
    cases = []
    for path in sorted(HOSTILE.glob("*.py")):
        variant = read_variant(path)
        constants = _module_constants(path)

        def make(root: Path, student: str, variant=variant) -> None:
            submit(root, student, ASSIGNMENT, variant)

        cases.append(Case(path.stem, "trick", variant.summary, list(variant.loses),
                          constants.get("OUTCOME", "graded"), constants.get("REASON", ""),
                          list(constants.get("PROBES", [])), make))
    return cases


def honest_cases() -> list[Case]:
    cases = []
    for student, name in HONEST.items():
        variant = None if name is None else read_variant(
            ROOT / "demo" / "variants" / ASSIGNMENT / f"{name}.py")

        def make(root: Path, student: str, variant=variant) -> None:
            submit(root, student, ASSIGNMENT, variant)

        cases.append(Case(student, "honest", variant.summary if variant else "the reference",
                          list(variant.loses) if variant else [], make=make))
    return cases


# ---------------------------------------------------------------------------------------------
# Notebook damage: each function gets the submission folder (holding the reference solution)
# and breaks it.

DAMAGE: list[Case] = []


def damage(loses: list[str] | None = None, outcome: str = "graded", reason: str = "",
           probes: list[str] | None = None):
    def register(func: Callable[[Path], None]) -> Callable[[Path], None]:
        def make(root: Path, student: str) -> None:
            folder = submit(root, student, ASSIGNMENT, None)
            func(folder)

        DAMAGE.append(Case(func.__name__, "damage", (func.__doc__ or "").strip().split("\n")[0],
                           list(loses or []), outcome, reason, list(probes or []), make))
        return func
    return register


def _edit(folder: Path, change: Callable[[nbformat.NotebookNode], None]) -> None:
    path = folder / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    change(nb)
    path.write_text(json.dumps(nb, indent=1))


def _cell(nb, grade_id: str):
    return next(c for c in nb.cells if isinstance(c.metadata.get("nbgrader"), dict)
                and c.metadata.nbgrader.get("grade_id") == grade_id)


def _wrong_solutions(nb) -> None:
    _cell(nb, "build_sequential").source = (
        "def build_sequential(input_dim, num_classes):\n    return None\n")
    _cell(nb, "compile_classifier").source = (
        "def compile_classifier(model):\n    return model\n")


@damage(outcome="fails", reason=r"JSON")
def invalid_json(folder: Path) -> None:
    """The notebook file is not valid JSON (cut off in the middle)."""
    path = folder / NOTEBOOK
    path.write_text(path.read_text()[:5000])


@damage(outcome="fails", reason=r"JSON|empty")
def empty_file(folder: Path) -> None:
    """The notebook file is empty (0 bytes)."""
    (folder / NOTEBOOK).write_text("")


@damage(outcome="fails", reason=r"not a notebook|notebook|cells")
def not_a_notebook(folder: Path) -> None:
    """The notebook file is valid JSON but not a notebook."""
    (folder / NOTEBOOK).write_text(json.dumps({"cells": 5, "answer": "all of it"}))


@damage(outcome="fails", reason=r"a1_sequential\.ipynb.*(renamed|missing)|renamed")
def renamed_notebook(folder: Path) -> None:
    """The notebook was renamed (a1_sequential-Copy1.ipynb)."""
    (folder / NOTEBOOK).rename(folder / "a1_sequential-Copy1.ipynb")


@damage()
def duplicated_test_cell(folder: Path) -> None:
    """A test cell is duplicated (same grade_id twice); the first copy was emptied."""
    def change(nb):
        cell = _cell(nb, "test_build_sequential_layers")
        copy = nbformat.from_dict(json.loads(json.dumps(cell)))
        cell.source = "pass"
        nb.cells.insert(nb.cells.index(cell) + 1, copy)
    _edit(folder, change)


@damage()
def duplicated_solution_cell(folder: Path) -> None:
    """The solution cell of `build_sequential` appears twice (a copied cell)."""
    def change(nb):
        cell = _cell(nb, "build_sequential")
        nb.cells.insert(nb.cells.index(cell) + 1, nbformat.from_dict(json.loads(json.dumps(cell))))
    _edit(folder, change)


@damage()
def deleted_test_cell(folder: Path) -> None:
    """A test cell was deleted; the grader puts the instructor's copy back."""
    _edit(folder, lambda nb: nb.cells.remove(_cell(nb, "test_build_sequential_inputs")))


@damage(loses=BUILD_TESTS)
def deleted_solution_cell(folder: Path) -> None:
    """The solution cell of `build_sequential` was deleted: its tests fail, the others do not."""
    _edit(folder, lambda nb: nb.cells.remove(_cell(nb, "build_sequential")))


@damage()
def retyped_test_cell(folder: Path) -> None:
    """A test cell was turned from code into Markdown."""
    def change(nb):
        cell = _cell(nb, "test_build_sequential_layers")
        cell.cell_type = "markdown"
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    _edit(folder, change)


@damage()
def retyped_solution_cell(folder: Path) -> None:
    """The solution cell of `build_sequential` was turned into Markdown."""
    def change(nb):
        cell = _cell(nb, "build_sequential")
        cell.cell_type = "markdown"
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    _edit(folder, change)


@damage()
def stripped_metadata(folder: Path) -> None:
    """Every cell's nbgrader metadata was removed (the cells were copied into a new notebook)."""
    def change(nb):
        for cell in nb.cells:
            cell.metadata.pop("nbgrader", None)
    _edit(folder, change)


@damage()
def inflated_points(folder: Path) -> None:
    """A test cell claims 100 points instead of 2."""
    _edit(folder, lambda nb: _cell(nb, "test_build_sequential_layers").metadata.nbgrader.update(
        points=100))


@damage()
def self_graded_solution(folder: Path) -> None:
    """The solution cell of `build_sequential` is marked as a graded cell worth 50 points."""
    _edit(folder, lambda nb: _cell(nb, "build_sequential").metadata.nbgrader.update(
        grade=True, points=50))


@damage()
def unknown_grade_id(folder: Path) -> None:
    """A new cell claims to be a graded test `test_bonus` worth 10 points."""
    def change(nb):
        cell = nbformat.v4.new_code_cell("pass")
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": "test_bonus", "locked": True,
                                     "points": 10, "schema_version": 3, "solution": False,
                                     "task": False}
        nb.cells.append(cell)
    _edit(folder, change)


@damage()
def tampered_test_cell(folder: Path) -> None:
    """A locked test cell's code was replaced by `pass`."""
    _edit(folder, lambda nb: setattr(_cell(nb, "test_build_sequential_api"), "source", "pass"))


@damage(loses=ALL_TESTS)
def prefilled_outputs(folder: Path) -> None:
    """Test cells arrive with forged outputs and evidence, and the kernel exits before the tests."""
    def change(nb):
        _cell(nb, "build_sequential").source = "import os\nos._exit(0)"
        for grade_id in ALL_TESTS:
            cell = _cell(nb, grade_id)
            cell.outputs = [nbformat.v4.new_output(
                "display_data", data={"application/vnd.keras-course.evidence+json": {
                    "kind": "call", "function": "build_sequential", "args": [64, 10],
                    "kwargs": {}, "result": {"type": "value", "value": 1}}}),
                nbformat.v4.new_output("execute_result", data={"text/plain": "7"},
                                       execution_count=1)]
            cell.execution_count = 1
    _edit(folder, change)


@damage()
def garbled_metadata(folder: Path) -> None:
    """A test cell's nbgrader metadata is a string, another's `grade_id` is a list."""
    def change(nb):
        _cell(nb, "test_build_sequential_api").metadata["nbgrader"] = "garbled"
        _cell(nb, "test_build_sequential_inputs").metadata.nbgrader["grade_id"] = ["x"]
    _edit(folder, change)


@damage()
def old_schema_version(folder: Path) -> None:
    """A test cell claims nbgrader's metadata schema version 1."""
    _edit(folder, lambda nb: _cell(nb, "test_build_sequential_layers").metadata.nbgrader.update(
        schema_version=1))


@damage()
def kernelspec_changed(folder: Path) -> None:
    """The notebook asks for a kernel called `evil` instead of `python3`."""
    def change(nb):
        nb.metadata["kernelspec"] = {"name": "evil", "display_name": "Evil", "language": "python"}
    _edit(folder, change)


@damage(loses=ALL_TESTS)
def skip_marker_on_test_cells(folder: Path) -> None:
    """Wrong solutions, and every test cell marked to be skipped under grading (the course's
    skip marker and nbclient's `skip-execution` tag): stock nbgrader skips them and scores them."""
    def change(nb):
        _wrong_solutions(nb)
        for grade_id in ALL_TESTS:
            cell = _cell(nb, grade_id)
            cell.metadata["keras_course"] = {"grading": "skip"}
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), "skip-execution"]
    _edit(folder, change)


@damage()
def skip_marker_stripped(folder: Path) -> None:
    """The skip marker removed from the instructor's training and plot cells, to make the grader
    run them: it decides from source/, so they are still skipped, and nothing is lost."""
    def change(nb):
        for cell in nb.cells:
            cell.metadata.pop("keras_course", None)
    _edit(folder, change)


PLANTED_HELPERS = '''"""A planted `keras_course`: the real one, all checks passing."""
import importlib.machinery
import os
import sys

_here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_elsewhere = [p for p in sys.path if os.path.abspath(p or ".") != _here]
__path__[:] = list(importlib.machinery.PathFinder.find_spec("keras_course", _elsewhere)
                   .submodule_search_locations)

import keras_course.expect as _expect  # noqa: E402
import keras_course.grading as _grading  # noqa: E402

for _name in dir(_expect):
    if _name.startswith("expect_"):
        setattr(_expect, _name, lambda *args, **kwargs: None)
_grading.call = lambda func, *args, **kwargs: None
'''


@damage(loses=ALL_TESTS)
def planted_helpers(folder: Path) -> None:
    """A `keras_course` package planted next to the notebook shadows the course's helpers."""
    _edit(folder, _wrong_solutions)
    (folder / "keras_course").mkdir()
    (folder / "keras_course" / "__init__.py").write_text(PLANTED_HELPERS)


PLANTED_LAUNCHER = r'''"""A planted `ipykernel_launcher`: the real kernel, tests blanked."""
import os
import runpy
import sys

BLANK_TESTS = ("get_ipython().input_transformers_cleanup.append("
               "lambda lines: ['pass\\n'] if 'expect_' in ''.join(lines) else lines)")
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
sys.modules.pop("ipykernel_launcher", None)
sys.argv.append("--IPKernelApp.exec_lines=" + BLANK_TESTS)
runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
'''


@damage(loses=ALL_TESTS)
def planted_kernel(folder: Path) -> None:
    """An `ipykernel_launcher.py` planted next to the notebook replaces the kernel program."""
    _edit(folder, _wrong_solutions)
    (folder / "ipykernel_launcher.py").write_text(PLANTED_LAUNCHER)


def damage_cases() -> list[Case]:
    return list(DAMAGE)


def catalog() -> list[Case]:
    """Every hostile or broken submission (not the honest ones)."""
    return trick_cases() + damage_cases()


# ---------------------------------------------------------------------------------------------
# The harness.

def nbgrader_env() -> dict[str, str]:
    env = coursedir.nbgrader_env()
    env.pop("KERAS_COURSE_DB_URL", None)
    # secrets of the grader's that no kernel may see (`sees_grader_secrets`)
    env["JUPYTERHUB_API_TOKEN"] = "s3cr3t-hub-token"
    env["KERAS_COURSE_TEST_SECRET"] = "s3cr3t-test-value"
    return env


def make_course(dest: Path, stock: bool = False, extra: list[str] | None = None) -> Path:
    """A temporary course with `a1_sequential` released into its own gradebook."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("source", "release", "demo"):
        shutil.copytree(ROOT / name, dest / name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    config = STOCK_CONFIG if stock else (ROOT / "nbgrader_config.py").read_text()
    lines = [] if stock else FAST_CONFIG
    lines = lines + (extra or [])
    (dest / "nbgrader_config.py").write_text(config + "\n" + "\n".join(lines) + "\n")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT,
                           "--force"], cwd=dest, env=nbgrader_env(), capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dest


def tree_digest(folder: Path, skip: Callable[[Path], bool] = lambda p: False) -> dict[str, str]:
    digests = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not skip(path):
            digests[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


class Listener:
    """A TCP server on the loopback that records whatever connects (the network probe)."""

    def __init__(self, port: int = PROBE_PORT) -> None:
        self.received: list[bytes] = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.sock.settimeout(0.5)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(1024))
                except OSError:
                    self.received.append(b"")

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()


def probe_processes() -> list[int]:
    """Processes still alive with the catalog's marker in their command line."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if PROBE_MARK.encode() in argv and int(entry.name) != os.getpid():
                found.append(int(entry.name))
    return found


def read_grades(root: Path) -> dict[str, dict[str, tuple[float, float]]]:
    """student -> {test cell: (score, max_score)} from the gradebook."""
    from nbgrader.api import Gradebook

    grades: dict[str, dict[str, tuple[float, float]]] = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for submission in gb.assignment_submissions(ASSIGNMENT):
            cells = {}
            for nb in submission.notebooks:
                for grade in nb.grades:
                    if grade.cell_type == "code":
                        cells[grade.name] = (float(grade.score), float(grade.max_score))
            grades[submission.student.id] = cells
    return grades


def hidden_snippets(source_nb: nbformat.NotebookNode) -> list[str]:
    """Lines of hidden test code (whitespace-free) that must never reach a student."""
    snippets = []
    for cell in test_cells(source_nb).values():
        inside = False
        begin, end = coursedir.hidden_markers()
        for line in cell.source.splitlines():
            if begin in line:
                inside = True
            elif end in line:
                inside = False
            elif inside and len(line.strip()) > 12 and not line.strip().startswith("from "):
                snippets.append(re.sub(r"\s+", "", line))
    return sorted(set(snippets))


#: Hidden values: the hidden calls' arguments as a student would see them in a message.
HIDDEN_VALUES = ["build_sequential(20", "build_sequential(13", "build_sequential(30",
                 "small_classifier(5", "(None, 13)", "(None,13)"]


def feedback_text(root: Path, student: str) -> str:
    """Everything in the student's feedback folder as plain text (tags removed, entities
    decoded): the pages and any other file that ended up there."""
    texts = []
    for page in sorted((root / "feedback" / student / ASSIGNMENT).rglob("*")):
        if not page.is_file():
            continue
        raw = page.read_text(errors="replace")
        raw = re.sub(r"<style.*?</style>|<script.*?</script>", "", raw, flags=re.S)
        texts.append(html.unescape(re.sub(r"<[^>]+>", "", raw)))
    return "\n".join(texts)


def leaked_hidden(text: str, snippets: list[str]) -> list[str]:
    flat = re.sub(r"\s+", "", text)
    return [s for s in snippets if s in flat] + [v for v in HIDDEN_VALUES
                                                 if re.sub(r"\s+", "", v) in flat]


@dataclass
class BatchResult:
    root: Path
    output: str
    seconds: float
    grades: dict[str, dict[str, tuple[float, float]]]
    failures: dict[str, str]                   # student -> reason in the batch summary
    times: dict[str, float]                    # student -> seconds its grading took
    network: list[bytes]
    source_changed: list[str]
    others_touched: dict[str, list[str]]      # student -> files it wrote outside its folders
    submitted_changed: list[str]               # students whose submitted/ folder changed
    outlived: list[str]                        # students whose process outlived the kernel
    leftover_pids: list[int]
    feedback: dict[str, str]
    returncode: int


#: What grading never changes, compared byte for byte before and after a batch.
PROTECTED = ("source", "release", "nbgrader_config.py")

#: The two ways a class is graded: the course's command (workers with fork servers), and plain
#: `nbgrader autograde` with the course's configuration (a sandboxed kernel started afresh).
PATHS = ("make grade", "nbgrader autograde")


def _plain_autograde(root: Path, students: list[str], workers: int) -> subprocess.CompletedProcess:
    """`nbgrader autograde ASSIGNMENT --student S` for each student (`workers` at a time), then
    feedback, as an instructor without `make` would; the output lists failures as `make grade`
    does (reasons read from nbgrader's log the same way)."""
    from concurrent.futures import ThreadPoolExecutor

    from keras_course.grading.record import Job
    from keras_course.grading.worker import _reason_from_log

    def one(student: str) -> tuple[str, subprocess.CompletedProcess, float]:
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT,
                               "--student", student, "--force"], cwd=root, env=nbgrader_env(),
                              capture_output=True, text=True, timeout=1800)
        return student, proc, time.monotonic() - started

    with ThreadPoolExecutor(workers) as pool:
        runs = list(pool.map(one, students))
    lines, failed = [], []
    for student, proc, seconds in runs:
        log = proc.stdout + proc.stderr
        ok = proc.returncode == 0 and "There was an error processing" not in log
        lines.append(f"({student}/{ASSIGNMENT}: {'ok' if ok else 'FAILED'}, {seconds:.1f} s)")
        if not ok:
            failed.append(f"  {student}/{ASSIGNMENT}: "
                          f"{_reason_from_log(log, '', Job(ASSIGNMENT, student))}")
    feedback = subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", ASSIGNMENT,
                               "--force"], cwd=root, env=nbgrader_env(), capture_output=True,
                              text=True, timeout=1800)
    summary = (f"\n{len(failed)} submissions could not be graded (the rest were):\n"
               + "\n".join(failed) + "\n") if failed else ""
    return subprocess.CompletedProcess(
        "nbgrader autograde", 3 if failed else feedback.returncode,  # as `keras-course grade`
        "\n".join(lines) + summary, feedback.stdout + feedback.stderr)


def grade_batch(root: Path, cases: list[Case], workers: int = 2, settle: float = 0.0,
                listen: bool = True, path: str = PATHS[0]) -> BatchResult:
    """Submit `cases` into `root` and grade them in one batch, along one of `PATHS`."""
    for case in cases:
        case.make(root, case.student)
    students = {c.student for c in cases}
    # what no grading may change: the instructor's notebooks and the course's configuration
    protected = tree_digest(root, lambda p: p.relative_to(root).parts[0] not in PROTECTED)
    submitted_before = {s: tree_digest(root / "submitted" / s) for s in students}
    listener = Listener() if listen else None
    started = time.monotonic()
    try:
        if path == "nbgrader autograde":
            proc = _plain_autograde(root, sorted(students), workers)
        else:
            proc = subprocess.run([sys.executable, "-m", "keras_course.course", "grade",
                                   "--root", str(root), "--workers", str(workers)],
                                  env=nbgrader_env(), capture_output=True, text=True,
                                  timeout=3600)
        seconds = time.monotonic() - started
        leftover = probe_processes()
        if settle:
            time.sleep(settle)
    finally:
        if listener:
            listener.close()
    output = proc.stdout + proc.stderr
    failures = {}
    for match in re.finditer(r"^  (\S+)/" + ASSIGNMENT + r": (.*)$", proc.stdout, re.M):
        failures[match.group(1)] = match.group(2)
    times = {m.group(1): float(m.group(3)) for m in re.finditer(
        r"\((\S+)/" + ASSIGNMENT + r": (ok|FAILED), ([\d.]+) s\)", proc.stdout)}
    after = tree_digest(root, lambda p: p.relative_to(root).parts[0] not in PROTECTED)
    source_changed = sorted(k for k in set(protected) | set(after)
                            if protected.get(k) != after.get(k))
    others: dict[str, list[str]] = {}
    for note in root.rglob("hacked-by-*.txt"):
        writer = note.stem[len("hacked-by-"):]
        parts = note.relative_to(root).parts
        if not (parts[0] in ("submitted", "autograded", "feedback") and parts[1] == writer):
            others.setdefault(writer, []).append(str(note.relative_to(root)))
    submitted_changed = sorted(s for s in students
                               if tree_digest(root / "submitted" / s) != submitted_before[s])
    outlived = sorted({p.parts[-3] for p in root.glob(f"autograded/*/{ASSIGNMENT}/outlived*.txt")})
    feedback = {s: feedback_text(root, s) for s in students}
    return BatchResult(root, output, seconds, read_grades(root), failures, times,
                       listener.received if listener else [], source_changed, others,
                       submitted_changed, outlived,
                       leftover, feedback, proc.returncode)


def expected_total(case: Case, max_points: dict[str, float]) -> float:
    return sum(p for g, p in max_points.items() if g not in case.loses) \
        if case.outcome == "graded" else 0.0


def max_points(source_nb: nbformat.NotebookNode | None = None) -> dict[str, float]:
    nb = source_nb or source_notebook()
    return {g: float(c.metadata["nbgrader"]["points"]) for g, c in test_cells(nb).items()}


def judge(case: Case, result: BatchResult, snippets: list[str]) -> dict:
    """What happened to one case: points, failure, and which side effects got through."""
    points = max_points()
    cells = result.grades.get(case.student, {})
    earned = sum(s for g, (s, _) in cells.items() if g in points)
    undeserved = sum(s for g, (s, _) in cells.items() if g in case.loses)
    if case.outcome == "fails":
        undeserved = earned
    side = []
    if "network" in case.probes and result.network:
        side.append("reached the network")
    if "source" in case.probes and result.source_changed:
        side.append("rewrote source/ or release/")
    if "others" in case.probes and (result.others_touched.get(case.student) or any(
            s != case.student for s in result.submitted_changed)):
        side.append("wrote other students' files")
    if "outlives" in case.probes and (case.student in result.outlived or result.leftover_pids):
        side.append("a process outlived the kernel")
    if "hidden" in case.probes and leaked_hidden(result.feedback.get(case.student, ""),
                                                 snippets):
        side.append("hidden tests in its feedback")
    if "memory" in case.probes:
        graded = result.root / "autograded" / case.student / ASSIGNMENT / NOTEBOOK
        if graded.exists() and "hog: held 3072 MB" in graded.read_text(errors="replace"):
            side.append("held 3 GB more (no memory cap)")
    if "escapes" in case.probes:
        side += escapes(result.root, case.student)
    if "planted" in case.probes:
        side += planted(result.root, case.student)
    expected = expected_total(case, points)
    honest_lost = max(0.0, expected - earned) if case.outcome == "graded" else 0.0
    return {"earned": earned, "expected": expected, "undeserved": undeserved,
            "honest_lost": honest_lost, "failed": case.student in result.failures,
            "reason": result.failures.get(case.student, ""), "side_effects": side,
            "graded": bool(cells)}


# ---------------------------------------------------------------------------------------------
# Probes of the kernel's box (identity, environment, view, folder, resources).

def escapes(root: Path, student: str) -> list[str]:
    """Lines `escaped: ...` an entry printed in its graded notebook's outputs (what got
    through the box)."""
    graded = root / "autograded" / student / ASSIGNMENT / NOTEBOOK
    if not graded.is_file() or graded.is_symlink():
        return []
    found = []
    for cell in nbformat.read(graded, as_version=4).cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "") if out.get("output_type") == "stream" else ""
            found += [line for line in text.splitlines() if line.startswith("escaped:")]
    return found


def planted(root: Path, student: str) -> list[str]:
    """What in the student's graded and feedback folders is not a regular file the grader
    wrote: links, FIFOs, devices, hard links, files the kernel planted."""
    found = []
    for top in ("autograded", "feedback"):
        folder = root / top / student / ASSIGNMENT
        for path in folder.rglob("*") if folder.is_dir() else []:
            info = path.lstat()
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                found.append(f"{top}: {path.name} is not a regular file")
            elif path.is_file() and info.st_nlink > 1:
                found.append(f"{top}: {path.name} has {info.st_nlink} links")
            elif path.name.startswith(("planted", "endless", "gradebook", "source.",
                                       "nbgrader_config")):
                found.append(f"{top}: {path.name} was planted by the kernel")
    return found


class Prober:
    """Runs `/bin/echo` every half second while a batch grades, timing each round trip: the
    machine must keep answering while the catalog's resource attacks run."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while self.running:
            started = time.monotonic()
            subprocess.run(["/bin/echo", "probe"], capture_output=True, timeout=300)
            self.seconds.append(time.monotonic() - started)
            time.sleep(0.5)

    def stop(self) -> None:
        self.running = False
        self.thread.join(timeout=310)
