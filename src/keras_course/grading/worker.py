"""The grading worker: nbgrader's autograde, configured once, grading one submission at a time.

Each submission is graded by nbgrader's `Autograde` converter, configured from the course's
`nbgrader_config.py` exactly as `nbgrader autograde ASSIGNMENT --student STUDENT --force` would
be, so the course's protections apply unchanged. What is not repeated per submission:

- a worker is a process that loads nbgrader and the configuration once and then grades one
  submission after another (no new Python, nbgrader and database start-up per notebook);
- its kernels are forks of a sandboxed *fork server* that has already imported TensorFlow
  (`keras_course.grading.forkserver`): each kernel still runs in its own sandbox, but starts in
  a tenth of a second instead of five.

This is the worker's side: `grade_submission` grades one job in this process (a Dask worker
calls it as it is), `_worker_main` is a local worker process's loop. The side that starts,
watches and replaces workers is `batch.py`. A submission nbgrader cannot grade fails with a
reason read from nbgrader's log (`_reason_from_log`), in words from `messages`.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import re
import shutil
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from .. import messages
from ..coursedir import nbgrader_env
from .protections import (  # named where they are checked
    FORKING_EXECUTE,
    SANDBOXED_EXECUTE,
    VERIFY_EVIDENCE,
    autograde_steps,
    load_course_config,
)
from .record import LOG_DIR, Job, Result, submission_fingerprint


@dataclass(frozen=True)
class Settings:
    """What a grading worker needs to know; picklable, so it travels to Dask workers too."""

    root: str
    env: tuple[tuple[str, str], ...] = ()
    fork: bool = True
    timeout: float = 1800.0
    grader: str = ""  # "module:function" grading one Job in place of `grade_submission` (tests)
    rebuild_socket: str = ""  # the run's shared rebuild service (`rebuild.SharedRebuildService`)



# --------------------------------------------------------------------------------------------
# Why nbgrader could not grade a submission, read from its log
# --------------------------------------------------------------------------------------------

#: What nbgrader's log says, and the reason it means; the first that matches is given.
_FRIENDLY = [
    (re.compile(r"NotJSONError: Notebook does not appear to be JSON: ''"),
     messages.NOTEBOOK_EMPTY),
    (re.compile(r"(NotJSONError|JSONDecodeError)"), messages.NOTEBOOK_NOT_JSON),
    (re.compile(r"(ValidationError|NBFormatError|KeyError: 'cells'|cells.*not.*list|"
                r"'int' object is not iterable|has no attribute 'cells')"),
     messages.NOTEBOOK_MALFORMED),
    (re.compile(r"UnresponsiveKernelError|kernel became unresponsive"),
     messages.KERNEL_UNRESPONSIVE),
]


def _reason_from_log(log: str, error: str, job: Job) -> str:
    """One readable sentence saying why nbgrader could not grade a submission."""
    text = f"{log}\n{error}"
    if "No notebooks found" in text:
        unknown = re.findall(r"Skipping unknown notebook: (\S+)", text)
        names = ", ".join(f"`{Path(u).name}`" for u in unknown)
        return messages.NOTEBOOK_MISSING.format(
            notebook=f"{job.assignment}.ipynb",
            renamed=messages.NOTEBOOK_RENAMED.format(names=names) if names else "")
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
    return last[:300] or messages.NBGRADER_FAILED


# --------------------------------------------------------------------------------------------
# Grading one submission in this process
# --------------------------------------------------------------------------------------------

class Grader:
    """nbgrader's autograde, configured once, grading one submission after another."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = Path(settings.root)
        # the run's environment, this Python's bin first on PATH (nbgrader runs alembic
        # through it) and TensorFlow quiet where the run does not say otherwise
        os.environ.update(nbgrader_env({**os.environ, **dict(settings.env)}))
        here = os.getcwd()
        os.chdir(self.root)  # nbgrader reads nbgrader_config.py from the working directory
        try:
            config = load_course_config(self.root)
            preprocessors = autograde_steps(config)
            self.forking = settings.fork and SANDBOXED_EXECUTE in preprocessors
            if self.forking:
                self._prestart(config)
            if VERIFY_EVIDENCE in preprocessors:
                if settings.rebuild_socket:
                    from .rebuild import use_shared_service

                    use_shared_service(settings.rebuild_socket)
                self._prestart_rebuild(config)
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
            from . import forkserver

            km = forkserver.ForkingKernelManager(config=config)
            autograded = self.root / "autograded"
            autograded.mkdir(exist_ok=True)
            km._server_for(autograded / "student" / "assignment", ["ipykernel_launcher"])
            shutil.rmtree(km._private, ignore_errors=True)
        except Exception:  # noqa: BLE001 - the first kernel tries again, or starts afresh
            pass

    def _prestart_rebuild(self, config) -> None:
        """Start the rebuild service now, so Keras loads there while nbgrader and the fork
        server load (else the first notebook waits for it)."""
        try:
            from .verify import VerifyEvidence

            VerifyEvidence(config=config)  # starts the service when checks are enabled
        except Exception:  # noqa: BLE001 - the first notebook's checks start it again
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
                                                job) + messages.SEE_LOG.format(path=log_path)
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
                      messages.WORKER_ERROR.format(error=f"{type(exc).__name__}: {exc}"),
                      worker=f"{os.uname().nodename}:{os.getpid()}")


# --------------------------------------------------------------------------------------------
# A local worker process
# --------------------------------------------------------------------------------------------

#: What a local worker sends once nbgrader is loaded (its fork server is then importing
#: TensorFlow alongside: the first notebook's own nbgrader work overlaps with it).
READY = "ready"


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
    code = 0
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
    except BaseException:  # noqa: BLE001 - into the worker's log, and the exit code says so
        traceback.print_exc()
        code = 1
    finally:
        try:
            from . import forkserver, rebuild

            forkserver.shutdown_servers()
            rebuild.service().stop()
        except Exception:  # noqa: BLE001
            pass
        # nothing is left to clean up: exit without the interpreter's own clean-up of
        # nbgrader, SQLAlchemy and the rest (0.8 s that the pool waited for at the end)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)

