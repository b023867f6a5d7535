"""What the course's commands say to the instructor (cli, hub, lab, lms, report, exchange,
late, protections)."""
from __future__ import annotations

# --------------------------------------------------------------------------- instructors: commands
# What the course's commands say (cli.py, hub.py, lab.py, lms.py, report.py, exchange.py,
# grading/late.py, grading/protections.py), on the terminal, as the exception's line, or in
# nbgrader's log. Usage errors follow argparse's `keras-course: error: `, so they start lowercase.

#: After a grading run; `{count}` is spelled out where it starts a sentence the tone test reads.
UNGRADED_SEE_ABOVE = "{count} submissions could not be graded: see the list above."
NO_SUCH_COMMAND = "there is no command `{command}`."
#: Instead of `NO_SUCH_COMMAND` when a command is spelled almost like the one typed.
DID_YOU_MEAN = "there is no command `{command}`; did you mean `{near}`?"
#: Follows `NO_SUCH_COMMAND` or `DID_YOU_MEAN`.
COMMANDS_ARE = "The commands are: {commands} (`{prog} --help` says what each does)."
UNRECOGNIZED_ARGUMENTS = ("unrecognized arguments: {arguments} (`{prog} {command} --help` lists "
                          "the options)")
NO_LAB_MODE = "There is no lab mode `{mode}`: use one of {modes}."

#: `keras-course hub` (hub.py), each ending the command.
HUB_STEP_FAILED = ("`{command} ...` failed (exit {code}). Fix what its output below names, then "
                   "run this again.\n{output}")
NO_SHARED_PYTHON = (
    "No Python {version} that every user can run: the course's Python ({python}) lives where "
    "other users cannot reach. Install one (Debian: `apt-get install python{version} "
    "python{version}-venv`).")
NO_NPM = ("JupyterHub needs configurable-http-proxy, from npm: install Node.js and npm (Debian: "
          "`apt-get install nodejs npm`), then run this again.")
PROXY_NOT_FOUND = ("The proxy configurable-http-proxy was installed with npm, but the command "
                   "search path does not reach it: add npm's global bin folder (under `npm "
                   "prefix -g`) to that path and run this again.")
HUB_NEEDS_ROOT = ("`make hub` creates system users and starts servers as them: run it as root "
                  "(sudo make hub).")
HUB_RUNNING = "The hub `{name}` is already running (`make hub-stop` stops it)."
HUB_DID_NOT_START = ("JupyterHub did not start. Fix what the end of its log ({log}) below names, "
                     "then run this again.\n{tail}")
NO_HUB_ACTION = "The hub's commands are `start`, `stop` and `reset`, not `{action}`."

#: `keras-course export` (lms.py), warnings in nbgrader's log.
NOT_IN_ROSTER = ("{student}: in the gradebook but not in {roster}: NOT exported (add a row for "
                 "`{student}` to {roster})")
NOT_IN_GRADEBOOK = ("{student}: in {roster} but not in the gradebook (never submitted): exported "
                    "with 0 points (remove the row if `{student}` left the course).")

#: `course.toml` and its extensions file (grading/late.py), as the exception's line.
NOT_A_TIME = "{what}: `{text}` is not a date and time like `2026-12-04 23:59`"
LATE_PER = "{file} [late] per: `{per}` must be `hour` or `day`"
EXTENSION_WITHOUT_DUE = ("{file} line {line}: `{until}` extends `{assignment}`, which has no due "
                         "date: give it one under [due], or write the date the extension ends.")

#: The grading protections (grading/protections.py), as `ProtectionsMissingError: ...`.
PROTECTIONS_IN_FORCE = "The course's grading protections are in force."
PROTECTIONS_NOT_IN_FORCE = (
    "grading stopped before any submission ran, because the course's protections are not in "
    "force: {problems}. Restore nbgrader_config.py from the course repository (`git checkout "
    "nbgrader_config.py`) and grade again.")
#: The `{problems}` of `PROTECTIONS_NOT_IN_FORCE`, by what `pipeline_problems` found, joined
#: with "; ".
PROTECTION_PROBLEMS = {
    "not_loaded": ("the course's nbgrader_config.py was not loaded (it is missing, unreadable, or "
                   "raised an error while loading)"),
    "no_sandbox": ("`{step}` is not in Autograde.autograde_preprocessors: student code would run "
                   "outside the sandbox"),
    "verify_not_next": ("`{step}` does not come right after the sandboxed Execute: test cells "
                        "would be scored on what the student's kernel printed"),
    "skip_not_before": ("`{step}` does not come right before the sandboxed Execute: a step "
                        "between them could change a cell after it was found equal to the "
                        "instructor's"),
    "stock_execute": ("`{step}` is in Autograde.autograde_preprocessors: it runs student code "
                      "without the sandbox"),
    "no_restore": ("`{step}` is not in Autograde.sanitize_preprocessors: tampered test cells "
                   "would not be restored"),
    "not_required": ("c.SandboxedKernelManager.required is False: kernels could start without "
                     "bubblewrap"),
}
CONFIG_MISSING = ("{path} does not exist, so nothing was graded. Restore it from the course "
                  "repository (`git checkout nbgrader_config.py`) and grade again.")
CONFIG_UNLOADABLE = (
    "the course's nbgrader_config.py could not be loaded ({error}). Nothing was graded. Fix the "
    "file (`python -m keras_course.grading.protections check {root}` shows the error again) and "
    "grade again.")
FOREIGN_GUARD = ("{path} exists and is not this course's guard: merge its settings by hand with "
                 "the guard (see keras_course/grading/protections.py) and run again.")
REFUSE_TO_GRADE = (
    "This course refuses to autograde: its nbgrader_config.py did not load, so the grading "
    "sandbox and the out-of-kernel verdicts are not in force and no student code was run. Run "
    "`python -m keras_course.grading.protections check {root}` to see why, fix or restore the "
    "file (`git checkout nbgrader_config.py`), and grade again.")

#: `keras-course report` (report.py): why a submission is flagged as stopped, by the error name
#: in its autograded notebook, joined with "; ".
STOPPED_BY = {
    "CellTimeoutError": "a cell timed out",
    "DeadKernelError": "the kernel died",
    "NotRun": "cells were not run (the kernel was stopped earlier)",
    "KeyboardInterrupt": "a cell was interrupted at its time limit",
    "TimeoutError": "a cell timed out",
}
#: Counted among a check's failure messages when its cell shows none.
NO_FAILURE_MESSAGE = "(no message: see the graded notebook)"
ZERO_CHECKS = "0 of {count} checks passed (a blank or unrun notebook?)"

#: `nbgrader collect` (exchange.py), in its log. nbgrader's own sentence, word for word:
NO_COURSE_ID = "No course id specified. Re-run with --course flag."
REFUSED_SUBMISSION = "Refused {name}: it claims to be `{user}`'s submission, but {why} ({where})."
#: The `{why}` of `REFUSED_SUBMISSION`, by what was found (`Refused.code`).
REFUSED_WHY = {
    "no_user": "there is no user `{user}` on this machine",
    "not_folder": "it is not a folder",
    "owner": "it belongs to `{owner}`",
    "too_big": "it holds {size} bytes, more than the {limit} allowed",
}
#: The `{where}` of `REFUSED_SUBMISSION`.
REFUSED_RENAMED = "renamed to {aside}; its owner or root can delete it"
REFUSED_LEFT = "left in place ({error})"

#: `make grade` / `keras-course grade` (course.py), on the terminal. Status lines start with
#: the step they report (`autograde:`), as nbgrader's own do.
NBGRADER_STEP_FAILED = ("`nbgrader {args}` failed (exit {code}). Fix what its output below names, "
                        "then run the same command again.\n{tail}")
GRADING_STARTS = ("autograde: {count} submissions to grade {where} (already graded and "
                  "unchanged: skipped)")
#: The `{where}` of `GRADING_STARTS`.
ON_DASK = "on the Dask cluster at {scheduler}"
WITH_WORKERS = "with {workers} workers"
GRADING_INTERRUPTED = ("interrupted: {done} of {total} submissions were graded and recorded; run "
                       "the same command again to grade the rest.")
#: Heads the list of the submissions a run could not grade.
UNGRADED_IN_RUN = "{count} submissions could not be graded (the rest were):"
COURSE_TOML_INVALID = "course.toml: {error}. Fix it, then run the same command again."
LATE_POLICY_FAILED = ("the late policy could not be applied: {error}. Fix course.toml or the "
                      "extensions file, then run the same command again.")
LATE_PENALTY_CHANGED = ("late penalty of {submission}: {before:g} -> {after:g} points "
                        "(course.toml changed)")
REPORT_NOT_WRITTEN = ("the report could not be written: {error}. The grades are in; run "
                      "`make report` to try again.")
#: Under the table of grades, for an assignment with questions graded by hand.
WRITTEN_ANSWERS = ("{assignment}: {points:g} of its points are written answers, graded by hand "
                   "in formgrader (`make lab`); the scores above count them once graded.")
