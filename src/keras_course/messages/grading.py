"""What the grading run says: to students (the record of a test cell's calls, its verdict, the
kernel's run, the feedback) and to instructors (the kernel's box, the run, replay, why a
submission could not be graded, why it was graded again)."""
from __future__ import annotations

from collections.abc import Iterable

# =========================================================================== the grading run
# Templates: `TEMPLATE.format(field=...)`. A notice the kernel's run writes into a cell is read
# as its traceback line, `ename: text`, so it starts lowercase after the colon.

# --------------------------------------------------------------------------- students: records
# What the grader says about the record of a test cell's calls (grading/evidence.py). `{label}`
# is a call as written in a message (`call_label`): `build_sequential(20, 3)` in backticks.

#: A hidden test's call, named without its arguments (they are part of the hidden test).
HIDDEN_CALL = "`{name}` (called by a hidden test with other arguments)"
#: What `submitted(name)` is called in a message.
ANSWER_LABEL = "your answer `{name}`"

CALL_NOT_WRITTEN = ("{label} is not written yet: replace `raise NotImplementedError()` in its "
                    "solution cell with your code.")
#: Raised in a hidden test: the student's code chose the exception's class and text, so
#: neither is repeated.
CALL_RAISED_HIDDEN = ("{label} raised an exception. Call it yourself with other sizes than the "
                      "visible tests use, fix the error, and run the tests again.")
#: The code had seen hidden calls by then: its exception's text is not repeated.
CALL_RAISED_QUIET = ("{label} raised an exception. Run this test cell in your own notebook to "
                     "see it, fix the error, and run the tests again.")
CALL_RAISED = ("{label} raised `{error}`. Run it in a cell of your own to see the full "
               "traceback, fix the error, and run the tests again.")

RECORD_OUT_OF_ORDER = (
    "The record of {label} from your kernel is not the one the test expects next, so this test "
    "earns no points. Do not change test cells or the display of outputs; restart the kernel "
    "and run the whole notebook from the top.")
NO_RECORD = (
    "There is no record of {label} from your kernel, so this test earns no points. It usually "
    "means the notebook stopped before this cell or the cell was changed: run the whole "
    "notebook from the top (Kernel, Restart and Run All) and check that every cell runs.")
RECORD_MISMATCH = (
    "The record of {label} from your kernel does not match the test, so this test earns no "
    "points. Do not change or skip test cells; restart the kernel and run the whole notebook "
    "from the top.")
RECORD_UNREADABLE = ("The record of {label} from your kernel is unreadable, so this test earns "
                     "no points. Run the whole notebook again.")
RECORDED_MODEL_UNREADABLE = ("The model that {label} returned could not be read ({error}), so "
                             "this test earns no points. Build it with Keras layers only.")


def call_failed(label: str, error: str, hidden: bool = False, quiet: bool = False) -> str:
    """A graded function raised `error` (`ValueError: bad units`) when a test called it."""
    if error.startswith("NotImplementedError"):
        return CALL_NOT_WRITTEN.format(label=label)
    if hidden:
        return CALL_RAISED_HIDDEN.format(label=label)
    if quiet:
        return CALL_RAISED_QUIET.format(label=label)
    return CALL_RAISED.format(label=label, error=error)


# --------------------------------------------------------------------------- students: verdicts
# A test cell's verdict when it could not be checked (grading/verify.py).

GRADER_COULD_NOT_CHECK = ("The grader could not check test cell `{grade_id}` ({error}), so it "
                          "earns no points; please tell your instructor.")
GRADER_COULD_NOT_READ = ("The grader could not read test cell `{grade_id}` ({error}); please "
                         "tell your instructor.")
GRADER_COULD_NOT_RUN = ("The grader could not run test cell `{grade_id}` ({error}); please tell "
                        "your instructor.")
MORE_RECORDS_THAN_CALLS = (
    "Your kernel recorded more results in test cell `{grade_id}` than the test makes calls, so "
    "this test earns no points. Do not change test cells or the display of outputs; restart the "
    "kernel and run the whole notebook from the top.")
NOTHING_CHECKED = ("Test cell `{grade_id}` checked nothing the kernel recorded, so it earns no "
                   "points; please tell your instructor.")

# --------------------------------------------------------------------------- students: the run
# Notices the kernel's run writes into the graded notebook (grading/execute.py), read as
# `DeadKernelError: the kernel died ...`, `NotRun: not run: ...`.

KERNEL_DIED = ("the kernel died while this cell ran (it exited, crashed, or was killed, for "
               "example for using too much memory)")
OUTPUT_STILL_ARRIVING = ("this cell's output was still arriving {seconds} s after the cell "
                         "finished, so the kernel was stopped. Print less from this cell, then "
                         "run the whole notebook again.")
CELL_TIMED_OUT = ("this cell ran longer than {seconds} s and did not stop when interrupted, so "
                  "the kernel was stopped. Make it finish sooner (fewer epochs, a smaller "
                  "loop), then run the whole notebook again.")
#: A cell after the kernel was stopped; `{reason}` is one of `STOP_REASONS`.
NOT_RUN = ("not run: {reason}. Fix the cell whose notice above says why, then run the whole "
           "notebook again.")
#: Why the kernel was stopped, by the code `SandboxedExecute` keeps.
STOP_REASONS = {
    "died": "the kernel died in an earlier cell",
    "timeout": "an earlier cell did not finish and the kernel was stopped",
    "budget": "the notebook used up its time budget in an earlier cell",
}
#: The last line of a cell's output once it printed more than the grader keeps.
TRUNCATED = ("Output truncated here: this cell printed more than the grader keeps. Print less "
             "to see all of it.\n")
#: What the graded notebook shows instead of the output of a cell that ran after hidden test
#: calls had reached the kernel (see `SandboxedExecute`).
WITHHELD = ("This cell's output is not shown: the cell ran after the hidden tests had been sent "
            "to the kernel. Your own notebook has it.\n")
#: The graded notebook's one line where an instructor's demonstration was not run
#: (grading/skip.py).
SKIPPED_DEMO = ("Not run while grading: this is the instructor's demonstration (a training run "
                "or its plots) and no grade depends on it; run the notebook yourself to see it.\n")

# --------------------------------------------------------------------------- students: feedback
# The summary at the top of each feedback page (grading/feedback.py).

SUMMARY_TITLE = "Your grade at a glance"
SUMMARY_INTRO = ("Every graded part with its points; for each check that did not pass, what it "
                 "found and what to try. Your notebook, as it was graded, follows below.")
#: The line under the summary; `{points}` is the score out of the maximum (`15 / 15`).
TOTAL = "Total: {points} points"
#: How a graded part that is not a test cell is named in the summary.
PART_WRITTEN = "Your written answer"
PART_CODE = "Your code"
NO_MESSAGE = "This check did not pass; its cell below shows what it found."
AWAITING = "Graded by hand: not graded yet."
#: Followed by the notice of the cell where the kernel stopped, when there is one.
STOPPED = "Not graded: the notebook stopped before this check ran (see the cell below)."
LATE_ON_TIME = "Submitted {submitted}, due {due}: on time."
LATE_GRACE = ("Submitted {submitted}, due {due}: {late} late, within the grace period: no "
              "penalty.")
LATE_PENALTY = ("Submitted {submitted}, due {due}: {late} late, so {penalty:g} points are taken "
                "off ({rule}).")
#: Follows the due date when the student has an extension.
EXTENDED = " (your extended due date)"
#: The `{rule}` of `LATE_PENALTY`.
LATE_RULE_ZERO = "more than the cutoff: the score is zero"
LATE_RULE_UNITS = ("{units} started {per}{plural} at {percent:g}% of the points each, at most "
                   "{cap:g}%")

# --------------------------------------------------------------------------- instructors: the box
# Why the kernel's box cannot start (grading/sandbox.py and limits.py,
# `SandboxUnavailableError`), read as `SandboxUnavailableError: ...` where grading stops. `{last}`
# is the end of the box's error output.

NO_BWRAP = ("bubblewrap (bwrap) is not installed, so student code cannot be contained. Install "
            "it (Debian/Ubuntu: apt-get install bubblewrap) or, on a trusted machine only, set "
            "c.SandboxedKernelManager.required = False.")
NO_SETPRIV = ("`setpriv` is missing: the kernel cannot become its own unprivileged user. "
              "Install util-linux (Debian/Ubuntu: apt-get install util-linux).")
NO_USER_NAMESPACES = (
    "bubblewrap could not create the kernel's namespaces: this system forbids user namespaces to "
    "ordinary users. Allow them (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 also "
    "sysctl kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile for {bwrap}), "
    "or grade as root. ({last})")
ENVIRONMENT_UNREADABLE = (
    "the kernel's user cannot read the Python environment {path}: {why}. Make it readable by "
    "other users (chmod -R o+rX on it) or grade with an environment that is. ({last})")
#: The `{why}` of `ENVIRONMENT_UNREADABLE`.
MODE_UNREADABLE = "{path} is mode {mode} (other users may not read it)"
BOX_WONT_START = (
    "the kernel's sandbox could not start Python with ipykernel and the course's helpers: "
    "{last}. Check that the Python environment {prefix} works and is readable by other users.")
#: The `{last}` of `BOX_WONT_START` when the box wrote nothing.
NO_ERROR_OUTPUT = "no error output"
VIEW_HOLDS_SECRET = (
    "the Python environment or the course's helpers ({path}) contain {secret}, which the kernel "
    "must not see: install the course's environment in a folder of its own (make creates .venv).")
UIDS_IN_USE = ("Every uid in c.SandboxedKernelManager.uid_range ({uid_range}) is in use by "
               "another kernel: widen the range.")
CGROUP_FAILED = (
    "could not create the kernel's cgroup ({error}); the grader runs as root and cgroups v1 are "
    "mounted under {cgroup_root}, so processes, memory and CPU of the kernel must be capped "
    "there. Mount the `pids`, `memory` and `cpu` controllers read-write, or grade as an "
    "ordinary user (limits per process then).")
ROOT_NEEDS_UID = (
    "the kernel's box was asked for without a uid of its own while the grader runs as root, so "
    "the kernel would write as root: nothing was started. This is a bug in the grader; please "
    "report it with the command that was run.")

# --------------------------------------------------------------------------- instructors: the run
# What the grading run says in its log about the kernel (grading/sandbox.py, grading/execute.py),
# and why a kernel was started afresh instead of forked (grading/forkserver.py, `FORK_FALLBACK`).

NO_SANDBOX = ("No sandbox: bubblewrap (bwrap) is missing and "
              "c.SandboxedKernelManager.required is False, so student code runs with the "
              "grader's rights. Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) "
              "before grading real submissions.")
RUNNING_AGAIN = ("The kernel stopped before the hidden tests of {cells} cells were sent, so "
                 "cells 1-{last} run again in a fresh kernel with those tests in place.")
BUDGET_USED = "Cell {cell}: the notebook used up its time budget, so the kernel was stopped."
KERNEL_STOP_FAILED = ("Stopping the kernel raised {error}; a kernel that had died already "
                      "cannot be stopped, so grading goes on.")
FORK_FALLBACK = (
    "Started this kernel afresh in the same box instead of forking it, because {error}: grading "
    "goes on, each kernel a few seconds slower. If every kernel says so, fix the cause named "
    "here (the fork server runs the course's Python environment in the kernel's box).")
#: The `{error}` of `FORK_FALLBACK`, by the code `ForkServerError` keeps (the fork server
#: answers a request it could not serve with the same codes).
FORK_SERVER_ERRORS = {
    "not_started": "the fork server did not start ({detail})",
    "no_answer": "the fork server did not answer within {detail} s",
    "exited": "the fork server had exited with status {detail}",
    "spawn_failed": "the fork server could not box a forked kernel ({detail})",
    "spawn_timeout": "a forked kernel did not report within {detail} s that it was boxed",
    "bad_request": "the fork server refused a request ({detail})",
    "no_kernel": "the fork server has no kernel {detail}",
    "unknown_request": "the fork server does not know the request {detail}",
}

# --------------------------------------------------------------------------- instructors: replay
# Why the instructor's test cell could not be replayed (grading/verify.py, in the log).

REPLAY_IMPORT = ("Test cells must not import `{name}` outside `@kernel_only` fixtures: the "
                 "grader checks recorded evidence without TensorFlow.")

# --------------------------------------------------------------------------- instructors: the class
# Why a submission could not be graded, read from nbgrader's log (grading/worker.py) or from how
# its worker ended (grading/batch.py). Listed after the run as `ada/a1: {reason}` and in the
# report, so each starts lowercase; the exception it was read from may follow in parentheses.

#: Heads the list of `failure_summary`.
UNGRADED = "{count} submissions could not be graded:"
NOTEBOOK_MISSING = ("`{notebook}` is missing from the submission{renamed}: nbgrader grades "
                    "notebooks by their released names; rename it back")
#: The `{renamed}` of `NOTEBOOK_MISSING` when the submission holds other notebooks.
NOTEBOOK_RENAMED = " (renamed? found {names})"
NOTEBOOK_EMPTY = ("the notebook file is empty (not valid JSON): ask the student to submit it "
                  "again")
NOTEBOOK_NOT_JSON = ("the notebook file is not valid JSON (cut off or edited by hand): ask the "
                     "student to submit it again")
NOTEBOOK_MALFORMED = "the file is not a valid notebook (its cells are missing or malformed)"
KERNEL_UNRESPONSIVE = "the kernel stopped responding and could not be interrupted"
NBGRADER_FAILED = "nbgrader could not grade this submission (see its log)"
#: Follows a reason the worker read from nbgrader's log.
SEE_LOG = " (log: {path})"
WORKER_ERROR = "the grading worker could not grade it: {error}"
WORKER_SILENT = "the grading worker stopped answering"
WORKER_KILLED = "the grading worker was killed ({signal}{hint}) while grading this submission"
#: The `{hint}` of `WORKER_KILLED` when the signal was SIGKILL, the out-of-memory killer's.
OUT_OF_MEMORY = "; out of memory?"
WORKER_EXITED = "the grading worker exited with code {code} while grading this submission"
GRADING_TOO_LONG = "grading took longer than {seconds:.0f} s; the worker was stopped"
DASK_WORKER_FAILED = "the Dask worker failed: {error}"

#: Why `make grade` graded a submission (again), by the codes of `record.why_grade`; printed as
#: "regraded 4 submissions because {reason}" and kept in grades/audit.json.
REGRADE_REASONS = {
    "not graded": "it was not graded yet",
    "tests": "the assignment's tests changed",
    "checks": "the course's checks changed",
    "submission": "the submission changed",
    "missing": "its gradebook entry or graded copy is missing",
    "forced": "of --force",
}


def regrade_reason(codes: Iterable[str]) -> str:
    """The reasons of `REGRADE_REASONS` for `codes`, in one line."""
    return ", ".join(REGRADE_REASONS[code] for code in codes) or "it was asked for"

