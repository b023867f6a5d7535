"""How the class did, on one page: `reports/index.html` with its plots as PNG files.

    keras-course report [--root COURSE] [--out DIR]   # also run by `make grade` and `make demo`

Read from the gradebook (whatever `nbgrader_config.py` points at: SQLite or PostgreSQL), the
autograded notebooks, and `grades/failures.json` (written by the grading run). For each
assignment: the distribution of scores, the pass rate of each graded check (each test cell,
by `grade_id`, in notebook order, so the checks the class struggles with stand out), and, for
the whole course, the submissions an instructor should look at: those that could not be
graded, those that scored zero on everything, and those whose kernel timed out, died or was
stopped. Then what the class misunderstands: per check, the most frequent failure messages
with their counts (from the verdicts in the autograded notebooks); "possible false failures",
submissions that fail one check while passing the checks on either side of it (a check that
may be too strict, to look at first); and the last regrade's audit (`grades/audit.json`): who
gained or lost points on which check after the tests or checks changed.
"""
from __future__ import annotations

import html
import json
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import messages
from .coursedir import gradebook_url, is_test_cell, notebooks, source_notebooks


@dataclass
class Submission:
    student: str
    assignment: str
    score: float
    max_score: float
    checks: dict[str, tuple[float, float]]  # grade_id -> (score, max) of each autograded check
    manual_pending: int = 0                 # cells still waiting for a human grader
    late_seconds: float = 0.0


@dataclass
class Flag:
    student: str
    assignment: str
    kind: str      # "failed to grade", "zero on everything", "timed out or stopped"
    detail: str


@dataclass
class ClassReport:
    assignments: list[str]
    max_points: dict[str, float]
    check_order: dict[str, list[str]]
    submissions: list[Submission]
    flags: list[Flag] = field(default_factory=list)
    # assignment -> grade_id -> Counter of failure messages
    messages: dict[str, dict[str, Counter]] = field(default_factory=dict)

    def top_messages(self, assignment: str, n: int = 3) -> list[tuple[str, list[tuple[str, int]]]]:
        """(grade_id, [(message, count)...]) of each check with failures, in notebook order."""
        found = self.messages.get(assignment, {})
        return [(gid, found[gid].most_common(n)) for gid in self.check_order.get(assignment, [])
                if found.get(gid)]

    def false_failures(self, assignment: str) -> list[tuple[Submission, str]]:
        """Submissions failing a check while passing the checks before and after it."""
        order = self.check_order.get(assignment, [])
        out = []
        for sub in self.of(assignment):
            passed = {g: top > 0 and got >= top for g, (got, top) in sub.checks.items()}
            for i, gid in enumerate(order):
                if gid not in passed or passed[gid]:
                    continue
                around = [order[j] for j in (i - 1, i + 1) if 0 <= j < len(order)]
                if around and all(passed.get(g, False) for g in around):
                    out.append((sub, gid))
        return sorted(out, key=lambda x: (-x[0].score, x[0].student, x[1]))

    def of(self, assignment: str) -> list[Submission]:
        return [s for s in self.submissions if s.assignment == assignment]

    def pass_rates(self, assignment: str) -> list[tuple[str, int, int]]:
        """(grade_id, passed, graded) for each check of `assignment`, in notebook order."""
        subs = self.of(assignment)
        rows = []
        for gid in self.check_order.get(assignment, []):
            scored = [s.checks[gid] for s in subs if gid in s.checks]
            rows.append((gid, sum(1 for got, top in scored if top and got >= top), len(scored)))
        return rows


def _check_order(root: Path, assignment: str) -> list[str]:
    """Autograded test cells of the assignment's source notebooks, in notebook order."""
    import nbformat

    return [cell.metadata["nbgrader"]["grade_id"] for path in source_notebooks(root, assignment)
            for cell in nbformat.read(path, as_version=4).cells if is_test_cell(cell)]


def _stopped_reasons(notebook: Path) -> list[str]:
    """What went wrong in the kernel, from the error outputs of an autograded notebook."""
    try:
        nb = json.loads(notebook.read_text())
    except (OSError, ValueError):
        return []
    found = []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) if isinstance(cell, dict) else []:
            name = out.get("ename") if isinstance(out, dict) else None
            reason = messages.STOPPED_BY.get(name) if isinstance(name, str) else None
            if reason and reason not in found:
                found.append(reason)
    return found


def collect(root: Path, db_url: str | None = None) -> ClassReport:
    """Everything the report shows, read from the gradebook and the grading run's files."""
    from nbgrader.api import Gradebook, MissingEntry

    root = Path(root)
    db_url = db_url or gradebook_url(root)
    subs: list[Submission] = []
    max_points: dict[str, float] = {}
    with Gradebook(db_url) as gb:
        names = [a.name for a in gb.assignments]
        for name in names:
            assignment = gb.find_assignment(name)
            max_points[name] = float(assignment.max_score or 0)
            try:
                submissions = gb.assignment_submissions(name)
            except MissingEntry:
                continue
            for sub in submissions:
                checks, pending = {}, 0
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        if grade.cell_type == "code" and grade.auto_score is not None:
                            checks[grade.name] = (float(grade.score), float(grade.max_score))
                        elif grade.needs_manual_grade:
                            pending += 1
                subs.append(Submission(sub.student.id, name, float(sub.score),
                                       float(sub.max_score), checks, pending,
                                       float(sub.total_seconds_late or 0)))
    assignments = sorted({s.assignment for s in subs} | set(names))
    report = ClassReport(assignments, max_points,
                         {a: _check_order(root, a) for a in assignments}, subs)
    report.flags = flags(root, report)
    report.messages = failure_messages(root, report)
    return report


def failure_messages(root: Path, report: ClassReport) -> dict[str, dict[str, Counter]]:
    """Failure messages of each check, counted over the class's autograded notebooks."""
    from .grading.feedback import _message

    out: dict[str, dict[str, Counter]] = {}
    for sub in report.submissions:
        failed = {g for g, (got, top) in sub.checks.items() if got < top}
        if not failed:
            continue
        folder = Path(root) / "autograded" / sub.student / sub.assignment
        for notebook in notebooks(folder):
            try:
                cells = json.loads(notebook.read_text()).get("cells", [])
            except (OSError, ValueError):
                continue
            for cell in cells if isinstance(cells, list) else []:
                gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
                if gid in failed:
                    message = _message(cell) or messages.NO_FAILURE_MESSAGE
                    out.setdefault(sub.assignment, {}).setdefault(gid, Counter())[message] += 1
    return out


def flags(root: Path, report: ClassReport) -> list[Flag]:
    """Submissions an instructor should look at, worst first."""
    out: list[Flag] = []
    try:
        failures = json.loads((Path(root) / "grades" / "failures.json").read_text())
    except (OSError, ValueError):
        failures = {}
    for entry in sorted(failures.values(), key=lambda e: (e["assignment"], e["student"])):
        out.append(Flag(entry["student"], entry["assignment"], "failed to grade",
                        entry.get("reason", "")))
    failed = {(f.student, f.assignment) for f in out}
    for sub in sorted(report.submissions, key=lambda s: (s.assignment, s.student)):
        if (sub.student, sub.assignment) in failed:
            continue
        folder = Path(root) / "autograded" / sub.student / sub.assignment
        stopped = []
        for notebook in notebooks(folder):
            stopped += [r for r in _stopped_reasons(notebook) if r not in stopped]
        if stopped:
            out.append(Flag(sub.student, sub.assignment, "timed out or stopped",
                            "; ".join(stopped)))
        if sub.checks and all(got == 0 for got, _ in sub.checks.values()):
            out.append(Flag(sub.student, sub.assignment, "zero on everything",
                            messages.ZERO_CHECKS.format(count=len(sub.checks))))
    return out


# --------------------------------------------------------------------------------------------
# Plots and the page
# --------------------------------------------------------------------------------------------

def plot_assignment(report: ClassReport, assignment: str, path: Path) -> Path:
    """Scores (left) and the pass rate of each check (right) of one assignment, as a PNG."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    subs = report.of(assignment)
    rates = report.pass_rates(assignment)
    top = report.max_points.get(assignment) or max((s.max_score for s in subs), default=1) or 1
    height = max(3.2, 0.42 * len(rates) + 1.4)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, height),
                                      gridspec_kw={"width_ratios": [1, 1.35]})
    scores = [s.score for s in subs]
    if top <= 30:  # whole points: one bar per score
        bins = [i - 0.5 for i in range(int(top) + 2)]
        left.set_xticks(range(0, int(top) + 1, 1 if top <= 15 else 2))
        left.set_xlim(-0.6, top + 0.6)
    else:
        bins = [i * top / 10 for i in range(11)]
        left.set_xlim(0, top)
    left.hist(scores, bins=bins, color="#4C72B0", edgecolor="white", rwidth=0.85)
    if scores:
        mean, median = statistics.fmean(scores), statistics.median(scores)
        left.axvline(mean, color="#C44E52", linewidth=1.5)
        left.axvline(median, color="#555555", linestyle="--", linewidth=1.2)
        stats = f";  mean {mean:.1f} (red line), median {median:.1f} (dashed)"
    else:
        stats = ""
    left.set_xlabel(f"score out of {top:g}{stats}")
    left.set_ylabel("submissions")
    left.yaxis.get_major_locator().set_params(integer=True)
    pending = sum(1 for s in subs if s.manual_pending)
    left.set_title(f"{assignment}: scores of {len(subs)} submissions" if not pending else
                   f"{assignment}: {len(subs)} scores, {pending} await manual grading",
                   loc="left")
    for side in ("top", "right"):
        left.spines[side].set_visible(False)

    labels = [gid for gid, _, _ in rates]
    values = [100 * p / n if n else 0 for _, p, n in rates]
    colors = ["#C44E52" if v < 50 else "#DD8452" if v < 80 else "#55A868" for v in values]
    ypos = list(range(len(rates)))[::-1]
    right.barh(ypos, values, color=colors, height=0.7)
    for y, (_gid, passed, n), v in zip(ypos, rates, values):
        right.text(min(v, 100) + 1, y, f"{v:.0f}%  ({passed}/{n})", va="center", fontsize=9)
    right.set_yticks(ypos, labels, fontsize=9)
    right.set_xlim(0, 118)
    right.set_xticks([0, 25, 50, 75, 100])
    right.set_xlabel("submissions that pass the check (%)")
    right.set_title("pass rate of each graded check", loc="left")
    for side in ("top", "right"):
        right.spines[side].set_visible(False)
    if not rates:
        right.text(0.5, 0.5, "no autograded checks", ha="center", transform=right.transAxes)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;
max-width:1180px;color:#222;padding:0 16px}
h1{font-size:1.5em;margin-bottom:0}.sub{color:#666;margin-top:4px}
table{border-collapse:collapse;margin:10px 0 18px}td,th{padding:4px 10px;text-align:left;
border-bottom:1px solid #e3e3e3;font-size:0.93em}th{background:#f5f5f5}
td.num,th.num{text-align:right}img{max-width:100%;border:1px solid #eee;margin:4px 0 16px}
.failed{color:#b00020;font-weight:600}.stopped{color:#a65e00;font-weight:600}
.zero{color:#555;font-weight:600}.ok{color:#2e7d32}
code{background:#f3f3f3;padding:0 3px;border-radius:3px}
"""


def _flag_class(kind: str) -> str:
    return {"failed to grade": "failed", "timed out or stopped": "stopped"}.get(kind, "zero")


def write_report(root: Path, out: Path | None = None, report: ClassReport | None = None,
                 run: dict | None = None) -> Path:
    """Write `reports/index.html` and one PNG per assignment; returns the page's path."""
    root = Path(root)
    out = Path(out) if out else root / "reports"
    report = report or collect(root)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    esc = html.escape
    rows, sections = [], []
    for a in report.assignments:
        subs = report.of(a)
        scores = [s.score for s in subs]
        rates = report.pass_rates(a)
        hardest = min((r for r in rates if r[2]), key=lambda r: r[1] / r[2], default=None)
        flagged = sum(1 for f in report.flags if f.assignment == a)
        pending = sum(1 for s in subs if s.manual_pending)
        mean = f"{statistics.fmean(scores):.1f}" if scores else "-"
        median = f"{statistics.median(scores):.1f}" if scores else "-"
        full = sum(1 for s in subs if s.max_score and s.score >= s.max_score)
        hard = (f"<code>{esc(hardest[0])}</code> ({100 * hardest[1] / hardest[2]:.0f}%)"
                if hardest else "-")
        link = f"<a href='#{esc(a)}'>{esc(a)}</a>" if subs else esc(a)
        rows.append(f"<tr><td>{link}</td><td class=num>{len(subs)}</td>"
                    f"<td class=num>{mean}</td><td class=num>{median}</td>"
                    f"<td class=num>{report.max_points.get(a, 0):g}</td><td class=num>{full}</td>"
                    f"<td>{hard}</td><td class=num>{flagged}</td><td class=num>{pending}</td></tr>")
        if not subs:
            continue
        png = plot_assignment(report, a, out / f"{a}.png")
        sections.append(f"<h2 id='{esc(a)}'>{esc(a)}</h2><img src='{png.name}' "
                        f"alt='scores and pass rate of each check of {esc(a)}'>")
    flag_rows = "".join(
        f"<tr><td>{esc(f.student)}</td><td>{esc(f.assignment)}</td>"
        f"<td class={_flag_class(f.kind)}>{esc(f.kind)}</td><td>{esc(f.detail)}</td></tr>"
        for f in report.flags)
    flags_html = (f"<table><tr><th>student</th><th>assignment</th><th>what</th><th>details</th>"
                  f"</tr>{flag_rows}</table>" if report.flags
                  else "<p class=ok>None: every submission was graded and none looks off.</p>")
    insight = _insight_html(report, root)
    run_html = ""
    if run:
        run_html = "<p class=sub>" + esc(", ".join(f"{k}: {v}" for k, v in run.items())) + "</p>"
    n_students = len({s.student for s in report.submissions})
    page = f"""<!doctype html><html><head><meta charset='utf-8'>
<title>Grading report: {esc(root.name)}</title><style>{_CSS}</style></head><body>
<h1>Grading report</h1>
<p class=sub>{len(report.submissions)} graded submissions from {n_students} students,
{len(report.assignments)} assignments. Read from the gradebook and the autograded notebooks.</p>
{run_html}
<table><tr><th>assignment</th><th class=num>submissions</th><th class=num>mean</th>
<th class=num>median</th><th class=num>max</th><th class=num>full marks</th>
<th>hardest check (pass rate)</th><th class=num>flagged</th>
<th class=num>awaiting manual grading</th></tr>{''.join(rows)}</table>
<h2>Submissions to look at</h2>{flags_html}
{insight}
{''.join(sections)}
<p class=sub>Green: at least 80% pass the check; orange: 50 to 80%; red: under half.
Files: <code>grades/grades.csv</code> (all scores), <code>grades/logs/</code> (one log per
submission), <code>feedback/</code>.</p>
</body></html>
"""
    index = out / "index.html"
    index.write_text(page)
    return index


def _code(text: str) -> str:
    import re

    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _insight_html(report: ClassReport, root: Path) -> str:
    """What the class misunderstands, the checks to look at first, and the last regrade."""
    esc = html.escape
    parts = ["<h2 id=messages>What the class gets wrong: the most frequent failure messages</h2>"]
    any_message = False
    for a in report.assignments:
        rows = []
        for gid, common in report.top_messages(a):
            failed = sum(report.messages[a][gid].values())
            for k, (message, count) in enumerate(common):
                first = (f"<td rowspan={len(common)}><code>{esc(gid)}</code><br>"
                         f"<span class=sub>{failed} failed</span></td>") if k == 0 else ""
                rows.append(f"<tr>{first}<td class=num>{count}</td><td>{_code(message)}</td>"
                            "</tr>")
        if rows:
            any_message = True
            parts.append(f"<h3>{esc(a)}</h3><table><tr><th>check</th><th class=num>count</th>"
                         f"<th>message</th></tr>{''.join(rows)}</table>")
    if not any_message:
        parts.append("<p class=ok>No check failed.</p>")
    parts.append("<h2 id=false-failures>Possible false failures</h2><p class=sub>Submissions "
                 "that fail one check while passing the checks on either side of it: a check "
                 "that is too strict shows up here first.</p>")
    rows = [f"<tr><td>{esc(sub.student)}</td><td>{esc(a)}</td><td><code>{esc(gid)}</code></td>"
            f"<td class=num>{sub.score:g} / {sub.max_score:g}</td></tr>"
            for a in report.assignments for sub, gid in report.false_failures(a)]
    parts.append("<table><tr><th>student</th><th>assignment</th><th>failed check</th>"
                 f"<th class=num>score</th></tr>{''.join(rows)}</table>" if rows
                 else "<p class=ok>None.</p>")
    from .grading import audit

    last = audit.read(root)
    if last.get("regraded"):
        changes = last.get("changes", [])
        reasons = Counter(last["regraded"].values())
        why = "; ".join(f"{n} because {r}" for r, n in sorted(reasons.items()))
        parts.append(f"<h2 id=regrade>The last regrade ({esc(str(last.get('graded_at', '')))})"
                     f"</h2><p class=sub>{len(last['regraded'])} submissions regraded: "
                     f"{esc(why)}.</p>")
        rows = [f"<tr><td>{esc(c['student'])}</td><td>{esc(c['assignment'])}</td>"
                f"<td><code>{esc(c['check'])}</code></td><td class=num>{c['before']:g}</td>"
                f"<td class=num>{c['after']:g}</td><td class=num>"
                f"{'+' if c['after'] > c['before'] else ''}{c['after'] - c['before']:g}</td>"
                f"<td>{esc(c['reason'])}</td></tr>" for c in changes]
        parts.append("<table><tr><th>student</th><th>assignment</th><th>check</th>"
                     "<th class=num>before</th><th class=num>after</th><th class=num>change</th>"
                     f"<th>why regraded</th></tr>{''.join(rows)}</table>" if rows
                     else "<p class=ok>No check's points changed.</p>")
    return "\n".join(parts)


if __name__ == "__main__":  # the program is keras_course.cli; this spelling still works
    from keras_course.cli import main

    sys.exit(main(["report", *sys.argv[1:]]))
