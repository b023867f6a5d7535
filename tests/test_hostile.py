"""Hostile and broken submissions, graded by real nbgrader with the course's configuration.

The whole catalog (`tests/hostile_catalog.py`: code tricks in `tests/hostile/a1_sequential/`,
notebook damage as functions) is submitted together with honest students and graded in ONE
batch, the way an instructor grades a class. Each entry must get the outcome it states, no
side effect may get through, and the honest students must get exactly the grades they get
when they are graded alone.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import hostile_catalog as hc
import pytest

pytestmark = pytest.mark.pipeline

CATALOG = hc.catalog()
HONEST = hc.honest_cases()
POINTS = hc.max_points()

#: Kinds of trick the issue names, and the catalog entries that stand for each.
KINDS = {
    "IPython input transformer": "input_transformer",
    "IPython AST transformer": "ast_transformer",
    "patched InteractiveShell.run_cell": "run_cell_patch",
    "patched builtins": "builtins_import",
    "patched Keras": "keras_reads_expectations",
    "patched course helpers": "course_helpers_patch",
    "process outliving the kernel, editing the gradebook": "gradebook_daemon",
    "rewriting source/": "rewrites_source",
    "reading hidden tests": "reads_hidden_tests",
    "writing another student's files": "writes_other_student",
    "forged evidence": "replay_visible_evidence",
    "network to localhost": "network_localhost",
    "invalid JSON": "invalid_json",
    "empty file": "empty_file",
    "renamed notebook": "renamed_notebook",
    "duplicated test cell": "duplicated_test_cell",
    "deleted test cell": "deleted_test_cell",
    "retyped cell": "retyped_test_cell",
    "stripped nbgrader metadata": "stripped_metadata",
    "kernel that exits": "kernel_exits",
    "kernel killed for memory": "killed_like_oom",
    "endless loop ignoring SIGINT": "endless_loop_ignores_interrupt",
    "correct code printing warnings": "warnings_on_stderr",
}


@pytest.fixture(scope="module", params=hc.PATHS, ids=lambda p: p.replace(" ", "-"))
def batch(request, tmp_path_factory) -> hc.BatchResult:
    """The catalog and the honest students, graded in one batch along each grading path: the
    course's `make grade` (fork servers) and plain `nbgrader autograde` (fresh kernels)."""
    root = hc.make_course(tmp_path_factory.mktemp("hostile") / "course")
    return hc.grade_batch(root, HONEST + CATALOG, settle=3, path=request.param)


@pytest.fixture(scope="module")
def alone(tmp_path_factory) -> dict:
    """The honest students graded on their own, in a run that is killed half-way and started
    again; then one of them resubmits a broken notebook and is graded once more."""
    root = hc.make_course(tmp_path_factory.mktemp("alone") / "course")
    for case in HONEST:
        case.make(root, case.student)
    cmd = [sys.executable, "-m", "keras_course.course", "grade", "--root", str(root),
           "--workers", "1"]
    proc = subprocess.Popen(cmd, env=hc.nbgrader_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    first_done, deadline = None, time.monotonic() + 600
    for line in proc.stdout:  # the first submission graded: crash the whole run
        if re.search(r": ok, [\d.]+ s\)", line) or time.monotonic() > deadline:
            first_done = line
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    graded_before_crash = hc.read_grades(root)
    rerun = subprocess.run(cmd, env=hc.nbgrader_env(), capture_output=True, text=True,
                           timeout=1800)
    grades = hc.read_grades(root)
    # a regrade that fails must not leave the last run's grades standing
    (root / "submitted" / "ok-reference" / hc.ASSIGNMENT / hc.NOTEBOOK).write_text("{ broken")
    regrade = subprocess.run(cmd, env=hc.nbgrader_env(), capture_output=True, text=True,
                             timeout=1800)
    return {"root": root, "first_done": first_done, "before_crash": graded_before_crash,
            "rerun": rerun, "grades": grades, "regrade": regrade,
            "after_regrade": hc.read_grades(root)}


def test_catalog_covers_every_kind_the_issue_names():
    names = {case.name for case in CATALOG}
    assert len(CATALOG) >= 20
    missing = {kind: name for kind, name in KINDS.items() if name not in names}
    assert not missing, missing
    for case in CATALOG:
        assert case.summary, f"{case.name} does not say what it does"
        assert set(case.loses) <= set(POINTS), f"{case.name}: unknown cells {case.loses}"


@pytest.mark.parametrize("case", CATALOG, ids=lambda c: c.name)
def test_each_entry_gets_its_outcome(batch, case):
    verdict = hc.judge(case, batch, hc.hidden_snippets(hc.source_notebook()))
    assert not verdict["side_effects"], f"{case.summary}: {verdict['side_effects']}"
    cells = batch.grades.get(case.student, {})
    if case.outcome == "fails":
        assert case.student in batch.failures, f"{case.name} was not reported as failed"
        assert re.search(case.reason, batch.failures[case.student], re.I), \
            batch.failures[case.student]
        assert all(score == 0 for score, _ in cells.values()), cells
        return
    assert case.student not in batch.failures, batch.failures.get(case.student)
    assert set(cells) == set(POINTS), f"{case.name} was not graded: {cells}"
    lost = sorted(g for g, (score, top) in cells.items() if score != top)
    assert lost == sorted(case.loses), f"{case.summary}: lost {lost}, expected {case.loses}"
    earned = {g: score for g, (score, _) in cells.items() if g in case.loses and score}
    assert not earned, f"{case.name} earned points it must not: {earned}"


def test_honest_students_get_the_grades_they_get_alone(batch, alone):
    for case in HONEST:
        assert batch.grades[case.student] == alone["grades"][case.student], case.student
        lost = sorted(g for g, (s, m) in batch.grades[case.student].items() if s != m)
        assert lost == sorted(case.loses), f"{case.student} lost {lost}"


def test_the_batch_reports_each_failure_and_grades_everyone_else(batch):
    expected = {c.student for c in CATALOG if c.outcome == "fails"}
    assert set(batch.failures) == expected, batch.failures
    graded = {c.student for c in HONEST + CATALOG if c.outcome == "graded"}
    assert graded <= set(batch.grades)
    assert "could not be graded" in batch.output


def test_no_process_of_any_kernel_is_left(batch):
    assert batch.leftover_pids == [], batch.leftover_pids
    assert batch.outlived == []


def test_kernels_wrote_nothing_outside_their_own_folder(batch):
    assert batch.source_changed == []
    assert batch.others_touched == {}
    assert batch.submitted_changed == []


def test_kernels_reach_no_network(batch):
    assert batch.network == []


def test_feedback_shows_failures_but_no_hidden_test_or_value(batch):
    snippets = hc.hidden_snippets(hc.source_notebook())
    assert snippets
    for student, text in batch.feedback.items():
        assert not hc.leaked_hidden(text, snippets), student
    assert "There is no record of" in batch.feedback["h-input_transformer"]
    # the forged hidden records fail the hidden checks, whose messages name the concept only
    assert "When called with other sizes" in batch.feedback["h-replay_visible_evidence"]
    assert batch.feedback["ok-reference"], "the reference got no feedback"


def test_a_run_that_crashes_loses_nothing_already_graded(alone):
    assert alone["first_done"], "the first run graded nothing before it was stopped"
    assert alone["before_crash"], "nothing was saved before the crash"
    assert alone["rerun"].returncode == 0, alone["rerun"].stdout[-2000:]
    assert set(alone["grades"]) == {c.student for c in HONEST}
    for student, cells in alone["before_crash"].items():
        if cells and all(s == m for s, m in cells.values()):
            assert alone["grades"][student] == cells


def test_a_failed_regrade_keeps_no_stale_grade(alone):
    assert alone["regrade"].returncode != 0
    assert "ok-reference" in alone["regrade"].stdout
    assert alone["grades"]["ok-reference"] == {g: (p, p) for g, p in POINTS.items()}
    stale = {g: s for g, (s, _) in alone["after_regrade"]["ok-reference"].items() if s}
    assert not stale, f"the failed regrade left the old grades: {stale}"


#: The box's own entries (identity, environment, view, folder, resources), for the tricks table.
BOX_KINDS = {
    "grader's secrets in the environment": "sees_grader_secrets",
    "reading outside its folder (/root, /etc/shadow, gradebook, exchange)":
        "reads_outside_its_folder",
    "links, FIFOs, hard links in its folder": "plants_links_in_its_folder",
    "fork bomb": "fork_bomb",
    "memory spread over many processes": "memory_spread",
    "filling the disk": "fills_the_disk",
    "spinning threads": "spins_threads",
}


@pytest.fixture(scope="module", autouse=True)
def responsiveness():
    """A probe that keeps timing a trivial process while this module grades its batches."""
    prober = hc.Prober()
    yield prober
    prober.stop()


def test_the_box_entries_are_in_the_catalog():
    names = {case.name for case in CATALOG}
    assert set(BOX_KINDS.values()) <= names


def test_the_machine_keeps_answering_while_the_batch_runs(batch, responsiveness):
    seconds = sorted(responsiveness.seconds)
    assert seconds, "the probe never answered"
    print(f"\nprobe: {len(seconds)} echo round trips, median {seconds[len(seconds) // 2]:.3f} s, "
          f"slowest {seconds[-1]:.3f} s")
    assert seconds[-1] < 60, seconds[-5:]
