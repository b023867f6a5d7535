"""Grade a whole class: one `nbgrader autograde` per submission, several at a time, with progress.

Each submission is graded by nbgrader's own `autograde` command restricted to one student, so
the course's configuration (and its protections) applies unchanged. A submission that crashes
its grader fails alone and is listed with its reason; the rest of the class is graded. A run
that is interrupted can be started again: only submissions with no autograded copy, or one older
than the submission, are graded again.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
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


def _timestamp(folder: Path) -> float | None:
    stamp = folder / "timestamp.txt"
    return stamp.stat().st_mtime if stamp.exists() else None


def needs_grading(root: Path, job: Job) -> bool:
    """True when some notebook has no autograded copy, or the submission is newer than it."""
    submitted = root / "submitted" / job.student / job.assignment
    graded = root / "autograded" / job.student / job.assignment
    for notebook in submitted.glob("*.ipynb"):
        copy = graded / notebook.name
        if not copy.exists() or copy.stat().st_mtime < notebook.stat().st_mtime:
            return True
    new, old = _timestamp(submitted), _timestamp(graded)
    return new is not None and old is not None and new > old


def find_jobs(root: Path, assignments: Iterable[str] | None = None,
              force: bool = False) -> list[Job]:
    """Submissions in submitted/ (of the given assignments) that need grading."""
    wanted = set(assignments) if assignments is not None else None
    jobs = []
    for notebook in sorted((root / "submitted").glob("*/*/*.ipynb")):
        job = Job(notebook.parent.name, notebook.parent.parent.name)
        if (wanted is None or job.assignment in wanted) and job not in jobs:
            if force or needs_grading(root, job):
                jobs.append(job)
    return jobs


def default_workers() -> int:
    """One grading worker per core: each kernel is CPU-bound while it trains."""
    return max(1, os.cpu_count() or 1)


def _reason(output: str, returncode: int) -> str:
    for line in reversed(output.strip().splitlines()):
        if "ERROR" in line or "Error" in line or "rror:" in line:
            return line.split("]", 1)[-1].strip()[:300]
    return f"nbgrader autograde exited with code {returncode}"


def grade_one(root: Path, job: Job, log_dir: Path, env: dict[str, str],
              timeout: float = 1800) -> Result:
    """Run `nbgrader autograde ASSIGNMENT --student STUDENT --force` for one submission."""
    started = time.monotonic()
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{job.student}--{job.assignment}.log"
    cmd = [sys.executable, "-m", "nbgrader", "autograde", job.assignment,
           "--student", job.student, "--force"]
    try:
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True,
                              timeout=timeout)
        output, code = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        output = f"{exc.stdout or ''}{exc.stderr or ''}"
        code, output = -1, output + f"\ngrading took longer than {timeout:.0f} s and was stopped"
    log.write_text(output)
    graded = root / "autograded" / job.student / job.assignment
    expected = [graded / p.name for p in (root / "submitted" / job.student / job.assignment)
                .glob("*.ipynb")]
    ok = code == 0 and all(p.exists() for p in expected)
    reason = "" if ok else _reason(output, code) + f" (log: {log})"
    return Result(job, ok, time.monotonic() - started, reason)


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


def grade_all(root: Path, jobs: list[Job], env: dict[str, str], workers: int | None = None,
              on_result: Callable[[Result], None] | None = None) -> list[Result]:
    """Grade `jobs` with `workers` parallel nbgrader processes; never stops at a failure."""
    log_dir = root / "grades" / "logs"
    results: list[Result] = []
    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
        futures = [pool.submit(grade_one, root, job, log_dir, env) for job in jobs]
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            if on_result:
                on_result(result)
    return sorted(results, key=lambda r: (r.job.assignment, r.job.student))
