"""Grades for the LMS: Canvas and Moodle grade-import CSV files from nbgrader's gradebook.

    nbgrader export --exporter=keras_course.lms.CanvasExport --to grades/canvas.csv
    nbgrader export --exporter=keras_course.lms.MoodleExport --to grades/moodle.csv
    make export        # both, and the list of students missing from either side

Both are nbgrader `ExportPlugin`s. Students are mapped to the LMS through `roster.csv` at the
course root, one row per student:

    student_id   the nbgrader (JupyterHub) id, as in submitted/<student_id>/
    lms_id       Canvas's user ID (the `ID` column of a Canvas gradebook export)
    sis_id       the institution's id: Canvas `SIS User ID`, Moodle `ID number`
    login        Canvas `SIS Login ID`
    name         "First Last"
    email        Moodle maps users by `Email address` (or by `ID number`)
    section      Canvas `Section` (optional)

The Canvas file follows Canvas's gradebook export/import layout: `Student` ("Last, First"),
`ID`, `SIS User ID`, `SIS Login ID`, `Section`, then one column per assignment named
`name (canvas assignment id)` (just `name` when `course.toml` gives no id: Canvas then offers to
create the assignment), and a `Points Possible` row under the header. The Moodle file has one
row per student with `ID number`, `Email address`, `First name`, `Last name` and one column per
assignment (a grade item, chosen on Moodle's "Import grades > CSV file" mapping page).
Scores are nbgrader's final scores (the late penalty subtracted). A student without a
submission scores 0, as in nbgrader's own CSV.

Students in the gradebook but not in the roster, and students in the roster but not in the
gradebook, are never dropped silently: `missing()` lists both, `make export` prints them and
writes them to `grades/lms_missing.txt`; roster students get their row (zeros).
"""
from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Unicode

from . import messages
from .coursedir import gradebook_url

ROSTER_FILE = "roster.csv"
ROSTER_COLUMNS = ("student_id", "lms_id", "sis_id", "login", "name", "email", "section")
CANVAS_FIXED = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_FIXED = ("ID number", "Email address", "First name", "Last name")


@dataclass(frozen=True)
class RosterEntry:
    student_id: str
    lms_id: str = ""
    sis_id: str = ""
    login: str = ""
    name: str = ""
    email: str = ""
    section: str = ""

    @property
    def first_last(self) -> tuple[str, str]:
        parts = self.name.split()
        if not parts:
            return self.student_id, ""
        return " ".join(parts[:-1]) or parts[0], parts[-1] if len(parts) > 1 else ""


def read_roster(path: Path | str) -> list[RosterEntry]:
    """The roster's rows (no file: an empty roster)."""
    path = Path(path)
    if not path.is_file():
        return []
    out = []
    with path.open(newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            sid = (row.get("student_id") or "").strip()
            if sid and not sid.startswith("#"):
                out.append(RosterEntry(**{k: (row.get(k) or "").strip()
                                          for k in ROSTER_COLUMNS}))
    return out


def canvas_ids(root: Path) -> dict[str, str]:
    """Canvas assignment ids from `course.toml`'s `[canvas.assignment_ids]` (may be empty)."""
    path = Path(root) / "course.toml"
    if not path.is_file():
        return {}
    with path.open("rb") as f:
        data = tomllib.load(f)
    return {k: str(v) for k, v in (data.get("canvas", {}).get("assignment_ids") or {}).items()}


def final_scores(gradebook: Gradebook) -> tuple[list[tuple[str, float]],
                                                dict[str, dict[str, float]]]:
    """[(assignment, max points)] and {student: {assignment: score after late penalty}}."""
    assignments = sorted((a.name, float(a.max_score or 0)) for a in gradebook.assignments)
    scores: dict[str, dict[str, float]] = {s.id: {} for s in gradebook.students}
    for name, _ in assignments:
        try:
            subs = gradebook.assignment_submissions(name)
        except MissingEntry:
            continue
        for sub in subs:
            penalty = float(sub.late_submission_penalty or 0)
            scores.setdefault(sub.student.id, {})[name] = max(0.0, float(sub.score) - penalty)
    return assignments, scores


@dataclass
class Missing:
    not_in_roster: list[str]   # graded in nbgrader, no roster row: not in the LMS files
    not_in_gradebook: list[str]  # on the roster, unknown to nbgrader: zeros in the LMS files

    def lines(self) -> list[str]:
        out = []
        for sid in self.not_in_roster:
            out.append(messages.NOT_IN_ROSTER.format(student=sid, roster=ROSTER_FILE))
        for sid in self.not_in_gradebook:
            out.append(messages.NOT_IN_GRADEBOOK.format(student=sid, roster=ROSTER_FILE))
        return out


def missing(roster: list[RosterEntry], scores: dict[str, dict[str, float]]) -> Missing:
    on_roster = {r.student_id for r in roster}
    return Missing(sorted(s for s in scores if s not in on_roster),
                   sorted(s for s in on_roster if s not in scores))


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


class _RosterExport(ExportPlugin):
    roster = Unicode(ROSTER_FILE, help="roster.csv mapping nbgrader ids to the LMS"
                     ).tag(config=True)
    default_to = ""

    def rows(self, gradebook: Gradebook):
        roster = read_roster(self.roster)
        assignments, scores = final_scores(gradebook)
        if self.assignment:
            assignments = [a for a in assignments if a[0] in self.assignment]
        if self.student:
            roster = [r for r in roster if r.student_id in self.student]
        gone = missing(roster, scores)
        for line in gone.lines():
            self.log.warning(line)
        return roster, assignments, scores, gone

    def export(self, gradebook: Gradebook) -> None:
        dest = Path(self.to or self.default_to)
        dest.parent.mkdir(parents=True, exist_ok=True)
        roster, assignments, scores, _ = self.rows(gradebook)
        with dest.open("w", newline="", encoding="utf-8") as f:
            self.write(csv.writer(f), roster, assignments, scores)
        self.log.info("Wrote %s (%d students, %d assignments)", dest, len(roster),
                      len(assignments))


class CanvasExport(_RosterExport):
    """A Canvas gradebook import CSV (Grades > Import)."""

    default_to = "canvas_grades.csv"

    def write(self, out, roster, assignments, scores) -> None:
        ids = canvas_ids(Path(self.roster).parent)
        names = [f"{a} ({ids[a]})" if a in ids else a for a, _ in assignments]
        out.writerow([*CANVAS_FIXED, *names])
        out.writerow(["    Points Possible", "", "", "", "", *[_fmt(m) for _, m in assignments]])
        for r in roster:
            first, last = r.first_last
            student = f"{last}, {first}" if last else first
            got = scores.get(r.student_id, {})
            out.writerow([student, r.lms_id, r.sis_id, r.login, r.section,
                          *[_fmt(got.get(a, 0.0)) for a, _ in assignments]])


class MoodleExport(_RosterExport):
    """A Moodle grade import CSV (Grades > Import > CSV file; map users by email)."""

    default_to = "moodle_grades.csv"

    def write(self, out, roster, assignments, scores) -> None:
        out.writerow([*MOODLE_FIXED, *[a for a, _ in assignments]])
        for r in roster:
            first, last = r.first_last
            got = scores.get(r.student_id, {})
            out.writerow([r.sis_id, r.email, first, last,
                          *[_fmt(got.get(a, 0.0)) for a, _ in assignments]])


def export_missing(root: Path, db_url: str | None = None) -> Missing:
    """Students missing from the roster or the gradebook (what `make export` lists)."""
    with Gradebook(db_url or gradebook_url(Path(root))) as gb:
        _, scores = final_scores(gb)
    return missing(read_roster(Path(root) / ROSTER_FILE), scores)
