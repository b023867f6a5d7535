"""The instructor's commands: `release`, `demo`, `grade` and `export` (`keras-course COMMAND`).

    keras-course release   # regenerate release/ from source/
    keras-course demo      # release, a demo class, autograde, feedback, CSV
    keras-course grade     # autograde what is in submitted/, feedback, CSV
    keras-course export    # Canvas and Moodle grade-import CSVs (roster.csv)

The command line is `keras_course.cli` (`python -m keras_course.course COMMAND` runs it too);
this module does the work and returns what it did.
"""
from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import messages
from .coursedir import assignments, gradebook_url, nbgrader_env, notebooks, source_notebooks
from .grading import batch, record
from .grading.batch import Progress, default_workers, grade_all
from .grading.record import find_jobs
from .submissions import Variant, make_submission, read_variant


def nbgrader(root: Path, *args: str, log: Path | None = None) -> subprocess.CompletedProcess:
    """Run one nbgrader command in the course root; its output goes to `log` (appended)."""
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, env=nbgrader_env(),
                          capture_output=True, text=True)
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as f:
            f.write(f"$ nbgrader {' '.join(args)}\n{proc.stdout}{proc.stderr}\n")
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise SystemExit(messages.NBGRADER_STEP_FAILED.format(
            args=" ".join(args), code=proc.returncode, tail=tail))
    return proc


def release(root: Path, log: Path | None = None) -> list[Path]:
    """Regenerate release/ from source/ with `nbgrader generate_assignment` for every assignment."""
    written = []
    for assignment in assignments(root):
        nbgrader(root, "generate_assignment", assignment, "--force", log=log)
        written += notebooks(root / "release" / assignment)
    return written


def demo_class(root: Path) -> dict[str, dict[str, str]]:
    """The demo class: student id -> {assignment: "reference" | "blank" | variant name}."""
    with (root / "demo" / "class.toml").open("rb") as f:
        return tomllib.load(f)


def variant_path(root: Path, assignment: str, name: str) -> Path:
    return root / "demo" / "variants" / assignment / f"{name}.py"


def load_variant(root: Path, assignment: str, name: str) -> Variant | None:
    """`reference` is None (the instructor's solution); `blank` and others are Variants."""
    if name == "reference":
        return None
    if name == "blank":
        return Variant("blank", "the untouched release notebook", [])
    return read_variant(variant_path(root, assignment, name))


def submit(root: Path, student: str, assignment: str, variant: Variant | None,
           timestamp: str = "2026-11-20 12:00:00.000000 UTC") -> Path:
    """Write a student's submission into submitted/<student>/<assignment>/ as nbgrader expects."""
    folder = root / "submitted" / student / assignment
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for release_path in notebooks(root / "release" / assignment):
        source_nb = nbformat.read(root / "source" / assignment / release_path.name, as_version=4)
        release_nb = nbformat.read(release_path, as_version=4)
        nbformat.write(make_submission(release_nb, source_nb, variant), folder / release_path.name)
    (folder / "timestamp.txt").write_text(timestamp)
    return folder


def build_demo_class(root: Path, log: Path | None = None) -> int:
    """Fill submitted/ with the demo class and enrol its students in the gradebook by name.

    Returns the number of submissions.
    """
    count = 0
    klass = demo_class(root)
    for student, work in klass.items():
        for assignment, name in work.items():
            submit(root, student, assignment, load_variant(root, assignment, name))
            count += 1
    roster = root / "grades" / "demo_students.csv"
    roster.parent.mkdir(parents=True, exist_ok=True)
    with roster.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "first_name", "last_name", "email"])
        for student in klass:
            writer.writerow([student, student.capitalize(), "Demo", ""])
    nbgrader(root, "db", "student", "import", str(roster), log=log)
    return count


def submitted_assignments(root: Path) -> list[str]:
    folder = root / "submitted"
    found = {p.parent.name for p in folder.glob("*/*/*.ipynb")} if folder.is_dir() else set()
    return [a for a in assignments(root) if a in found]


@dataclass
class GradeRun:
    """What one grading run did: the grades CSV it wrote and every submission's result."""

    csv_path: Path
    results: list = field(default_factory=list)

    @property
    def failed(self) -> list:
        """The submissions that could not be graded (each with its reason)."""
        return [r for r in self.results if not r.ok]


def grade(root: Path, log: Path, workers: int | None = None, force: bool = False,
          scheduler: str | None = None) -> GradeRun:
    """Autograde what needs it in submitted/ (in parallel), then feedback, grades CSV, report."""
    from .grading import protections

    try:  # fail closed: nothing is graded unless the course's protections are in force
        protections.install()
        protections.check_course(root)
    except protections.ProtectionsMissingError as exc:
        raise SystemExit(f"autograde: {exc}") from None
    from .grading.late import load_policy

    try:  # a date or a rule of course.toml that does not parse stops the run before it starts
        load_policy(root)
    except ValueError as exc:
        raise SystemExit(messages.COURSE_TOML_INVALID.format(error=str(exc).rstrip("."))) from None
    jobs = find_jobs(root, force=force)
    n_workers = workers or default_workers()
    scheduler = scheduler or batch.dask_scheduler()
    where = (messages.ON_DASK.format(scheduler=scheduler) if scheduler else
             messages.WITH_WORKERS.format(workers=n_workers))
    print(messages.GRADING_STARTS.format(count=len(jobs), where=where), flush=True)
    from .grading import audit

    db_url = gradebook_url(root)
    manifest = record.Manifest(root)
    reasons = {str(j): record.why_grade(root, j, manifest, db_url) for j in jobs}
    if force:
        reasons = {k: (record.FORCED,) if v == (record.MISSING,) else v
                   for k, v in reasons.items()}
    before = audit.read_checks(db_url, [j for j in jobs if reasons[str(j)] != (record.NOT_GRADED,)])
    progress = Progress(len(jobs))
    try:
        results = grade_all(root, jobs, nbgrader_env(), workers=n_workers,
                            on_result=progress.update, scheduler=scheduler)
    except KeyboardInterrupt:
        raise SystemExit("\n" + messages.GRADING_INTERRUPTED.format(
            done=progress.done, total=len(jobs))) from None
    batch.record_failures(root, results)
    failed = [r for r in results if not r.ok]
    if failed:
        print("\n" + messages.UNGRADED_IN_RUN.format(count=len(failed)))
        for r in failed:
            print(f"  {r.job}: {r.reason}")
    changes = audit.compare(before, audit.read_checks(db_url, [r.job for r in results if r.ok]),
                            reasons)
    audit.write(root, reasons, changes)
    for line in audit.summary_lines(reasons, changes):
        print(line)
    from .grading.late import apply_policy

    try:
        changes_late = apply_policy(root)  # course.toml today: due dates, extensions, penalties
    except ValueError as exc:  # changed while grading: say where
        raise SystemExit(messages.LATE_POLICY_FAILED.format(error=str(exc).rstrip("."))) from None
    for change in changes_late:
        print(messages.LATE_PENALTY_CHANGED.format(
            submission=f"{change.student}/{change.assignment}", before=change.before,
            after=change.after))
    for assignment in submitted_assignments(root):
        if any((root / "autograded").glob(f"*/{assignment}/*.ipynb")):
            nbgrader(root, "generate_feedback", assignment, "--force", log=log)
    csv_path = root / "grades" / "grades.csv"
    csv_path.parent.mkdir(exist_ok=True)
    nbgrader(root, "export", "--to", str(csv_path), log=log)
    try:
        from .report import write_report

        spent = round(time.monotonic() - progress.started)
        write_report(root, run={"graded in this run": len(results),
                                "could not be graded": len(failed),
                                "seconds spent grading": spent})
    except Exception as exc:  # noqa: BLE001 - the grades are in; a report problem is reported
        print(messages.REPORT_NOT_WRITTEN.format(error=f"{type(exc).__name__}: {exc}"))
    return GradeRun(csv_path, results)


def export(root: Path, log: Path) -> list[Path]:
    """Canvas and Moodle grade-import CSVs through nbgrader's export plugins (keras_course.lms)."""
    from .grading.late import apply_policy
    from .lms import ROSTER_FILE, export_missing

    apply_policy(root)
    written = []
    for lms in ("canvas", "moodle"):
        dest = root / "grades" / f"{lms}.csv"
        dest.parent.mkdir(exist_ok=True)
        nbgrader(root, "export", f"--exporter=keras_course.lms.{lms.capitalize()}Export",
                 "--to", str(dest), f"--{lms.capitalize()}Export.roster={root / ROSTER_FILE}",
                 log=log)
        written.append(dest)
    gone = export_missing(root)
    listing = root / "grades" / "lms_missing.txt"
    listing.write_text("".join(line + "\n" for line in gone.lines()))
    for line in gone.lines():
        print(f"  {line}")
    return written


def summary(root: Path, csv_path: Path) -> str:
    """A short table of scores per student and assignment, from the exported CSV."""
    rows = list(csv.DictReader(csv_path.open()))
    students = sorted({r["student_id"] for r in rows})
    names = sorted({r["assignment"] for r in rows})
    width = max([len(s) for s in students] + [7])
    lines = ["student".ljust(width) + "  " + "  ".join(n[:14].rjust(14) for n in names)]
    for student in students:
        cells = []
        for name in names:
            row = next((r for r in rows if r["student_id"] == student and r["assignment"] == name),
                       None)
            cells.append(("-" if row is None or not row["timestamp"] else
                          f"{float(row['score']):g}/{float(row['max_score']):g}").rjust(14))
        lines.append(student.ljust(width) + "  " + "  ".join(cells))
    for name in names:
        manual = manual_points(root, name)
        if manual:
            lines.append(messages.WRITTEN_ANSWERS.format(assignment=name, points=manual))
    return "\n".join(lines)


def manual_points(root: Path, assignment: str) -> float:
    """Points of the cells graded by hand (written answers) in an assignment's notebooks."""
    total = 0.0
    for path in source_notebooks(root, assignment):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and meta.get("solution") and cell.cell_type == "markdown":
                total += float(meta.get("points", 0))
    return total


@dataclass
class Outcome:
    """What a command did: the files it wrote, and the submissions it could not grade."""

    written: list[Path] = field(default_factory=list)
    ungraded: list = field(default_factory=list)


def run_command(command: str, root: Path, workers: int | None = None, force: bool = False,
                scheduler: str | None = None) -> Outcome:
    """`release`, `demo`, `grade` or `export` on the course in `root`, saying what it wrote."""
    log = root / "grades" / "nbgrader.log"
    outcome = Outcome()
    if command in ("release", "demo"):
        outcome.written += release(root, log=log)
        print(f"release/: {len(outcome.written)} student notebooks regenerated from source/")
    if command == "demo":
        print(f"submitted/: {build_demo_class(root, log)} demo submissions")
    if command in ("demo", "grade"):
        run = grade(root, log, workers=workers, force=force or command == "demo",
                    scheduler=scheduler)
        outcome.written.append(run.csv_path)
        outcome.ungraded = run.failed
        print()
        print(summary(root, run.csv_path))
        print()
        print(f"autograded notebooks: {root / 'autograded'}")
        print(f"feedback:             {root / 'feedback'}")
        print(f"grades CSV:           {run.csv_path}")
        print(f"report:               {root / 'reports' / 'index.html'}")
        print(f"nbgrader log:         {log}")
    if command == "export":
        outcome.written += export(root, log)
        for path in outcome.written:
            print(f"{path.stem.capitalize()} grade import: {path}")
        print(f"missing students:     {root / 'grades' / 'lms_missing.txt'}")
    return outcome


if __name__ == "__main__":  # the program is keras_course.cli; this spelling still works
    from keras_course.cli import main

    sys.exit(main())
