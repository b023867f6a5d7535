"""What comes back from grading, through the real pipeline on a temporary copy of the course.

One small class of `a1_sequential` (7 points) is graded once for the module, with a course
policy (`course.toml`), an extension and a roster:

- ana: the reference solution, on time;
- bo: the reference solution, 26 hours late (two started days: 20% of 7 points);
- cy: `hard_coded_sizes` (loses points), 26 hours late, with a two-day extension;
- dee: the untouched release notebook, on time, not on the roster;
- zed: on the roster, never submitted;
- ana also hands in `a2_functional` (her models' layer graphs are drawn before and after the
  first hidden test).

Then the extensions change (bo gets one, cy loses hers) and `grade` runs again; then the
instructor drops the hidden part of one check in source/, runs `release` and `grade`: exactly
the `a1_sequential` submissions are regraded, and only cy gains a point.
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import copy_course
from nbgrader.api import Gradebook

from keras_course.course import load_variant, release, submit

pytestmark = pytest.mark.pipeline

A = "a1_sequential"
ON_TIME = "2026-11-19 09:00:00.000000 UTC"
LATE = "2026-11-20 12:00:00.000000 UTC"   # due 2026-11-19 11:00 Berlin = 10:00 UTC: 26 h late
POLICY = f"""
time_zone = "Europe/Berlin"
extensions = "extensions.csv"
[due]
{A} = "2026-11-19 11:00"
[late]
grace_minutes = 15
penalty_percent = 10
per = "day"
cap_percent = 50
zero_after_days = 7
[canvas.assignment_ids]
{A} = 4711
"""
ROSTER = """student_id,lms_id,sis_id,login,name,email,section
ana,101,S-1,ana.l,Ana Lima,ana@uni.example,A
bo,102,S-2,bo.k,Bo Kim,bo@uni.example,A
cy,103,S-3,cy.o,Cy Ode,cy@uni.example,B
zed,104,S-4,zed.z,Zed Zero,zed@uni.example,B
"""


def course_cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "keras_course.course", *args, "--root", str(root)],
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def gradebook_state(root: Path) -> dict[str, dict]:
    out = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        assignment = gb.find_assignment(A)
        for sub in gb.assignment_submissions(A):
            out[sub.student.id] = {
                "score": float(sub.score), "penalty": float(sub.late_submission_penalty or 0),
                "extension": sub.extension, "duedate": assignment.duedate,
                "checks": {g.name: float(g.score) for nb in sub.notebooks for g in nb.grades
                           if g.cell_type == "code" and g.auto_score is not None}}
    return out


_FAILURE: list[str] = []


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    if _FAILURE:
        pytest.fail(_FAILURE[0], pytrace=False)
    try:
        return _grade(tmp_path_factory)
    except BaseException as exc:
        _FAILURE.append(f"grading the test class failed: {exc}")
        raise


def _grade(tmp_path_factory) -> dict:
    root = copy_course(tmp_path_factory.mktemp("returns") / "course")
    (root / "course.toml").write_text(POLICY)
    (root / "extensions.csv").write_text("student,assignment,until,reason\n"
                                         f"cy,{A},+2d,ill (note from the doctor)\n")
    (root / "roster.csv").write_text(ROSTER)
    release(root)
    submit(root, "ana", A, None, ON_TIME)
    submit(root, "bo", A, None, LATE)
    submit(root, "cy", A, load_variant(root, A, "hard_coded_sizes"), LATE)
    submit(root, "dee", A, load_variant(root, A, "blank"), ON_TIME)
    submit(root, "dee", "a3_multi_io", load_variant(root, "a3_multi_io", "blank"), ON_TIME)
    submit(root, "ana", "a2_functional", None, ON_TIME)
    first = course_cli(root, "grade")
    state = {"first": first, "root": root, "before": gradebook_state(root)}
    state["export"] = course_cli(root, "export")
    state["canvas"] = list(csv.reader((root / "grades" / "canvas.csv").open()))
    state["moodle"] = list(csv.DictReader((root / "grades" / "moodle.csv").open()))
    # the extension moves from cy to bo: nothing is regraded, every penalty follows
    (root / "extensions.csv").write_text("student,assignment,until,reason\n"
                                         f"bo,{A},2026-11-21 12:00,\n")
    state["second"] = course_cli(root, "grade")
    state["after"] = gradebook_state(root)
    # the instructor fixes a check: test_build_sequential_inputs loses its hidden part
    source = root / "source" / A / f"{A}.ipynb"
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == FIXED:
            cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0].rstrip() + "\n"
    nbformat.write(nb, source)
    release(root)
    state["regrade"] = course_cli(root, "grade")
    state["regraded"] = gradebook_state(root)
    state["manifest"] = json.loads((root / "grades" / "graded.json").read_text())
    state["report"] = (root / "reports" / "index.html").read_text()
    return state


FIXED = "test_build_sequential_inputs"


def test_a_fixed_check_regrades_exactly_its_assignment_and_audits_the_change(graded):
    out = graded["regrade"].stdout
    assert "autograde: 4 submissions to grade" in out, out
    assert "regraded 4 submissions because the assignment's tests changed" in out
    assert f"cy/{A} {FIXED}: 0 -> 1 (+1; the assignment's tests changed)" in out
    assert "points changed on 1 checks:" in out
    audit = json.loads((graded["root"] / "grades" / "audit.json").read_text())
    assert [(c["student"], c["check"], c["before"], c["after"]) for c in audit["changes"]] == \
        [("cy", FIXED, 0.0, 1.0)]
    assert set(audit["regraded"]) == {f"{s}/{A}" for s in ("ana", "bo", "cy", "dee")}
    after, regraded = graded["after"], graded["regraded"]
    assert regraded["cy"]["score"] == after["cy"]["score"] + 1
    for student in ("ana", "bo", "dee"):
        assert regraded[student]["checks"] == after[student]["checks"]
    # the penalty follows the new score: 20% of 7 points, not more than the score
    assert regraded["cy"]["penalty"] == pytest.approx(min(1.4, regraded["cy"]["score"]))


def test_the_record_of_graded_submissions_covers_tests_and_checks(graded):
    entry = graded["manifest"][f"ana/{A}"]
    assert set(entry["parts"]) == {"submission", "tests", "checks"}
    assert entry["parts"]["tests"].startswith("gb:")
    other = graded["manifest"]["dee/a3_multi_io"]
    assert other["parts"]["tests"] != entry["parts"]["tests"]


def test_late_penalties_follow_the_policy_and_the_extension(graded):
    before = graded["before"]
    assert before["ana"]["score"] == 7 and before["ana"]["penalty"] == 0
    assert before["bo"]["score"] == 7 and before["bo"]["penalty"] == pytest.approx(1.4)
    assert before["cy"]["penalty"] == 0 and 0 < before["cy"]["score"] < 7
    assert before["dee"]["score"] == 0 and before["dee"]["penalty"] == 0


def test_due_dates_and_extensions_reach_the_gradebook(graded):
    import datetime as dt

    before = graded["before"]
    assert before["ana"]["duedate"] == dt.datetime(2026, 11, 19, 10, 0)  # 11:00 in Berlin
    assert before["cy"]["extension"] == dt.timedelta(days=2)
    assert before["bo"]["extension"] is None


def test_a_changed_extension_changes_the_grades_without_regrading(graded):
    after, before = graded["after"], graded["before"]
    out = graded["second"].stdout
    assert "0 submissions to grade" in out
    assert after["bo"]["penalty"] == 0 and after["bo"]["extension"] is not None
    assert after["cy"]["extension"] is None
    assert after["cy"]["penalty"] == pytest.approx(min(1.4, before["cy"]["score"]))
    assert "late penalty of bo/a1_sequential: 1.4 -> 0 points" in out
    assert "late penalty of cy/a1_sequential: 0 -> " in out
    assert {s: v["checks"] for s, v in after.items()} == \
        {s: v["checks"] for s, v in before.items()}


def test_canvas_file_has_canvas_columns_and_the_gradebook_scores(graded):
    rows = graded["canvas"]
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       f"{A} (4711)", "a2_functional", "a3_multi_io", "a4_choosing"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][5] == "7"
    by_id = {r[1]: r for r in rows[2:]}
    assert set(by_id) == {"101", "102", "103", "104"}
    assert by_id["102"][:5] == ["Kim, Bo", "102", "S-2", "bo.k", "A"]
    before = graded["before"]
    for lms_id, student in (("101", "ana"), ("102", "bo"), ("103", "cy")):
        final = before[student]["score"] - before[student]["penalty"]
        assert float(by_id[lms_id][5]) == pytest.approx(final, abs=0.01), student
    assert by_id["104"][5:] == ["0", "0", "0", "0"]


def test_moodle_file_maps_users_by_email_and_id_number(graded):
    rows = {r["Email address"]: r for r in graded["moodle"]}
    assert list(graded["moodle"][0])[:4] == ["ID number", "Email address", "First name",
                                             "Last name"]
    assert set(rows) == {"ana@uni.example", "bo@uni.example", "cy@uni.example",
                         "zed@uni.example"}
    assert rows["bo@uni.example"]["ID number"] == "S-2"
    assert float(rows["bo@uni.example"][A]) == pytest.approx(5.6)
    assert float(rows["ana@uni.example"][A]) == 7


def test_students_missing_from_either_side_are_listed(graded):
    out = graded["export"].stdout
    listing = (graded["root"] / "grades" / "lms_missing.txt").read_text()
    for text in (out, listing):
        assert "dee: in the gradebook but not in roster.csv: NOT exported" in text
        assert "zed: in roster.csv but not in the gradebook" in text


# ------------------------------------------------------------------------- feedback students read

SHOTS = Path(__file__).resolve().parent / "screenshots" / "feedback"


def feedback(root: Path, student: str, assignment: str) -> Path:
    return root / "feedback" / student / assignment / f"{assignment}.html"


def test_feedback_opens_with_every_part_its_points_and_each_failure_message(graded):
    page = feedback(graded["root"], "cy", A).read_text()
    top = page.index("Your grade at a glance")
    assert top < page.index("Assignment 1: The Sequential API")
    summary = page[top:page.index("Total:", top)]
    for text in ("Part 1:", "Part 2:", "The layers are", "When called with other sizes, the "
                 "layers are not the ones the task describes", "0 / 2", "1 / 1"):
        assert text in summary, text
    assert "BEGIN HIDDEN TESTS" not in page and "build_sequential(13" not in page
    late = feedback(graded["root"], "bo", A).read_text()
    assert "Submitted 2026-11-20 13:00 CET, due 2026-11-21 12:00 CET (your extended due date)" \
        in late  # the extension bo got before the last run
    on_time = feedback(graded["root"], "ana", A).read_text()
    assert "Submitted 2026-11-19 10:00 CET, due 2026-11-19 11:00 CET: on time." in on_time


def test_every_figure_of_the_graded_run_is_a_picture(graded):
    root = graded["root"]
    pages = sorted((root / "feedback").glob("*/*/*.html"))
    assert pages
    for page in pages:
        assert "&lt;Figure size" not in page.read_text(), page
    graph = feedback(root, "ana", "a2_functional").read_text()
    # the graphs drawn before the first hidden test and after it (the hidden calls reach the
    # kernel only after the notebook's last cell, so nothing needs to be withheld)
    for model in ("functional", "residual", "siamese"):
        start = graph.index('plot_model_graph</span><span class="p">(</span><span class="n">'
                            f'{model}</span>')  # the cell's code, as the page highlights it
        end = graph.index("code_cell", start)  # the next code cell
        assert "data:image/png;base64," in graph[start:end], model
    assert "is not shown" not in graph


def test_feedback_in_chromium_shows_the_summary_and_the_model_picture(graded):
    from playwright.sync_api import sync_playwright
    from test_browser import CHROMIUM_ARGS, ensure_chromium

    SHOTS.mkdir(parents=True, exist_ok=True)
    page_path = feedback(graded["root"], "ana", "a2_functional")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(ensure_chromium()),
                                             args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(page_path.as_uri())
            summary = page.locator(".kc-summary")
            assert summary.is_visible()
            assert "Total: 15 / 15 points" in summary.inner_text()
            assert not page.locator("#toc").is_visible()
            page.screenshot(path=str(SHOTS / "summary.png"))
            code = page.locator("pre", has_text="plot_model_graph(functional)").first
            cell = code.locator("xpath=ancestor::div[contains(concat(' ', @class, ' '), "
                                "' code_cell ')][1]")
            picture = cell.locator("img").first
            picture.scroll_into_view_if_needed()
            width = picture.evaluate("img => img.naturalWidth")
            assert width > 200, "the model graph did not load as a picture"
            cell.screenshot(path=str(SHOTS / "model_graph.png"))
        finally:
            browser.close()
    assert (SHOTS / "summary.png").stat().st_size > 20_000


# ------------------------------------------------------------------------------- the report

def test_report_lists_frequent_failure_messages_false_failures_and_the_regrade(graded):
    page = graded["report"]
    messages = page[page.index("id=messages"):page.index("id=false-failures")]
    assert "<code>test_build_sequential_layers</code><br><span class=sub>2 failed</span>" \
        in messages  # cy (hard-coded sizes) and dee (blank)
    assert "When called with other sizes, the layers are not the ones" in messages
    assert "is not written yet" in messages
    false = page[page.index("id=false-failures"):page.index("id=regrade")]
    # after the fix cy fails only the layers check, between two that pass
    assert "<td>cy</td><td>a1_sequential</td><td><code>test_build_sequential_layers</code>" \
        in false
    assert "<td>dee</td>" not in false
    regrade = page[page.index("id=regrade"):]
    assert "4 submissions regraded: 4 because the assignment&#x27;s tests changed" in regrade
    assert f"<td>cy</td><td>{A}</td><td><code>{FIXED}</code></td><td class=num>0</td>" \
        f"<td class=num>1</td><td class=num>+1</td>" in regrade
