"""Grade a whole class: long-lived parallel workers running nbgrader's own autograde, with progress.

Each submission is graded by nbgrader's `Autograde` converter, configured from the course's
`nbgrader_config.py` exactly as `nbgrader autograde ASSIGNMENT --student STUDENT --force` would
be, so the course's protections apply unchanged. What is not repeated per submission:

- a grading worker is a process that loads nbgrader and the configuration once and then grades
  one submission after another (no new Python, nbgrader and database start-up per notebook);
- its kernels are forks of a sandboxed *fork server* that has already imported TensorFlow
  (`keras_course.grading.forkserver`): each kernel still runs in its own sandbox, but starts in
  a tenth of a second instead of five.

Workers run on this machine (a pool sized to its cores) or on a Dask distributed cluster
(`scheduler="tcp://host:8786"`, or `KERAS_COURSE_DASK_SCHEDULER`), which needs the course folder
at the same path on every worker machine and a gradebook they can all reach (PostgreSQL).

Nothing stops the batch: a submission that fails, hangs or takes its worker down fails alone,
with a reason; the worker is replaced and the rest of the class is graded. What has been graded
is recorded in `grades/graded.json` as soon as it is done, with a fingerprint of the submission,
so a run that is interrupted can be started again and grades only what is missing or changed.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import multiprocessing
import multiprocessing.connection
import os
import queue
import re
import shutil
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

#: Where the record of graded submissions lives, relative to the course root.
MANIFEST = Path("grades") / "graded.json"
#: Where per-submission and per-worker logs go, relative to the course root.
LOG_DIR = Path("grades") / "logs"

# the pipeline's names are kept where the pipeline is checked (protections.py)
from .protections import FORKING_EXECUTE, SANDBOXED_EXECUTE  # noqa: E402


@dataclass(frozen=True, order=True)
class Job:
    """One student's submission of one assignment."""

    assignment: str
    student: str

    def __str__(self) -> str:
        return f"{self.student}/{self.assignment}"


@dataclass
class Result:
    """How grading one submission went."""

    job: Job
    ok: bool
    seconds: float
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    worker: str = ""
    fingerprint: str = ""


@dataclass(frozen=True)
class Settings:
    """What a grading worker needs to know; picklable, so it travels to Dask workers too."""

    root: str
    env: tuple[tuple[str, str], ...] = ()
    fork: bool = True
    timeout: float = 1800.0
    grader: str = ""  # "module:function" grading one Job in place of `grade_submission` (tests)


# --------------------------------------------------------------------------------------------
# What needs grading
# --------------------------------------------------------------------------------------------

#: The helper package's code that decides verdicts and words their messages: its fingerprint is
#: part of every submission's, so a fixed check regrades what it grades.
CHECK_CODE = ("checks.py", "messages.py", "describe", "expect.py", "errors.py",
              "grading/evidence.py", "grading/verify.py", "grading/rebuild.py")


def files_fingerprint(root: Path, job: Job) -> str:
    """A digest of every file of the submission (names and contents, timestamp included)."""
    folder = Path(root) / "submitted" / job.student / job.assignment
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if ".ipynb_checkpoints" in rel or "__pycache__" in rel:
            continue
        digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


#: tests_fingerprint's answers for a few seconds: opening the gradebook costs 0.3 s, and a run
#: asks once per submission.
_TESTS_CACHE: dict[tuple[str, str, str], tuple[float, str]] = {}
TESTS_CACHE_SECONDS = 10.0


def tests_fingerprint(root: Path, assignment: str, db_url: str | None = None) -> str:
    """A digest of the instructor's test cells of an assignment, as autograde will run them.

    Autograde takes each test cell from the gradebook (written by `make release` from
    source/), so that copy is fingerprinted; without a gradebook, source/'s.
    """
    db_url = db_url or course_db_url(Path(root))
    key = (str(root), assignment, db_url)
    cached = _TESTS_CACHE.get(key)
    if cached and time.monotonic() - cached[0] < TESTS_CACHE_SECONDS:
        return cached[1]
    answer = _tests_fingerprint(root, assignment, db_url)
    _TESTS_CACHE[key] = (time.monotonic(), answer)
    return answer


def _tests_fingerprint(root: Path, assignment: str, db_url: str) -> str:
    digest = hashlib.sha256()
    try:
        from nbgrader.api import Gradebook

        with Gradebook(db_url) as gb:
            for nb in sorted(gb.find_assignment(assignment).notebooks, key=lambda n: n.name):
                solutions = {c.name for c in nb.solution_cells}
                points = {c.name: c.max_score for c in nb.grade_cells
                          if c.cell_type == "code" and c.name not in solutions}
                for cell in sorted(nb.source_cells, key=lambda c: c.name):
                    if cell.name in points:
                        digest.update(f"{nb.name}/{cell.name}/{points[cell.name]}\0"
                                      f"{cell.source}\0".encode())
        return "gb:" + digest.hexdigest()[:32]
    except Exception:  # noqa: BLE001 - no gradebook (yet): the source notebooks
        for path in sorted((Path(root) / "source" / assignment).glob("*.ipynb")):
            try:
                cells = json.loads(path.read_text()).get("cells", [])
            except (OSError, ValueError):
                continue
            for cell in cells:
                meta = cell.get("metadata", {}).get("nbgrader", {})
                if cell.get("cell_type") == "code" and meta.get("grade") \
                        and not meta.get("solution"):
                    source = cell.get("source", "")
                    source = "".join(source) if isinstance(source, list) else source
                    digest.update(f"{path.name}/{meta.get('grade_id')}/{meta.get('points')}"
                                  f"\0{source}\0".encode())
        return "src:" + digest.hexdigest()[:32]


def checks_fingerprint() -> str:
    """A digest of the helper package's check code (`CHECK_CODE`)."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for name in CHECK_CODE:
        path = package / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        if not files or not all(f.is_file() for f in files):  # a module moved: say so
            raise FileNotFoundError(f"CHECK_CODE names {name}, which is not in {package}")
        for file in files:
            digest.update(file.relative_to(package).as_posix().encode() + b"\0"
                          + file.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def fingerprint_parts(root: Path, job: Job, db_url: str | None = None) -> dict[str, str]:
    """What a submission's grade depends on: its files, its assignment's tests, the checks."""
    return {"submission": files_fingerprint(root, job),
            "tests": tests_fingerprint(root, job.assignment, db_url),
            "checks": checks_fingerprint()}


def combine(parts: dict[str, str]) -> str:
    return hashlib.sha256("\0".join(f"{k}={parts[k]}" for k in sorted(parts)).encode()
                          ).hexdigest()[:32]


def submission_fingerprint(root: Path, job: Job) -> str:
    """A digest of everything the submission's grade depends on (`fingerprint_parts`)."""
    return combine(fingerprint_parts(root, job))


#: Why a submission is graded again, by the part of its fingerprint that changed.
CHANGED = {"submission": "the submission changed", "tests": "the assignment's tests changed",
           "checks": "the course's checks changed"}


def why_grade(root: Path, job: Job, manifest: Manifest, db_url: str | None = None) -> str:
    """Why `find_jobs` picked a submission, in a few words."""
    entry = manifest.entries.get(str(job))
    if not entry:
        return "not graded yet"
    old = entry.get("parts") or {}
    now = fingerprint_parts(root, job, db_url)
    changed = [CHANGED[k] for k in ("tests", "checks", "submission") if old.get(k) != now[k]]
    return ", ".join(changed) or "its gradebook or graded copy is missing"


def course_db_url(root: Path) -> str:
    """The gradebook URL `nbgrader_config.py` gives in this environment."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    if "db_url" in config.CourseDirectory:
        return str(config.CourseDirectory.db_url)
    return f"sqlite:///{Path(root) / 'gradebook.db'}"


def _db_key(db_url: str) -> str:
    """The gradebook's URL without a password, to tell gradebooks apart in the record."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1@", db_url)


class Manifest:
    """`grades/graded.json`: each graded submission's fingerprint and gradebook, saved at once."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / MANIFEST
        self.lock = threading.Lock()
        try:
            self.entries: dict[str, dict] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.entries = {}

    def current(self, job: Job, fingerprint: str, db: str) -> bool:
        entry = self.entries.get(str(job))
        return entry is not None and bool(entry) and entry.get("fingerprint") == fingerprint \
            and entry.get("db") == db

    def record(self, job: Job, fingerprint: str, db: str, seconds: float,
               worker: str = "") -> None:
        with self.lock:
            try:  # what the fingerprint covers, to say why a submission is graded again
                parts = fingerprint_parts(self.path.parent.parent, job)
            except Exception:  # noqa: BLE001
                parts = {}
            self.entries[str(job)] = {"fingerprint": fingerprint, "db": db,
                                      "seconds": round(seconds, 2), "worker": worker,
                                      "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                      "parts": parts}
            self._save()

    def forget(self, job: Job) -> None:
        with self.lock:
            if self.entries.pop(str(job), None) is not None:
                self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.entries, indent=1, sort_keys=True))
        os.replace(tmp, self.path)


def _gradebook_submissions(db_url: str, assignments: Iterable[str]) -> set[tuple[str, str]] | None:
    """(student, assignment) pairs the gradebook holds a submission for; None if unreadable."""
    try:
        from nbgrader.api import Gradebook, MissingEntry

        found = set()
        with Gradebook(db_url) as gb:
            for assignment in assignments:
                try:
                    for sub in gb.assignment_submissions(assignment):
                        found.add((sub.student.id, assignment))
                except MissingEntry:
                    pass
        return found
    except Exception:  # noqa: BLE001 - no gradebook yet: everything needs grading
        return None


def needs_grading(root: Path, job: Job, manifest: Manifest | None = None, db: str | None = None,
                  in_gradebook: set[tuple[str, str]] | None = None) -> bool:
    """True unless this very submission was graded into this very gradebook."""
    root = Path(root)
    if not (root / "autograded" / job.student / job.assignment).is_dir():
        return True
    if in_gradebook is not None and (job.student, job.assignment) not in in_gradebook:
        return True
    manifest = manifest or Manifest(root)
    db = db or _db_key(course_db_url(root))
    return not manifest.current(job, submission_fingerprint(root, job), db)


def all_jobs(root: Path, assignments: Iterable[str] | None = None) -> list[Job]:
    """Every submission in submitted/ (of the given assignments)."""
    wanted = set(assignments) if assignments is not None else None
    jobs = set()
    for notebook in (Path(root) / "submitted").glob("*/*/*.ipynb"):
        job = Job(notebook.parent.name, notebook.parent.parent.name)
        if wanted is None or job.assignment in wanted:
            jobs.add(job)
    return sorted(jobs)


def find_jobs(root: Path, assignments: Iterable[str] | None = None,
              force: bool = False) -> list[Job]:
    """Submissions in submitted/ (of the given assignments) that need grading."""
    jobs = all_jobs(root, assignments)
    if force or not jobs:
        return jobs
    db_url = course_db_url(root)
    manifest, db = Manifest(root), _db_key(db_url)
    present = _gradebook_submissions(db_url, sorted({j.assignment for j in jobs}))
    if present is None:
        return jobs
    return [j for j in jobs if needs_grading(root, j, manifest, db, present)]


def expected_seconds(root: Path, jobs: Iterable[Job],
                     manifest: Manifest | None = None) -> dict[Job, float | None]:
    """How long each job is expected to take, from the last run's times in `grades/graded.json`:
    the job's own last time, else the mean of its assignment's, else None (never graded)."""
    manifest = manifest or Manifest(root)
    own: dict[str, float] = {}
    by_assignment: dict[str, list[float]] = {}
    for key, entry in manifest.entries.items():
        seconds = entry.get("seconds") if isinstance(entry, dict) else None
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds <= 0:
            continue
        own[key] = float(seconds)
        by_assignment.setdefault(key.rpartition("/")[2], []).append(float(seconds))
    out: dict[Job, float | None] = {}
    for job in jobs:
        known = by_assignment.get(job.assignment)
        out[job] = own.get(str(job), sum(known) / len(known) if known else None)
    return out


def longest_first(root: Path, jobs: Iterable[Job], manifest: Manifest | None = None) -> list[Job]:
    """`jobs` in the order to hand them out, so that the slowest do not finish last: never
    graded first (nothing is known of them), then the longest expected first (by the last run's
    times), ties by assignment and student."""
    jobs = list(jobs)
    expected = expected_seconds(root, jobs, manifest)
    return sorted(jobs, key=lambda j: (expected[j] is not None, -(expected[j] or 0.0),
                                       j.assignment, j.student))


def default_workers() -> int:
    """One grading worker per core: each kernel is CPU-bound while it trains."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------------------------
# In a worker: grade one submission with nbgrader's Autograde, in this process
# --------------------------------------------------------------------------------------------

_FRIENDLY = [
    (re.compile(r"NotJSONError: Notebook does not appear to be JSON: ''"),
     "the notebook file is empty (not valid JSON): ask the student to submit it again"),
    (re.compile(r"(NotJSONError|JSONDecodeError)"),
     "the notebook file is not valid JSON (cut off or edited by hand): ask the student to "
     "submit it again"),
    (re.compile(r"(ValidationError|NBFormatError|KeyError: 'cells'|cells.*not.*list|"
                r"'int' object is not iterable|has no attribute 'cells')"),
     "the file is not a valid notebook (its cells are missing or malformed)"),
    (re.compile(r"UnresponsiveKernelError|kernel became unresponsive"),
     "the kernel stopped responding and could not be interrupted"),
]


def _reason_from_log(log: str, error: str, job: Job) -> str:
    """One readable sentence saying why nbgrader could not grade a submission."""
    text = f"{log}\n{error}"
    if "No notebooks found" in text:
        unknown = re.findall(r"Skipping unknown notebook: (\S+)", text)
        names = ", ".join(f"`{Path(u).name}`" for u in unknown)
        return (f"`{job.assignment}.ipynb` is missing from the submission"
                + (f" (renamed? found {names})" if names else "")
                + ": nbgrader grades notebooks by their released names; rename it back")
    # the exception that stopped nbgrader: the last "SomeError: message" line of a traceback,
    # not nbgrader's closing "see the traceback above"
    exceptions = [m.group(1).strip() for m in re.finditer(
        r"^\s*((?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt)\b(?::.*)?)$",
        text, re.M) if "NbGraderException" not in m.group(1)]
    last = exceptions[-1] if exceptions else ""
    if not last:
        lines = [ln for ln in text.splitlines() if ln.startswith("[ERROR]")
                 and "There was an error processing" not in ln and "Please see" not in ln
                 and "Traceback" not in ln]
        last = lines[-1][len("[ERROR]"):].strip() if lines else ""
    for pattern, sentence in _FRIENDLY:
        if pattern.search(last) or pattern.search(text):
            return f"{sentence} ({last[:160]})" if last else sentence
    return last[:300] or "nbgrader could not grade this submission (see its log)"


class Grader:
    """nbgrader's autograde, configured once, grading one submission after another."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = Path(settings.root)
        bin_dir = str(Path(sys.executable).parent)  # nbgrader runs alembic through PATH
        os.environ.update(dict(settings.env))
        if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        here = os.getcwd()
        os.chdir(self.root)  # nbgrader reads nbgrader_config.py from the working directory
        try:
            from traitlets.config.loader import PyFileConfigLoader

            course_config = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)
                                               ).load_config()
            self.forking = settings.fork and SANDBOXED_EXECUTE in list(
                course_config.Autograde.get("autograde_preprocessors", []))
            if self.forking:
                self._prestart(course_config)
            from nbgrader.apps.autogradeapp import AutogradeApp

            self.app = AutogradeApp()
            self.app.initialize([])
            for handler in list(self.app.log.handlers):  # the per-submission log gets it all
                self.app.log.removeHandler(handler)
            self.app.log.propagate = False
            if self.forking:
                self.app.config.Autograde.autograde_preprocessors = [
                    FORKING_EXECUTE if p == SANDBOXED_EXECUTE else p
                    for p in self.app.config.Autograde.autograde_preprocessors]
        finally:
            os.chdir(here)

    def _prestart(self, config) -> None:
        """Start the fork server now, so TensorFlow loads while nbgrader does."""
        try:
            from .forkserver import ForkingKernelManager

            km = ForkingKernelManager(config=config)
            autograded = self.root / "autograded"
            autograded.mkdir(exist_ok=True)
            km._server_for(autograded / "student" / "assignment", ["ipykernel_launcher"])
            shutil.rmtree(km._private, ignore_errors=True)
        except Exception:  # noqa: BLE001 - the first kernel tries again, or starts afresh
            pass

    def grade(self, job: Job) -> Result:
        from nbgrader.converters import Autograde
        from nbgrader.utils import capture_log

        started = time.monotonic()
        fingerprint = submission_fingerprint(self.root, job)
        coursedir = self.app.coursedir
        coursedir.assignment_id, coursedir.student_id = job.assignment, job.student
        try:
            converter = Autograde(coursedir=coursedir, parent=self.app)
            converter.force = True
            converter.create_student = True
            outcome = capture_log(converter)
        except Exception:  # noqa: BLE001 - whatever happens, it fails this submission only
            outcome = {"success": False, "error": traceback.format_exc()}
        finally:
            coursedir.assignment_id, coursedir.student_id = "", "*"
        log = outcome.get("log", "") + ("\n" + outcome["error"] if outcome.get("error") else "")
        log_path = self.root / LOG_DIR / f"{job.student}--{job.assignment}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(log)
        warnings = [w for w in re.findall(r"\[WARNING\] (Skipping unknown notebook: .*|"
                                          r"No submitted file: .*)", log)]
        ok = bool(outcome.get("success"))
        reason = "" if ok else _reason_from_log(outcome.get("log", ""), outcome.get("error", ""),
                                                job) + f" (log: {log_path})"
        return Result(job, ok, time.monotonic() - started, reason, warnings,
                      worker=f"{os.uname().nodename}:{os.getpid()}", fingerprint=fingerprint)


_GRADERS: dict[Settings, Grader] = {}


def grade_submission(job: Job, settings: Settings) -> Result:
    """Grade one submission in this process, reusing its Grader (and fork server) across calls."""
    started = time.monotonic()
    try:
        if settings.grader:
            module, _, name = settings.grader.partition(":")
            custom = getattr(importlib.import_module(module), name)
            if custom is not grade_submission:
                return custom(job, Settings(settings.root, settings.env, settings.fork,
                                            settings.timeout, ""))
        grader = _GRADERS.get(settings)
        if grader is None:
            grader = _GRADERS[settings] = Grader(settings)
        return grader.grade(job)
    except Exception as exc:  # noqa: BLE001
        return Result(job, False, time.monotonic() - started,
                      f"the grading worker could not grade it: {type(exc).__name__}: {exc}",
                      worker=f"{os.uname().nodename}:{os.getpid()}")


def _die_with_parent() -> None:
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the pool still stops its workers itself
        pass


def _worker_main(conn, settings: Settings, log_path: str) -> None:
    """A local grading worker: grade the jobs that arrive on `conn` until told to stop."""
    _die_with_parent()
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    try:
        if not settings.grader:
            # load nbgrader and start the fork server before the first job arrives, in this
            # thread: a process started from a thread that ends would die with that thread
            # (bubblewrap's --die-with-parent follows the thread that started it)
            try:
                _GRADERS[settings] = Grader(settings)
            except Exception:  # noqa: BLE001 - grade_submission reports it for each job
                pass
        conn.send(READY)  # the pool hands this worker its first job now
        while True:
            try:
                job = conn.recv()
            except EOFError:
                return
            if job is None:
                return
            conn.send(grade_submission(job, settings))
    finally:
        try:
            from .forkserver import shutdown_servers

            shutdown_servers()
        except Exception:  # noqa: BLE001
            pass


# --------------------------------------------------------------------------------------------
# The pool: local worker processes, or Dask distributed
# --------------------------------------------------------------------------------------------

def _exit_reason(code: int | None) -> str:
    if code is None:
        return "the grading worker stopped answering"
    if code < 0:
        import signal

        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = "; out of memory?" if -code == 9 else ""
        return f"the grading worker was killed ({name}{hint}) while grading this submission"
    return f"the grading worker exited with code {code} while grading this submission"


#: What a local worker sends once nbgrader is loaded (its fork server is then importing
#: TensorFlow alongside: the first notebook's own nbgrader work overlaps with it).
READY = "ready"


class _LocalWorker:
    """One worker process and the pipe to it; replaced when it dies."""

    def __init__(self, index: int, settings: Settings) -> None:
        self.index, self.settings = index, settings
        self.generation = 0
        self.proc: multiprocessing.process.BaseProcess | None = None
        self.conn: multiprocessing.connection.Connection | None = None

    def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        ours, theirs = ctx.Pipe()
        self.generation += 1
        log = Path(self.settings.root) / LOG_DIR / f"worker-{self.index}.log"
        self.proc = ctx.Process(target=_worker_main, args=(theirs, self.settings, str(log)),
                                name=f"keras-course-grader-{self.index}", daemon=True)
        self.proc.start()
        theirs.close()
        self.conn = ours
        self.ready = False

    def wait_ready(self, timeout: float = 600.0) -> None:
        """Until the worker has loaded nbgrader (or died, or `timeout` passed)."""
        if self.proc is None or not self.proc.is_alive():
            self.start()
        assert self.proc is not None and self.conn is not None  # started above
        deadline = time.monotonic() + timeout
        while not self.ready and time.monotonic() < deadline:
            ready = multiprocessing.connection.wait(
                [self.conn, self.proc.sentinel], timeout=max(0.0, deadline - time.monotonic()))
            if self.conn not in ready:
                return  # died or slow: `grade` finds out and says why
            try:
                self.ready = self.conn.recv() == READY
            except (EOFError, OSError):
                return

    def grade(self, job: Job) -> Result:
        if self.proc is None or not self.proc.is_alive():
            self.start()
        assert self.proc is not None and self.conn is not None  # started above
        started = time.monotonic()
        timed_out = False
        try:
            self.conn.send(job)
            while True:
                ready = multiprocessing.connection.wait([self.conn, self.proc.sentinel],
                                                        timeout=self.settings.timeout)
                if self.conn in ready:
                    answer = self.conn.recv()
                    if answer == READY:  # a replaced worker's notice
                        self.ready = True
                        continue
                    return answer
                timed_out = not ready
                break
        except (EOFError, OSError, BrokenPipeError):
            pass
        # it died, or it took too long: stop it, fail this submission, start afresh next time
        if timed_out:
            self.proc.kill()
        self.proc.join(10)
        reason = (f"grading took longer than {self.settings.timeout:.0f} s; the worker was "
                  "stopped" if timed_out else _exit_reason(self.proc.exitcode))
        return Result(job, False, time.monotonic() - started, reason, worker=f"local-{self.index}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.is_alive() and self.conn is not None:
            try:
                self.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
            self.proc.join(10)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join(5)


def _grade_local(jobs: list[Job], settings: Settings, workers: int,
                 deliver: Callable[[Result], None]) -> None:
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    pool = [_LocalWorker(i + 1, settings) for i in range(max(1, min(workers, len(jobs))))]
    stop = threading.Event()

    def run(worker: _LocalWorker) -> None:
        worker.wait_ready()  # the first job goes to the first worker that is ready
        while not stop.is_set():
            try:
                job = todo.get_nowait()
            except queue.Empty:
                return
            deliver(worker.grade(job))

    threads = [threading.Thread(target=run, args=(w,), daemon=True) for w in pool]
    for w in pool:  # start every worker at once: they load nbgrader and TensorFlow in parallel
        w.start()
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.5)
    except BaseException:
        stop.set()
        for w in pool:
            if w.proc is not None and w.proc.is_alive():
                w.proc.kill()
        raise
    finally:
        for w in pool:
            w.stop()


def dask_scheduler() -> str | None:
    """The Dask scheduler address from `KERAS_COURSE_DASK_SCHEDULER`, if set."""
    return os.environ.get("KERAS_COURSE_DASK_SCHEDULER") or None


def _grade_dask(jobs: list[Job], settings: Settings, scheduler,
                deliver: Callable[[Result], None]) -> None:
    from distributed import Client, as_completed

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler, timeout="60s")
    try:
        futures = {}
        for job in jobs:
            future = client.submit(grade_submission, job, settings, pure=False, retries=0,
                                   key=f"grade-{job.student}-{job.assignment}-{time.time_ns()}")
            futures[future] = job
        try:
            for future in as_completed(futures):
                job = futures[future]
                try:
                    deliver(future.result())
                except Exception as exc:  # noqa: BLE001 - a dead worker (KilledWorker) and such
                    deliver(Result(job, False, 0.0,
                                   f"the Dask worker failed: {type(exc).__name__}: {exc}",
                                   worker="dask"))
        except BaseException:
            client.cancel(list(futures))
            raise
    finally:
        if client is not scheduler:
            client.close()


def grade_all(root: Path, jobs: list[Job], env: dict[str, str] | None = None,
              workers: int | None = None, on_result: Callable[[Result], None] | None = None,
              scheduler=None, fork: bool = True, timeout: float = 1800.0,
              grader: str = "") -> list[Result]:
    """Grade `jobs` in parallel workers (local, or on the Dask `scheduler`); never stops at one.

    Each success is recorded in `grades/graded.json` when it arrives; `on_result` is called
    with every result in the order they finish.
    """
    root = Path(root).resolve()
    keep = ("PATH", "KERAS_COURSE_DB_URL", "TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS",
            "PYTHONPATH")
    env = env if env is not None else dict(os.environ)
    settings = Settings(str(root), tuple(sorted((k, v) for k, v in env.items() if k in keep)),
                        fork, timeout, grader)
    manifest = Manifest(root)
    db = _db_key(course_db_url(root))
    results: list[Result] = []
    lock = threading.Lock()

    def deliver(result: Result) -> None:
        with lock:
            if result.ok:
                manifest.record(result.job, result.fingerprint
                                or submission_fingerprint(root, result.job), db, result.seconds,
                                result.worker)
            else:
                manifest.forget(result.job)
            results.append(result)
            if on_result:
                on_result(result)

    if jobs:
        jobs = longest_first(root, jobs, manifest)
        scheduler = scheduler if scheduler is not None else dask_scheduler()
        if scheduler:
            _grade_dask(jobs, settings, scheduler, deliver)
        else:
            _grade_local(jobs, settings, workers or default_workers(), deliver)
    return sorted(results, key=lambda r: (r.job.assignment, r.job.student))


# --------------------------------------------------------------------------------------------
# Progress and the summary of failures
# --------------------------------------------------------------------------------------------

class Progress:
    """A one-line progress bar on a terminal, one line per submission elsewhere."""

    def __init__(self, total: int, stream=None) -> None:
        self.total, self.done, self.failed = total, 0, 0
        self.started = time.monotonic()
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()

    def update(self, result: Result) -> None:
        self.done += 1
        self.failed += not result.ok
        elapsed = time.monotonic() - self.started
        left = elapsed / self.done * (self.total - self.done)
        width = 24
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "." * (width - filled)
        line = (f"[{bar}] {self.done}/{self.total} graded, {self.failed} failed, "
                f"{elapsed:.0f} s elapsed, about {left:.0f} s left")
        if self.tty:
            self.stream.write("\r" + line + ("\n" if self.done == self.total else ""))
        else:
            status = "ok" if result.ok else "FAILED"
            self.stream.write(f"{line}  ({result.job}: {status}, {result.seconds:.1f} s)\n")
        self.stream.flush()


def failure_summary(results: list[Result]) -> str:
    """The failed submissions, one line each with its reason (empty when none failed)."""
    failed = [r for r in results if not r.ok]
    if not failed:
        return ""
    lines = [f"{len(failed)} submissions could not be graded:"]
    lines += [f"  {r.job}: {r.reason}" for r in failed]
    return "\n".join(lines)


def record_failures(root: Path, results: list[Result]) -> Path:
    """Keep this run's failures in grades/failures.json (for the report); successes clear theirs."""
    path = Path(root) / "grades" / "failures.json"
    try:
        failures = json.loads(path.read_text())
    except (OSError, ValueError):
        failures = {}
    for r in results:
        if r.ok:
            failures.pop(str(r.job), None)
        else:
            failures[str(r.job)] = {"student": r.job.student, "assignment": r.job.assignment,
                                    "reason": r.reason, "seconds": round(r.seconds, 1)}
    # a submission that no longer exists is no longer a failure
    failures = {k: v for k, v in failures.items()
                if (Path(root) / "submitted" / v["student"] / v["assignment"]).is_dir()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(failures, indent=1, sort_keys=True))
    return path
