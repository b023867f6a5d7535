"""Due dates and the late policy, in one place: `course.toml` (and its `extensions.csv`).

The instructor writes the course's time zone, each assignment's due date, the late policy
(grace period, a penalty per started hour or day, a cap, zero after a cutoff) and a small file
of per-student extensions once; everything else reads them from here, on every run:

- `AssignLatePolicy` (the `AssignLatePenalties` step of `nbgrader_config.py`) writes the due date
  and the student's extension into nbgrader's gradebook (`Assignment.duedate`,
  `SubmittedAssignment.extension`: formgrader shows them) and then lets nbgrader's own step ask
  `CoursePolicy`, a `LateSubmissionPlugin`, for the penalty of each notebook;
- `apply_policy` does the same for every submission in the gradebook without running any
  kernel: `make grade` calls it after each run, so a changed due date, extension or policy
  changes the grades at once and no penalty of an earlier policy survives (jupyter/nbgrader#723:
  stock nbgrader keeps the penalty of the last autograde).

The submission time is the one nbgrader records in the gradebook (`SubmittedAssignment.timestamp`):
`nbgrader autograde` reads it from the submission's `timestamp.txt`, which `nbgrader collect`
copies from the exchange. That file is written when the student submits; who can write it
depends on the exchange (see the README), never on this module.
"""
from __future__ import annotations

import csv
import datetime as dt
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import AssignLatePenalties
from traitlets import Unicode

from .. import messages

#: The policy file, relative to the course root.
POLICY_FILE = "course.toml"

UTC = dt.UTC


@dataclass(frozen=True)
class Extension:
    student: str
    assignment: str
    until: dt.datetime  # aware, the student's own due date
    reason: str = ""


@dataclass(frozen=True)
class Lateness:
    """How late one submission is under the policy, and what it costs."""

    due: dt.datetime | None          # the student's due date (with extension), aware
    submitted: dt.datetime | None    # aware
    seconds_late: float              # after the student's due date; 0 when on time
    in_grace: bool                   # late, but within the grace period: no penalty
    units: int                       # started hours or days that are charged
    percent: float                   # of the points, after the cap
    zero: bool                       # past the cutoff: the score is zero

    def penalty(self, score: float, max_points: float) -> float:
        """Points taken off a score (never more than the score)."""
        if self.zero:
            return max(0.0, score)
        return round(min(max(0.0, score), max_points * self.percent / 100), 2)


@dataclass
class Policy:
    """The course's time zone, due dates, late policy and extensions."""

    time_zone: str = "UTC"
    due: dict[str, dt.datetime] = field(default_factory=dict)   # aware
    grace_minutes: float = 0.0
    penalty_percent: float = 0.0
    per: str = "day"                      # "hour" or "day"
    cap_percent: float = 100.0
    zero_after_days: float | None = None  # after the student's due date
    extensions: dict[tuple[str, str], Extension] = field(default_factory=dict)
    source: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def due_for(self, assignment: str, student: str) -> dt.datetime | None:
        ext = self.extensions.get((student, assignment))
        if ext is not None:
            return ext.until
        return self.due.get(assignment)

    def extension(self, assignment: str, student: str) -> dt.timedelta | None:
        """The extension as nbgrader stores it: the student's due date minus the assignment's."""
        ext, due = self.extensions.get((student, assignment)), self.due.get(assignment)
        if ext is None or due is None:
            return None
        return ext.until - due

    def lateness(self, assignment: str, student: str,
                 submitted: dt.datetime | None) -> Lateness:
        """How late `submitted` (aware, or naive UTC as nbgrader stores it) is, and its cost."""
        due = self.due_for(assignment, student)
        if submitted is not None and submitted.tzinfo is None:
            submitted = submitted.replace(tzinfo=UTC)
        if due is None or submitted is None or submitted <= due:
            return Lateness(due, submitted, 0.0, False, 0, 0.0, False)
        late = (submitted - due).total_seconds()
        if late <= self.grace_minutes * 60:
            return Lateness(due, submitted, late, True, 0, 0.0, False)
        if self.zero_after_days is not None and late > self.zero_after_days * 86400:
            return Lateness(due, submitted, late, False, 0, 100.0, True)
        unit = 3600 if self.per == "hour" else 86400
        units = math.ceil(late / unit)
        percent = min(self.cap_percent, units * self.penalty_percent)
        return Lateness(due, submitted, late, False, units, percent, False)

    def show(self, when: dt.datetime | None) -> str:
        """A time in the course's time zone, with the zone: `2026-12-04 23:59 CET`."""
        if when is None:
            return "-"
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.astimezone(self.tz).strftime("%Y-%m-%d %H:%M %Z")


def _parse_time(text: str, tz: ZoneInfo, what: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise ValueError(messages.NOT_A_TIME.format(what=what, text=text)) from None
    return when.replace(tzinfo=tz) if when.tzinfo is None else when


_RELATIVE = re.compile(r"^\+\s*(\d+(?:\.\d+)?)\s*(h|d)$")


def load_policy(path: Path | str) -> Policy:
    """Read `course.toml` (and the extensions file it names); no file means no due dates."""
    path = Path(path)
    if path.is_dir():
        path = path / POLICY_FILE
    if not path.is_file():
        return Policy(source="")
    with path.open("rb") as f:
        data = tomllib.load(f)
    policy = Policy(time_zone=data.get("time_zone", "UTC"), source=str(path))
    tz = policy.tz
    for name, when in (data.get("due") or {}).items():
        policy.due[name] = _parse_time(when, tz, f"{path.name} [due] {name}")
    late = data.get("late") or {}
    policy.grace_minutes = float(late.get("grace_minutes", 0))
    policy.penalty_percent = float(late.get("penalty_percent", 0))
    policy.per = str(late.get("per", "day"))
    if policy.per not in ("hour", "day"):
        raise ValueError(messages.LATE_PER.format(file=path.name, per=policy.per))
    policy.cap_percent = float(late.get("cap_percent", 100))
    if late.get("zero_after_days") is not None:
        policy.zero_after_days = float(late["zero_after_days"])
    ext_file = data.get("extensions")
    if ext_file:
        ext_path = path.parent / ext_file
        if ext_path.is_file():
            policy.extensions = read_extensions(ext_path, policy)
    return policy


def read_extensions(path: Path, policy: Policy) -> dict[tuple[str, str], Extension]:
    """`student,assignment,until,reason` rows; `until` is a date (course time) or `+48h`, `+2d`."""
    out = {}
    with path.open(newline="") as f:
        for n, row in enumerate(csv.DictReader(f), start=2):
            student, assignment = (row.get("student") or "").strip(), \
                (row.get("assignment") or "").strip()
            until = (row.get("until") or "").strip()
            if not student or student.startswith("#") or not assignment or not until:
                continue
            rel = _RELATIVE.match(until)
            if rel:
                due = policy.due.get(assignment)
                if due is None:
                    raise ValueError(messages.EXTENSION_WITHOUT_DUE.format(
                        file=path.name, line=n, until=until, assignment=assignment))
                hours = float(rel.group(1)) * (24 if rel.group(2) == "d" else 1)
                when = due + dt.timedelta(hours=hours)
            else:
                when = _parse_time(until, policy.tz, f"{path.name} line {n}")
            out[(student, assignment)] = Extension(student, assignment, when,
                                                   (row.get("reason") or "").strip())
    return out


def naive_utc(when: dt.datetime | None) -> dt.datetime | None:
    """A time as nbgrader's gradebook stores it (naive, in UTC)."""
    if when is None:
        return None
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


# --------------------------------------------------------------------------------------------
# nbgrader's late-submission plugin and step
# --------------------------------------------------------------------------------------------

class CoursePolicy(LateSubmissionPlugin):
    """nbgrader's `LateSubmissionPlugin` for `course.toml` (`c.AssignLatePenalties.plugin_class`).

    The penalty of a notebook is the policy's percentage of the notebook's points (zero past
    the cutoff), never more than its score. Lateness is measured from the student's own due
    date (extension included) to the submission time in the gradebook.
    """

    policy_file = Unicode(POLICY_FILE, help="course.toml with due dates and the late policy"
                          ).tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        policy = load_policy(self.policy_file)
        step = self.parent
        gb = getattr(step, "gradebook", None)
        if gb is None:
            return None
        submission = gb.find_submission(step.assignment_id, student_id)
        notebook = gb.find_submission_notebook(step.notebook_id, step.assignment_id, student_id)
        late = policy.lateness(step.assignment_id, student_id, submission.timestamp)
        penalty = late.penalty(score, float(notebook.max_score or 0))
        self.log.info("Late policy: %s is %.0f s late, penalty %s", submission,
                      late.seconds_late, penalty)
        return penalty or None


def sync_submission(gb, policy: Policy, assignment: str, student: str | None = None) -> None:
    """Write the assignment's due date and the student's extension into the gradebook.

    Without a `course.toml` nothing is written: due dates set with `nbgrader db` stay.
    """
    if not policy.source:
        return
    due = naive_utc(policy.due.get(assignment))
    record = gb.find_assignment(assignment)
    if record.duedate != due:
        record.duedate = due
    if student is not None:
        sub = gb.find_submission(assignment, student)
        ext = policy.extension(assignment, student)
        if sub.extension != ext:
            sub.extension = ext
    gb.db.commit()


class AssignLatePolicy(AssignLatePenalties):
    """nbgrader's `AssignLatePenalties`, after writing `course.toml`'s dates into the gradebook.

    nbgrader asks its plugin only when the gradebook says the submission is late, so the due
    date and the extension there must be today's: this step writes them first, on every run.
    """

    policy_file = Unicode(POLICY_FILE, help="course.toml with due dates and the late policy"
                          ).tag(config=True)

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook

        info = resources["nbgrader"]
        policy = load_policy(self.policy_file)
        with Gradebook(info["db_url"]) as gb:
            sync_submission(gb, policy, info["assignment"], info["student"])
        return super().preprocess(nb, resources)


# --------------------------------------------------------------------------------------------
# The whole gradebook at once (every `make grade`)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PenaltyChange:
    student: str
    assignment: str
    before: float
    after: float


def apply_policy(root: Path, db_url: str | None = None) -> list[PenaltyChange]:
    """Due dates, extensions and penalties of every submission in the gradebook, from today's
    `course.toml`; returns the submissions whose penalty changed."""
    from nbgrader.api import Gradebook, MissingEntry

    from ..coursedir import gradebook_url

    root = Path(root)
    policy = load_policy(root / POLICY_FILE)
    changes: list[PenaltyChange] = []
    if not policy.source:  # no course.toml: nbgrader's own due dates and penalties stand
        return changes
    with Gradebook(db_url or gradebook_url(root)) as gb:
        for assignment in gb.assignments:
            try:
                subs = gb.assignment_submissions(assignment.name)
            except MissingEntry:
                subs = []
            sync_submission(gb, policy, assignment.name)
            for sub in subs:
                sync_submission(gb, policy, assignment.name, sub.student.id)
                late = policy.lateness(assignment.name, sub.student.id, sub.timestamp)
                before = after = 0.0
                for nb in sub.notebooks:
                    old = float(nb.late_submission_penalty or 0)
                    new = late.penalty(float(nb.score or 0), float(nb.max_score or 0))
                    nb.late_submission_penalty = new or None
                    before, after = before + old, after + new
                if round(before, 2) != round(after, 2):
                    changes.append(PenaltyChange(sub.student.id, assignment.name,
                                                 round(before, 2), round(after, 2)))
            gb.db.commit()
    return changes


def lateness_of(root: Path, assignment: str, student: str,
                submitted: dt.datetime | None) -> tuple[Policy, Lateness]:
    """The policy and the lateness of one submission (for feedback and the report)."""
    policy = load_policy(Path(root) / POLICY_FILE)
    return policy, policy.lateness(assignment, student, submitted)
