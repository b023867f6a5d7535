"""Grade a whole class: a pool of grading workers, on this machine or on Dask, with progress.

A worker (`worker.py`) grades one submission after another with nbgrader's own autograde; this
module hands it the class's submissions, slowest first, and watches it. Workers run on this
machine (a pool sized to its cores) or on a Dask distributed cluster (`scheduler=
"tcp://host:8786"`, or `KERAS_COURSE_DASK_SCHEDULER`), which needs the course folder at the same
path on every worker machine and a gradebook they can all reach (PostgreSQL).

Nothing stops the batch: a submission that fails, hangs or takes its worker down fails alone,
with a reason; the worker is replaced and the rest of the class is graded. What has been graded
is recorded in `grades/graded.json` (`record.py`) as soon as it is done, with a fingerprint of
the submission, so a run that is interrupted can be started again and grades only what is
missing or changed.
"""
from __future__ import annotations

import dataclasses
import json
import multiprocessing
import multiprocessing.connection
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from .. import messages
from ..coursedir import gradebook_url
from .protections import VERIFY_EVIDENCE, autograde_steps, load_course_config
from .record import LOG_DIR, Job, Manifest, Result, db_key, submission_fingerprint
from .worker import READY, Settings, _worker_main, grade_submission

# --------------------------------------------------------------------------------------------
# The order to grade in, and how many workers
# --------------------------------------------------------------------------------------------

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
# The pool: local worker processes, or Dask distributed
# --------------------------------------------------------------------------------------------

def _exit_reason(code: int | None) -> str:
    """Why a worker's submission failed, from the worker's exit code (None: still running)."""
    if code is None:
        return messages.WORKER_SILENT
    if code < 0:
        import signal

        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = messages.OUT_OF_MEMORY if -code == 9 else ""
        return messages.WORKER_KILLED.format(signal=name, hint=hint)
    return messages.WORKER_EXITED.format(code=code)


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
        reason = (messages.GRADING_TOO_LONG.format(seconds=self.settings.timeout) if timed_out
                  else _exit_reason(self.proc.exitcode))
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


def _shared_rebuild_service(settings: Settings, workers: int):
    """One rebuild service for the run's workers, when more than one will ask for rebuilds."""
    if workers < 2 or settings.grader:
        return None
    try:
        if VERIFY_EVIDENCE not in autograde_steps(load_course_config(Path(settings.root))):
            return None
        from .rebuild import SharedRebuildService

        return SharedRebuildService()
    except Exception:  # noqa: BLE001 - each worker then starts a service of its own
        return None


def _grade_local(jobs: list[Job], settings: Settings, workers: int,
                 deliver: Callable[[Result], None]) -> None:
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    workers = max(1, min(workers, len(jobs)))
    shared = _shared_rebuild_service(settings, workers)  # Keras loads there meanwhile
    if shared is not None:
        settings = dataclasses.replace(settings, rebuild_socket=shared.path)
    pool = [_LocalWorker(i + 1, settings) for i in range(workers)]
    stop = threading.Event()

    def run(worker: _LocalWorker) -> None:
        worker.wait_ready()  # the first job goes to the first worker that is ready
        while not stop.is_set():
            try:
                job = todo.get_nowait()
            except queue.Empty:
                # nothing left for it: it stops now, while the others finish their last
                worker.stop()
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
        if shared is not None:
            shared.stop()


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
                    deliver(Result(job, False, 0.0, messages.DASK_WORKER_FAILED.format(
                        error=f"{type(exc).__name__}: {exc}"), worker="dask"))
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
    db = db_key(gradebook_url(root))
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
    lines = [messages.UNGRADED.format(count=len(failed))]
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
