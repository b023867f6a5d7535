"""Submissions to grade and the record of those graded: a job, its result, its fingerprint.

A job is one student's submission of one assignment (`submitted/STUDENT/ASSIGNMENT/`). What
its grade depends on is fingerprinted (its files, its assignment's tests as autograde runs them,
the course's check code); a graded submission is recorded in `grades/graded.json` with that
fingerprint and the gradebook it went into, so that a run grades only what is not graded yet or
has changed since (`find_jobs`), and says why (`why_grade`). No grading happens here: the worker
(`worker.py`) grades one job, the batch (`batch.py`) a class.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..coursedir import gradebook_url, is_test_cell

#: Where the record of graded submissions lives, relative to the course root.
MANIFEST = Path("grades") / "graded.json"
#: Where per-submission and per-worker logs go, relative to the course root.
LOG_DIR = Path("grades") / "logs"


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


# --------------------------------------------------------------------------------------------
# What needs grading
# --------------------------------------------------------------------------------------------

#: The helper package's code that decides verdicts and words their messages: its fingerprint is
#: part of every submission's, so a fixed check regrades what it grades.
CHECK_CODE = ("checks.py", "messages", "describe", "expect.py", "errors.py",
              "grading/evidence.py", "grading/cell_source.py", "grading/verify.py",
              "grading/rebuild.py", "grading/rebuild_service.py")


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
    db_url = db_url or gradebook_url(Path(root))
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
                if is_test_cell(cell):
                    meta = cell["metadata"]["nbgrader"]
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


#: Why a submission is graded: never graded, the parts of its fingerprint that changed
#: ("tests", "checks", "submission"), its gradebook entry or graded copy missing, or `--force`.
#: Codes; `messages.regrade_reason` words them.
NOT_GRADED, MISSING, FORCED = "not graded", "missing", "forced"


def why_grade(root: Path, job: Job, manifest: Manifest,
              db_url: str | None = None) -> tuple[str, ...]:
    """Why `find_jobs` picked a submission: codes (see `NOT_GRADED`)."""
    entry = manifest.entries.get(str(job))
    if not entry:
        return (NOT_GRADED,)
    old = entry.get("parts") or {}
    now = fingerprint_parts(root, job, db_url)
    changed = tuple(k for k in ("tests", "checks", "submission") if old.get(k) != now[k])
    return changed or (MISSING,)


def db_key(db_url: str) -> str:
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
    db = db or db_key(gradebook_url(root))
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
    db_url = gradebook_url(root)
    manifest, db = Manifest(root), db_key(db_url)
    present = _gradebook_submissions(db_url, sorted({j.assignment for j in jobs}))
    if present is None:
        return jobs
    return [j for j in jobs if needs_grading(root, j, manifest, db, present)]

