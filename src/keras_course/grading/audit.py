"""The audit of a regrade: who gained or lost points on which check, and why they were regraded.

`make grade` regrades a submission when its files, its assignment's tests (as the gradebook
holds them after `make release`) or the course's check code changed (`record.fingerprint_parts`).
Before the run it reads each regraded submission's score on every check, after the run again;
the differences are printed and written to `grades/audit.json`, which the report shows.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from ..messages import regrade_reason
from .record import NOT_GRADED

AUDIT = Path("grades") / "audit.json"


@dataclass(frozen=True)
class Change:
    student: str
    assignment: str
    check: str
    before: float
    after: float
    reason: str

    @property
    def delta(self) -> float:
        return round(self.after - self.before, 2)

    def line(self) -> str:
        sign = "+" if self.delta > 0 else ""
        return (f"{self.student}/{self.assignment} {self.check}: {self.before:g} -> "
                f"{self.after:g} ({sign}{self.delta:g}; {self.reason})")


def read_checks(db_url: str, jobs: Iterable) -> dict[str, dict[str, float]]:
    """{"student/assignment": {grade_id: score}} of the submissions the gradebook holds."""
    from nbgrader.api import Gradebook, MissingEntry

    out: dict[str, dict[str, float]] = {}
    try:
        gb_context = Gradebook(db_url)
    except Exception:  # noqa: BLE001 - no gradebook yet: nothing was graded before
        return out
    with gb_context as gb:
        for job in jobs:
            try:
                sub = gb.find_submission(job.assignment, job.student)
            except MissingEntry:
                continue
            out[str(job)] = {g.name: float(g.score) for nb in sub.notebooks for g in nb.grades
                             if g.cell_type == "code" and g.auto_score is not None}
    return out


def compare(before: dict[str, dict[str, float]], after: dict[str, dict[str, float]],
            reasons: dict[str, tuple[str, ...]]) -> list[Change]:
    """The checks whose score changed, for submissions graded before and again now."""
    changes = []
    for key in sorted(before):
        if key not in after or not before[key]:
            continue
        student, assignment = key.split("/", 1)
        for check in sorted(set(before[key]) | set(after[key])):
            old, new = before[key].get(check, 0.0), after[key].get(check, 0.0)
            if round(old, 4) != round(new, 4):
                changes.append(Change(student, assignment, check, old, new,
                                      regrade_reason(reasons.get(key, ()))))
    return changes


def write(root: Path, reasons: dict[str, tuple[str, ...]], changes: list[Change]) -> Path:
    """Keep this run's regrades, with why in words, and changes in grades/audit.json (none:
    keep the last)."""
    path = Path(root) / AUDIT
    regraded = {k: regrade_reason(v) for k, v in reasons.items() if v != (NOT_GRADED,)}
    if not regraded and path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"graded_at": time.strftime("%Y-%m-%d %H:%M %Z"),
                                "regraded": regraded,
                                "changes": [asdict(c) for c in changes]}, indent=1))
    return path


def read(root: Path) -> dict:
    try:
        return json.loads((Path(root) / AUDIT).read_text())
    except (OSError, ValueError):
        return {}


def summary_lines(reasons: dict[str, tuple[str, ...]], changes: list[Change]) -> list[str]:
    """What `make grade` prints about the regrades of this run."""
    regraded: dict[str, int] = {}
    for codes in reasons.values():
        if codes != (NOT_GRADED,):
            reason = regrade_reason(codes)
            regraded[reason] = regraded.get(reason, 0) + 1
    lines = [f"regraded {n} submissions because {why}" for why, n in sorted(regraded.items())]
    if regraded:
        if changes:
            lines.append(f"points changed on {len(changes)} checks:")
            lines += [f"  {c.line()}" for c in changes]
        else:
            lines.append("no check's points changed")
    return lines
