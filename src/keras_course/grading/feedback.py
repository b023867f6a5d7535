"""Feedback students receive: every failure message, none of the hidden test code."""
from __future__ import annotations

import functools
import shutil
from pathlib import Path

from nbformat.notebooknode import from_dict
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Unicode

from .. import messages
from ..messages import (
    AWAITING,
    EXTENDED,
    LATE_GRACE,
    LATE_ON_TIME,
    LATE_PENALTY,
    NO_MESSAGE,
    STOPPED,
    SUMMARY_INTRO,
    SUMMARY_TITLE,
)


class HideHiddenTests(ClearHiddenTests):
    """nbgrader's `ClearHiddenTests`, applied to the autograded copy that feedback is made from.

    Autograde puts the hidden tests back into each test cell before it runs them, so the stock
    feedback would show them. The verdicts in the outputs are kept: they name what failed
    without the hidden values (see `expect(..., hidden=True)`).
    """


# --------------------------------------------------------------------------------------------
# The summary at the top of each feedback page
# --------------------------------------------------------------------------------------------

# The summary's sentences are in `keras_course.messages` ("students: feedback").


def _duration(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes and not days else []
    return " ".join(parts) or "less than a minute"


def _inline(text: str) -> str:
    """Escaped text with `code` spans as <code>."""
    import html
    import re

    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _first_line_docstring(source: str) -> str:
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    doc = ast.get_docstring(tree) if tree.body else None
    return doc.strip().splitlines()[0] if doc else ""


def _message(cell) -> str:
    """The failure message a test cell's outputs show (the grader's verdict)."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            value = str(out.get("evalue") or "").strip()
            if out.get("ename") in ("CellTimeoutError", "DeadKernelError", "NotRun"):
                return STOPPED + (f" {value}" if value else "")
            return value or str(out.get("ename") or "")
    return ""


class FeedbackSummary(NbGraderPreprocessor):
    """Put a summary at the top of the feedback: each graded part, its points, each failed
    check's message, and the late penalty with the times in the course's time zone.

    Runs after `GetGrades` (which puts each cell's score in its metadata) and after the hidden
    tests are gone, so it shows only what the page shows anyway. Every
    text taken from the notebook is escaped.
    """

    policy_file = Unicode("course.toml", help="course.toml (due dates and the late policy)"
                          ).tag(config=True)

    def preprocess(self, nb, resources):
        import html

        info = resources.get("nbgrader", {})
        parts: list[tuple[str, list]] = []
        heading = ""
        for cell in nb.cells:
            if cell.cell_type == "markdown" and not utils.is_grade(cell):
                for line in cell.source.splitlines():
                    if line.startswith("#"):
                        heading = line.lstrip("#").strip()
                        break
            if not utils.is_grade(cell):
                continue
            meta = cell.metadata.nbgrader
            gid, points = meta.get("grade_id", ""), float(meta.get("points") or 0)
            score = meta.get("score")
            if cell.cell_type == "code" and not utils.is_solution(cell):
                what = _first_line_docstring(cell.source) or gid
                message = "" if score is not None and float(score) >= points else \
                    (_message(cell) or NO_MESSAGE)
            else:
                what = messages.PART_WRITTEN if cell.cell_type == "markdown" else \
                    messages.PART_CODE
                message = AWAITING if score is None else ""
            if not parts or parts[-1][0] != heading:
                parts.append((heading, []))
            parts[-1][1].append((gid, what, score, points, message))
        rows = []
        for title, checks in parts:
            got = sum(float(c[2] or 0) for c in checks)
            top = sum(c[3] for c in checks)
            rows.append(f"<tr class=kc-part><th colspan=2>{_inline(title)}</th>"
                        f"<th class=kc-pts>{got:g} / {top:g}</th></tr>")
            for gid, what, score, points, message in checks:
                ok = score is not None and float(score) >= points
                mark = "&#10003;" if ok else ("&#8230;" if score is None else "&#10007;")
                shown = "-" if score is None else f"{float(score):g}"
                text = f"<a href='#{html.escape(gid)}'>{_inline(what)}</a>"
                if message:
                    text += f"<div class=kc-msg>{_inline(message)}</div>"
                rows.append(f"<tr class='{'kc-ok' if ok else 'kc-fail'}'><td class=kc-mark>"
                            f"{mark}</td><td>{text}</td><td class=kc-pts>{shown} / "
                            f"{points:g}</td></tr>")
        late = self._late_line(info)
        earned = (f"<b>{float(info.get('score', 0)):g} / "
                  f"{float(info.get('max_score', 0)):g}</b>")
        total = f"<p class=kc-total>{messages.TOTAL.format(points=earned)}</p>"
        page = ("<div class=kc-summary>"
                "<style>#toc{display:none}.kc-summary{border:2px solid #337ab7;border-radius:6px;"
                "padding:10px 14px;margin:0 0 18px;background:#f7fbff}.kc-summary table{width:100%;"
                "border-collapse:collapse}.kc-summary td,.kc-summary th{padding:4px 6px;"
                "border-bottom:1px solid #e1e8f0;vertical-align:top;text-align:left}"
                ".kc-part th{background:#e8f1fa}.kc-pts{text-align:right!important;"
                "white-space:nowrap;width:7em}.kc-mark{width:1.5em;font-weight:bold}"
                ".kc-ok .kc-mark{color:#2e7d32}.kc-fail .kc-mark{color:#c62828}"
                ".kc-msg{color:#8a1c1c;margin-top:2px}.kc-late{color:#a65e00}"
                ".kc-total{font-size:1.15em;margin:8px 0 2px}</style>"
                f"<h2>{SUMMARY_TITLE}</h2><p>{SUMMARY_INTRO}</p>"
                f"<table>{''.join(rows)}</table>{late}{total}</div>")
        cell = from_dict({"cell_type": "markdown", "metadata": {"keras_course": "summary"},
                          "source": page, "id": "keras-course-summary"})
        nb.cells.insert(0, cell)
        return nb, resources

    def _late_line(self, info: dict) -> str:
        try:
            from nbgrader.api import Gradebook

            from .late import load_policy

            policy = load_policy(self.policy_file)
            if not policy.due:
                return ""
            with Gradebook(info["db_url"]) as gb:
                sub = gb.find_submission(info["assignment"], info["student"])
                submitted = sub.timestamp
            late = policy.lateness(info["assignment"], info["student"], submitted)
        except Exception:  # noqa: BLE001 - no policy or no gradebook: no line
            return ""
        if late.due is None or late.submitted is None:
            return ""
        due = policy.show(late.due)
        if (info["student"], info["assignment"]) in policy.extensions:
            due += EXTENDED
        values = {"submitted": policy.show(late.submitted), "due": due,
                  "late": _duration(late.seconds_late)}
        penalty = float(info.get("late_penalty") or 0)
        if not late.seconds_late:
            text = LATE_ON_TIME.format(**values)
        elif late.in_grace or not penalty:
            text = LATE_GRACE.format(**values)
        else:
            rule = messages.LATE_RULE_ZERO if late.zero else messages.LATE_RULE_UNITS.format(
                units=late.units, per=policy.per, plural="s" if late.units != 1 else "",
                percent=policy.penalty_percent, cap=policy.cap_percent)
            text = LATE_PENALTY.format(**values, penalty=penalty, rule=rule)
        return f"<p class=kc-late>{_inline(text)}</p>"


#: Files of a feedback folder that nbgrader itself needs (`release_feedback` reads them).
NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")


def keep_only_feedback_pages(assignment=None, student=None, notebooks=(), *, root: str,
                             folder: str = "feedback") -> None:
    """`post_convert_hook` of `generate_feedback`: the feedback folder keeps its HTML pages.

    nbgrader copies every other file of the autograded folder into the feedback folder, and
    `release_feedback` hands every `*.html` in it to the student. The kernel can write that
    folder while it runs (with the hidden tests' calls in hand), so anything but the pages
    made from the notebooks and nbgrader's own two files is removed.
    """
    paths = [Path(n) for n in notebooks]
    if not paths:
        return
    student, assignment = paths[0].parent.parent.name, paths[0].parent.name
    target = Path(root) / folder / student / assignment
    keep = {f"{p.stem}.html" for p in paths} | set(NBGRADER_FILES)
    for entry in target.iterdir() if target.is_dir() else ():
        if entry.name in keep and entry.is_file() and not entry.is_symlink():
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def post_convert_hook(root: str, folder: str = "feedback"):
    """The `post_convert_hook` of `GenerateFeedback` for `nbgrader_config.py`."""
    return functools.partial(keep_only_feedback_pages, root=root, folder=folder)
