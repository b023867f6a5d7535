"""The grading protocol without TensorFlow or bubblewrap: records, replay, verdicts, the record
of graded submissions, and the reasons read from logs.

A test cell's calls are recorded in the kernel (`grading.call`, `grading.submitted`) and replayed
in the grader (`verify_cell`). Here the kernel is a real IPython shell in a subprocess running
what autograde sends it (`kernel_source`), the student's functions plain Python; the grader's
side runs in this process on those outputs, as they came or forged by hand.
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from keras_course import messages
from keras_course.errors import CourseCheckError
from keras_course.grading import audit, record
from keras_course.grading.batch import _exit_reason, failure_summary, record_failures
from keras_course.grading.cell_source import (
    HIDDEN_CALLS_KEY,
    evidence_calls,
    kernel_parts,
    kernel_source,
    visible_calls_after_hidden,
)
from keras_course.grading.evidence import (
    EVIDENCE_MIME,
    MAX_RECORD_CHARS,
    CallFailedError,
    EvidenceError,
    KernelOnly,
    Placeholder,
    call,
    kernel_only,
    parse_records,
    recording,
    replaying,
    submitted,
)
from keras_course.grading.record import (
    Job,
    Manifest,
    Result,
    all_jobs,
    checks_fingerprint,
    combine,
    files_fingerprint,
    needs_grading,
    submission_fingerprint,
    why_grade,
)
from keras_course.grading.verify import (
    VerifyEvidence,
    free_names,
    hidden_lines,
    kernel_stop_reason,
    verify_cell,
)
from keras_course.grading.worker import _reason_from_log

#: A test cell as an instructor writes it: a visible call, a quiz answer, a hidden call.
CELL = '''"""`scale` multiplies by its factor; quiz q1 is answered b."""
from keras_course import messages
from keras_course.errors import CourseCheckError
from keras_course.grading import call, submitted


def expect(ok, message):
    if not ok:
        raise CourseCheckError(message)


factor = 3
result = call(scale, 2, factor)
expect(repr(result) == "6", "`scale(2, 3)` should return 6.")
answer = submitted("q1", q1)
expect(answer == "b", "The answer to q1 should be b.")
### BEGIN HIDDEN TESTS
hidden = call(scale, 5, factor=7)
expect(repr(hidden) == "35", "`scale` should multiply by its factor.")
### END HIDDEN TESTS
'''

#: A test cell checking a model: what it is handed during replay decides.
MODEL_CELL = '''from keras_course.expect import expect_api
from keras_course.grading import call

model = call(build_sequential, 20, 3)
expect_api(model, "sequential")
'''

HONEST = '''
def scale(x, factor):
    return x * factor


q1 = "b"
'''

#: Right on the visible call, wrong on the hidden one.
WRONG = HONEST.replace("return x * factor", "return 6 if x == 2 else x + factor")

#: Raises on the hidden call only, with the hidden arguments in its message.
RAISES = HONEST.replace("return x * factor", (
    "if x == 5:\n        raise ValueError(f'LeakedSecret {x} {factor}')\n    return x * factor"))

#: The kernel: an IPython shell that runs the student's code, then each cell as autograde
#: sends it, and returns each cell's display outputs as nbformat outputs.
_KERNEL = '''
import json, sys
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from traitlets.config import Config

config = Config()
config.HistoryManager.enabled = False
shell = InteractiveShell.instance(config=config)
runs = []
for student, cells in json.load(sys.stdin):
    assert shell.run_cell(student).success
    cell_outputs = []
    for source in cells:
        with capture_output() as captured:
            ran = shell.run_cell(source)
        outputs = [{"output_type": "display_data", "data": o.data, "metadata": o.metadata}
                   for o in captured.outputs]
        if ran.error_in_exec is not None:
            error = ran.error_in_exec
            outputs.append({"output_type": "error", "ename": type(error).__name__,
                            "evalue": str(error), "traceback": []})
        cell_outputs.append(outputs)
    runs.append(cell_outputs)
print(json.dumps(runs))
'''


@pytest.fixture(scope="module")
def kernel_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[list[dict]]]:
    """Each student's outputs of `CELL` under autograde, recorded by a real IPython shell in one
    subprocess: student name -> outputs of [`kernel_source(CELL)`, `CELL` whole, then
    `kernel_parts(CELL)`'s first part and its later part]."""
    students = {"honest": HONEST, "wrong": WRONG, "raises": RAISES}
    env = {**os.environ, "NBGRADER_EXECUTION": "autograde",
           "IPYTHONDIR": str(tmp_path_factory.mktemp("ipython"))}
    job = [[code, [kernel_source(CELL), CELL, *kernel_parts(CELL)]] for code in students.values()]
    done = subprocess.run([sys.executable, "-c", _KERNEL], input=json.dumps(job), env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(zip(students, json.loads(done.stdout.splitlines()[-1])))


@pytest.fixture
def honest(kernel_outputs: dict) -> list[dict]:
    """The honest student's outputs of `CELL` as the kernel made them (a fresh copy)."""
    return copy.deepcopy(kernel_outputs["honest"][0])


def record_output(record: Any, output_type: str = "display_data") -> dict:
    """An output holding `record` the way the kernel displays one."""
    return {"output_type": output_type, "metadata": {}, "data": {EVIDENCE_MIME: record}}


def call_record(function: str, args: list, kwargs: dict | None = None, **outcome: Any) -> dict:
    return {"kind": "call", "function": function, "args": args, "kwargs": kwargs or {},
            **outcome}


# ------------------------------------------------------------------ what the kernel records


def test_kernel_records_each_call_and_answer_in_order(kernel_outputs: dict) -> None:
    sent, whole, *_ = kernel_outputs["honest"]
    assert parse_records(sent) == [
        call_record("scale", [2, 3], result={"type": "value", "value": 6}),
        {"kind": "value", "name": "q1", "value": "b"},
        call_record("scale", [5], {"factor": 7}, result={"type": "value", "value": 35}),
    ]
    assert parse_records(whole) == parse_records(sent)  # the checks record nothing


def test_kernel_records_an_exception_and_the_cell_stops(kernel_outputs: dict) -> None:
    sent, *_ = kernel_outputs["raises"]
    records = parse_records(sent)
    assert [r.get("kind") for r in records] == ["call", "value", "call"]
    assert records[2]["error"] == "ValueError: LeakedSecret 5 7"
    assert sent[-1]["output_type"] == "error" and sent[-1]["ename"] == "CallFailedError"


def test_kernel_is_sent_the_calls_and_what_they_need_never_the_checks() -> None:
    sent = kernel_source(CELL)
    assert "call(scale, 2, factor)" in sent and "factor = 3" in sent
    assert "submitted('q1', q1)" in sent and "call(scale, 5, factor=7)" in sent
    assert "from keras_course.grading import call, submitted" in sent
    for check in ("expect", "CourseCheckError", "should", "6", "35"):  # checks, expected values
        assert check not in sent, check
    assert kernel_source("x = 1\nprint(x)\n") == "pass\n"
    assert kernel_source("def broken(:\n") == "def broken(:\n"


def test_evidence_calls_counts_what_the_source_spells_out() -> None:
    assert evidence_calls(CELL) == 3
    assert evidence_calls("import keras_course.grading as g\ng.call(f, 1)\n") == 1
    assert evidence_calls("for n in range(3):\n    call(f, n)\n") == 1
    assert evidence_calls("call(f, 1\n") == 0


def test_nothing_is_recorded_outside_autograde(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert not recording()

    def scale(x: int, factor: int) -> int:
        return x * factor

    assert call(scale, 2, factor=3) == 6
    assert submitted("q1", "b") == "b"
    assert EVIDENCE_MIME not in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert recording()


def test_a_failing_call_is_reported_kindly_in_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)

    def build_sequential(units: int) -> None:
        raise ValueError(f"no {units}")

    def unwritten() -> None:
        raise NotImplementedError()

    with pytest.raises(CallFailedError, match=r"`build_sequential\(20\)` raised `ValueError: "):
        call(build_sequential, 20)
    with pytest.raises(CallFailedError, match="not written yet"):
        call(unwritten)


# --------------------------------------------------------------------------- parsing records


def test_parse_records_keeps_well_formed_records_in_order() -> None:
    first, second = call_record("f", [1], result={"type": "value", "value": 1}), {
        "kind": "value", "name": "q", "value": 2}
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": json.dumps(first),
         "data": {EVIDENCE_MIME: first}},  # only display outputs hold records
        record_output(first),
        {"output_type": "error", "ename": "E", "evalue": "", "traceback": [],
         "data": {EVIDENCE_MIME: first}},  # not a display output: ignored
        record_output(json.dumps(second), "execute_result"),  # kept as text by nbformat
        record_output("{not json"),
        record_output(["a", "list"]),
        record_output("[" * 100_000 + "]" * 100_000),  # deeper than the parser goes
        record_output("x" * (MAX_RECORD_CHARS + 1)),
        record_output({"big": "x" * MAX_RECORD_CHARS}),
        {"output_type": "display_data", "data": "not a bundle"},
        "not an output",
    ]
    assert parse_records(outputs) == [first, second]


# --------------------------------------------------------------------------- replay


def test_replay_hands_back_records_and_never_calls_student_code() -> None:
    def scale(x: int, factor: int) -> int:
        raise AssertionError("the student's code ran in the grader")

    records = [call_record("scale", [2, 3], result={"type": "value", "value": 6}),
               {"kind": "value", "name": "q1", "value": "b"},
               call_record("scale", [2, 3], result={"type": "object", "class_name": "Box",
                                                    "repr": "Box(6)"}),
               call_record("scale", [2, 3], result={"type": "value", "value": None})]
    with replaying(records) as replay:
        six = call(scale, 2, 3)
        assert repr(six) == "6" and six != 6  # plain data comes back as an opaque stand-in
        assert submitted("q1", "ignored") == "b"
        assert repr(call(Placeholder("scale"), 2, 3)) == "Box(6)"
        assert call(scale, 2, 3) is None
        assert replay.unused() == 0 and len(replay.used) == 4
    assert call(lambda: 7) == 7  # the replay ended with its block


def test_a_description_handed_over_as_data_is_not_a_model() -> None:
    """A kernel cannot hand the grader a description: plain data is never one."""
    from keras_course.describe import SCHEMA

    forged = {"schema": SCHEMA, "api": "sequential", "class_name": "Sequential"}
    verdict = verify_cell(MODEL_CELL, [record_output(call_record(
        "build_sequential", [20, 3], result={"type": "value", "value": forged}))])
    assert not verdict["passed"] and verdict["ename"] == "NotAModelError", verdict


@pytest.mark.parametrize(("record", "expected"), [
    (call_record("scale", [2, 4], result={"type": "value", "value": 6}), "does not match"),
    (call_record("other", [2, 3], result={"type": "value", "value": 6}), "does not match"),
    (call_record("scale", [2, 3], {"factor": 3}, result={"type": "value", "value": 6}),
     "does not match"),
    (call_record("scale", "2, 3", result={"type": "value", "value": 6}), "does not match"),
    ({"kind": "value", "name": "scale", "value": 6}, "not the one the test expects next"),
    (call_record("scale", [2, 3], result="6"), "unreadable"),
    (call_record("scale", [2, 3], result={"type": "mystery"}), "unreadable"),
])
def test_a_record_of_another_call_fails(record: dict, expected: str) -> None:
    with replaying([record]), pytest.raises(EvidenceError, match=expected):
        call(Placeholder("scale"), 2, 3)


def test_no_record_left_fails_and_says_what_to_do() -> None:
    with replaying([]), pytest.raises(EvidenceError, match="There is no record of `scale"):
        call(Placeholder("scale"), 2, 3)


def test_fixtures_only_the_kernel_needs_are_not_built_in_replay() -> None:
    built = []

    @kernel_only
    def trained_model(epochs: int) -> str:
        built.append(epochs)
        return "model"

    with replaying([call_record("evaluate", ["trained_model(5)"], result={
            "type": "value", "value": 0.5})]):
        stand_in = trained_model(5)
        assert isinstance(stand_in, KernelOnly) and stand_in.label == "trained_model(5)"
        call(Placeholder("evaluate"), stand_in)  # any recorded argument matches it
    assert built == [] and trained_model(2) == "model" and built == [2]


# --------------------------------------------------------------------------- verdicts


def test_hidden_lines_are_the_marked_block() -> None:
    lines = CELL.splitlines()
    begin = lines.index("### BEGIN HIDDEN TESTS") + 1
    assert hidden_lines(CELL) == frozenset(range(begin, begin + 4))
    assert hidden_lines(MODEL_CELL) == frozenset()
    unclosed = "a = 1\n# BEGIN HIDDEN TESTS\nb = 2\n"
    assert hidden_lines(unclosed) == frozenset({2, 3})


def test_free_names_are_what_the_student_defines() -> None:
    assert free_names(CELL) == {"scale", "q1"}
    assert free_names("import numpy as np\ntry:\n    x = f(np, len)\nexcept E as e:\n"
                      "    g = lambda a: a + e\n") == {"f", "E"}


def test_honest_outputs_pass(kernel_outputs: dict) -> None:
    sent, whole, *_ = kernel_outputs["honest"]
    assert verify_cell(CELL, sent, "q") == {"passed": True, "ename": "", "message": ""}
    assert verify_cell(CELL, whole, "q")["passed"]


def test_a_wrong_hidden_answer_fails_with_the_cells_message(kernel_outputs: dict) -> None:
    verdict = verify_cell(CELL, kernel_outputs["wrong"][0], "q")
    assert not verdict["passed"] and verdict["ename"] == "CourseCheckError"
    assert verdict["message"] == "`scale` should multiply by its factor."


def test_a_hidden_call_that_raised_repeats_nothing_the_student_chose(kernel_outputs: dict
                                                                    ) -> None:
    verdict = verify_cell(CELL, kernel_outputs["raises"][0], "q")
    assert not verdict["passed"] and verdict["ename"] == "CallFailedError"
    message = verdict["message"]
    assert "`scale` (called by a hidden test with other arguments)" in message
    for secret in ("LeakedSecret", "ValueError", "5", "7"):
        assert secret not in message, message


def test_a_visible_call_that_raised_is_named_with_its_error_unless_quiet() -> None:
    raised = [record_output(call_record("build_sequential", [20, 3],
                                        error="ValueError: bad units"))]
    loud = verify_cell(MODEL_CELL, raised)
    assert "`build_sequential(20, 3)` raised `ValueError: bad units`" in loud["message"]
    quiet = verify_cell(MODEL_CELL, raised, quiet=True)
    assert not quiet["passed"] and "bad units" not in quiet["message"]
    assert "ValueError" not in quiet["message"]


def test_a_wrong_record_count_fails(honest: list[dict]) -> None:
    fewer = verify_cell(CELL, honest[:-1], "q")
    assert not fewer["passed"] and fewer["ename"] == "EvidenceError"
    assert "There is no record of `scale` (called by a hidden test" in fewer["message"]
    more = verify_cell(CELL, honest + [honest[-1]], "q")
    assert not more["passed"] and "more results in test cell `q`" in more["message"]
    none = verify_cell(CELL, [], "q")
    assert not none["passed"] and "There is no record of `scale(2, 3)`" in none["message"]


def test_forged_records_fail(honest: list[dict]) -> None:
    """What a kernel could change in its outputs, each change caught."""
    def forge(change) -> dict:
        outputs = copy.deepcopy(honest)
        change(outputs)
        return verify_cell(CELL, outputs, "q")

    def other_arguments(outputs: list[dict]) -> None:
        outputs[2]["data"][EVIDENCE_MIME]["kwargs"] = {"factor": 8}

    def reordered(outputs: list[dict]) -> None:
        outputs[0], outputs[1] = outputs[1], outputs[0]

    def printed(outputs: list[dict]) -> None:  # a record printed is not a record displayed
        outputs[2] = {"output_type": "stream", "name": "stdout",
                      "text": json.dumps(outputs[2]["data"][EVIDENCE_MIME])}

    def other_function(outputs: list[dict]) -> None:
        outputs[0]["data"][EVIDENCE_MIME]["function"] = "scale_by_hand"

    for change, expected in ((other_arguments, "does not match"),
                             (reordered, "not the one the test expects next"),
                             (printed, "There is no record of `scale` (called by a hidden test"),
                             (other_function, "does not match")):
        verdict = forge(change)
        assert not verdict["passed"] and verdict["ename"] == "EvidenceError", change.__name__
        assert expected in verdict["message"], (change.__name__, verdict)


def test_what_the_kernel_printed_or_raised_counts_for_nothing(honest: list[dict]) -> None:
    kernel_error = {"output_type": "error", "ename": "KeyboardInterrupt", "evalue": "",
                    "traceback": []}
    assert verify_cell(CELL, honest + [kernel_error], "q")["passed"]
    boasts = [{"output_type": "stream", "name": "stdout", "text": "All tests passed!\n"}]
    assert not verify_cell(CELL, boasts, "q")["passed"]
    assert kernel_stop_reason(honest + [kernel_error]) == "KeyboardInterrupt: "
    assert kernel_stop_reason(honest) == "no error"


def test_broken_test_cells_score_zero_and_say_so(honest: list[dict]) -> None:
    had_tensorflow = "tensorflow" in sys.modules
    unreadable = verify_cell("call(scale, 2\n", honest, "q")
    assert unreadable["ename"] == "GraderError" and "could not read" in unreadable["message"]
    imports = verify_cell("import tensorflow\n" + CELL, honest, "q")
    assert imports["ename"] == "GraderError" and "could not run" in imports["message"]
    assert "ReplayImportError" in imports["detail"]
    assert ("tensorflow" in sys.modules) == had_tensorflow  # refused, not imported
    idle = verify_cell("x = 1\n", [], "q")
    assert idle["ename"] == "EvidenceError" and "checked nothing" in idle["message"]
    for verdict in (unreadable, imports, idle):
        assert not verdict["passed"] and "instructor" in verdict["message"]


def test_verdicts_are_course_errors_or_grader_errors() -> None:
    """Every failure a test cell can meet in replay is a course error (scored, explained)."""
    for error in (EvidenceError, CallFailedError):
        assert issubclass(error, CourseCheckError)


# ------------------------------------------------------- the record of graded submissions


@pytest.fixture
def course_root(tmp_path: Path) -> Path:
    """A course folder with one assignment's source, two submissions and no gradebook."""
    root = tmp_path / "course"
    (root / "source" / "a1").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{tmp_path}/missing/gradebook.db'\n")
    write_test_cell(root, "assert build() == 1")
    for student in ("ada", "bob"):
        folder = root / "submitted" / student / "a1"
        folder.mkdir(parents=True)
        (folder / "a1.ipynb").write_text(json.dumps({"cells": [], "student": student}))
        (folder / "timestamp.txt").write_text("2026-11-30 10:00:00")
    (root / "submitted" / "bob" / "notes").mkdir()
    return root


def write_test_cell(root: Path, source: str) -> None:
    cell = {"cell_type": "code", "source": source,
            "metadata": {"nbgrader": {"grade": True, "solution": False, "grade_id": "t1",
                                      "points": 1}}}
    (root / "source" / "a1" / "a1.ipynb").write_text(json.dumps({"cells": [cell]}))


@pytest.fixture
def fresh_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests' fingerprints read again on every call (the record caches them for seconds)."""
    monkeypatch.setattr(record, "TESTS_CACHE_SECONDS", 0.0)


def test_jobs_are_the_submitted_notebooks(course_root: Path) -> None:
    ada, bob = Job("a1", "ada"), Job("a1", "bob")
    assert all_jobs(course_root) == [ada, bob]
    assert all_jobs(course_root, ["a2"]) == []
    assert str(bob) == "bob/a1"


def test_a_submissions_fingerprint_follows_its_files(course_root: Path) -> None:
    ada = Job("a1", "ada")
    before = files_fingerprint(course_root, ada)
    checkpoints = course_root / "submitted" / "ada" / "a1" / ".ipynb_checkpoints"
    checkpoints.mkdir()
    (checkpoints / "a1-checkpoint.ipynb").write_text("{}")
    assert files_fingerprint(course_root, ada) == before
    assert files_fingerprint(course_root, Job("a1", "bob")) != before
    (course_root / "submitted" / "ada" / "a1" / "timestamp.txt").write_text("2026-12-01")
    assert files_fingerprint(course_root, ada) != before
    assert combine({"a": "1", "b": "2"}) == combine({"b": "2", "a": "1"})
    assert combine({"a": "1", "b": "2"}) != combine({"a": "2", "b": "1"})
    assert len(checks_fingerprint()) == 32


def test_the_record_says_what_was_graded_into_which_gradebook(course_root: Path) -> None:
    ada, bob = Job("a1", "ada"), Job("a1", "bob")
    manifest = Manifest(course_root)
    assert manifest.entries == {}
    manifest.record(ada, "f1", "sqlite:///gb.db", 12.345, worker="w1")
    again = Manifest(course_root)  # saved at once, read back by the next run
    entry = again.entries["ada/a1"]
    assert entry["fingerprint"] == "f1" and entry["seconds"] == 12.35 and entry["worker"] == "w1"
    assert set(entry["parts"]) == {"submission", "tests", "checks"}
    assert again.current(ada, "f1", "sqlite:///gb.db")
    assert not again.current(ada, "f2", "sqlite:///gb.db")
    assert not again.current(ada, "f1", "postgresql://other")
    assert not again.current(bob, "f1", "sqlite:///gb.db")
    again.forget(ada)
    assert Manifest(course_root).entries == {}
    assert [p.name for p in (course_root / "grades").iterdir()] == ["graded.json"]
    (course_root / record.MANIFEST).write_text("{cut off")
    assert Manifest(course_root).entries == {}


def test_a_submission_is_graded_again_when_what_it_depends_on_changes(
        course_root: Path, fresh_tests: None) -> None:
    ada = Job("a1", "ada")
    db = "sqlite:///gb.db"
    manifest = Manifest(course_root)
    assert needs_grading(course_root, ada, manifest, db, in_gradebook=set())
    assert why_grade(course_root, ada, manifest) == ("not graded",)
    (course_root / "autograded" / "ada" / "a1").mkdir(parents=True)
    manifest.record(ada, submission_fingerprint(course_root, ada), db, 3.0)
    assert not needs_grading(course_root, ada, manifest, db, in_gradebook={("ada", "a1")})
    assert needs_grading(course_root, ada, manifest, db, in_gradebook=set())  # not in gradebook
    assert needs_grading(course_root, ada, manifest, "postgresql://other")
    write_test_cell(course_root, "assert build() == 2")
    assert needs_grading(course_root, ada, manifest, db)
    assert why_grade(course_root, ada, manifest) == ("tests",)
    (course_root / "submitted" / "ada" / "a1" / "a1.ipynb").write_text("{}")
    assert why_grade(course_root, ada, manifest) == ("tests", "submission")
    assert messages.regrade_reason(why_grade(course_root, ada, manifest)) == (
        "the assignment's tests changed, the submission changed")
    # recorded as graded with what it is now: picked again only when its gradebook entry or
    # graded copy went missing, and `make grade` says so
    manifest.record(ada, submission_fingerprint(course_root, ada), db, 3.0)
    assert why_grade(course_root, ada, manifest) == ("missing",)
    assert audit.summary_lines({"ada/a1": ("missing",), "bob/a1": ("not graded",)}, []) == [
        "regraded 1 submissions because its gradebook entry or graded copy is missing",
        "no check's points changed"]


def test_failures_are_kept_until_graded_and_summed_up(course_root: Path) -> None:
    ada, bob, gone = Job("a1", "ada"), Job("a1", "bob"), Job("a1", "gone")
    results = [Result(ada, False, 1.04, "the notebook file is empty"),
               Result(bob, True, 2.0), Result(gone, False, 1.0, "killed")]
    path = record_failures(course_root, results)
    assert json.loads(path.read_text()) == {"ada/a1": {
        "student": "ada", "assignment": "a1", "reason": "the notebook file is empty",
        "seconds": 1.0}}  # `gone` has no submission any more
    assert failure_summary(results) == ("2 submissions could not be graded:\n"
                                        "  ada/a1: the notebook file is empty\n"
                                        "  gone/a1: killed")
    assert failure_summary([results[1]]) == ""
    record_failures(course_root, [Result(ada, True, 1.0)])
    assert json.loads(path.read_text()) == {}


# --------------------------------------------------------------------------- reasons read from logs

NBGRADER_STOP = ("[AutogradeApp | ERROR] There was an error processing assignment: a1\n"
                 "[AutogradeApp | ERROR] Traceback (most recent call last):\n"
                 "nbgrader.apps.baseapp.NbGraderException: Please see the error log above\n")


@pytest.mark.parametrize(("log", "error", "expected"), [
    ("[AutogradeApp | WARNING] Skipping unknown notebook: /c/submitted/ada/a1/mine.ipynb\n"
     "[AutogradeApp | ERROR] No notebooks found, did you forget to run "
     "'nbgrader generate_assignment'?\n", "",
     "`a1.ipynb` is missing from the submission (renamed? found `mine.ipynb`): nbgrader grades "
     "notebooks by their released names; rename it back"),
    ("Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n"
     "nbformat.reader.NotJSONError: Notebook does not appear to be JSON: ''\n" + NBGRADER_STOP,
     "", "the notebook file is empty (not valid JSON): ask the student to submit it again "
         "(nbformat.reader.NotJSONError: Notebook does not appear to be JSON: '')"),
    ("json.decoder.JSONDecodeError: Expecting ',' delimiter: line 9 column 3\n" + NBGRADER_STOP,
     "", "the notebook file is not valid JSON (cut off or edited by hand): ask the student to "
         "submit it again (json.decoder.JSONDecodeError: Expecting ',' delimiter: line 9 "
         "column 3)"),
    ("", "nbclient.exceptions.DeadKernelError: Kernel died\nUnresponsiveKernelError: gone",
     "the kernel stopped responding and could not be interrupted (UnresponsiveKernelError: "
     "gone)"),
    ("RuntimeError: the disk is full\n" + NBGRADER_STOP, "", "RuntimeError: the disk is full"),
    ("[ERROR] the gradebook is locked\n[ERROR] Please see the log\n", "",
     "the gradebook is locked"),
    ("all quiet\n", "", "nbgrader could not grade this submission (see its log)"),
])
def test_reason_read_from_a_log(log: str, error: str, expected: str) -> None:
    assert _reason_from_log(log, error, Job("a1", "ada")) == expected


def test_reason_a_worker_stopped() -> None:
    assert _exit_reason(None) == "the grading worker stopped answering"
    assert _exit_reason(-9) == ("the grading worker was killed (SIGKILL; out of memory?) while "
                                "grading this submission")
    assert "SIGTERM" in _exit_reason(-15) and "memory" not in _exit_reason(-15)
    assert _exit_reason(3) == "the grading worker exited with code 3 while grading this submission"


# --------------------------------------------------------------------------- no TensorFlow


def test_the_protocol_runs_without_tensorflow(honest: list[dict]) -> None:
    """Parsing, replay, verdicts and the record, in a fresh process: none imports a kernel
    module (TensorFlow, Keras, JAX, PyTorch)."""
    script = textwrap.dedent(f"""
        import json, sys
        from keras_course.grading import batch, evidence, record, verify, worker
        import keras_course.expect
        outputs = json.loads(sys.stdin.read())
        assert verify.verify_cell({CELL!r}, outputs)["passed"]
        forged = verify.verify_cell({MODEL_CELL!r}, [])
        assert forged["ename"] == "EvidenceError", forged
        assert record.combine({{"checks": record.checks_fingerprint()}})
        print(sorted(m for m in sys.modules if m.split(".")[0] in verify.KERNEL_MODULES))
    """)
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps(honest),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


# --------------------------------------------------------------------------- hidden calls sent last

#: A cell whose hidden test uses data and a result the visible part made, and a visible call
#: after it.
FIXTURE_CELL = '''from keras_course.grading import call

data = [1, 2, 3]
m = call(build, data)
### BEGIN HIDDEN TESTS
y = call(score, m, data)
### END HIDDEN TESTS
z = call(build, [])
'''


def test_a_cell_is_sent_in_two_parts_the_hidden_calls_last() -> None:
    now, later = kernel_parts(CELL)
    assert now == ("from keras_course.grading import call, submitted\nfactor = 3\n"
                   "result = call(scale, 2, factor)\nanswer = submitted('q1', q1)\n")
    assert later == ("from keras_course.grading import call, submitted\n"  # started again
                     "hidden = call(scale, 5, factor=7)\n")
    assert evidence_calls(now) + evidence_calls(later) == evidence_calls(CELL)
    assert kernel_parts(MODEL_CELL) == (kernel_source(MODEL_CELL), "")
    assert kernel_parts("call(f, 1\n") == ("call(f, 1\n", "")


def test_the_later_part_starts_fixtures_again_never_a_recorded_call() -> None:
    now, later = kernel_parts(FIXTURE_CELL)
    imports = "from keras_course.grading import call\n"
    assert now == imports + "data = [1, 2, 3]\nm = call(build, data)\n"
    assert later == imports + "data = [1, 2, 3]\ny = call(score, m, data)\nz = call(build, [])\n"
    assert visible_calls_after_hidden(FIXTURE_CELL)  # `z` goes with the hidden calls
    assert not visible_calls_after_hidden(CELL) and not visible_calls_after_hidden(MODEL_CELL)


def test_records_of_both_parts_verify_as_one_cell(kernel_outputs: dict) -> None:
    """The kernel ran the first part at the cell's turn and the rest after the last cell; the
    cell's records are both parts' in that order."""
    for student, passes in (("honest", True), ("wrong", False)):
        _, _, now, later = kernel_outputs[student]
        assert len(parse_records(now)) == 2 and len(parse_records(later)) == 1
        assert verify_cell(CELL, now + later, "q")["passed"] is passes


def test_after_hidden_calls_sent_last_visible_failures_repeat_the_exception() -> None:
    """Sent in place, a cell's hidden calls reached the kernel before later cells ran, so a
    later visible failure names no exception text; sent last, it does again, except for a
    visible call that went with the hidden ones."""
    import nbformat

    def test_cell(source: str, records: list[dict], grade_id: str) -> Any:
        return nbformat.from_dict({
            "cell_type": "code", "source": source, "execution_count": None,
            "metadata": {"nbgrader": {"grade": True, "solution": False, "grade_id": grade_id,
                                      "points": 1, "locked": True}},
            "outputs": [record_output(r) for r in records]})

    nothing = {"type": "value", "value": None}
    raised = call_record("build_sequential", [20, 3], error="ValueError: bad units")
    late_raised = call_record("build", [[]], error="ValueError: bad one")

    def verdicts(sent: str) -> dict[str, str]:
        nb = nbformat.v4.new_notebook(metadata={HIDDEN_CALLS_KEY: sent})
        nb.cells = [
            test_cell(FIXTURE_CELL, [call_record("build", [[1, 2, 3]], result=nothing),
                                     call_record("score", [None, [1, 2, 3]], result=nothing),
                                     late_raised], "fixture"),
            test_cell(MODEL_CELL, [raised], "model")]
        nb, _ = VerifyEvidence(enabled=False).preprocess(nb, {})
        return {cell.metadata.nbgrader.grade_id: cell.outputs[0]["evalue"] for cell in nb.cells}

    in_place, last = verdicts("in place"), verdicts("last")
    assert "bad units" not in in_place["model"] and "raised an exception" in in_place["model"]
    assert "raised `ValueError: bad units`" in last["model"]
    assert "`build([])` raised `ValueError: bad one`" in in_place["fixture"]
    # `z = call(build, [])` went to the kernel with the hidden calls: it may have seen them
    assert "bad one" not in last["fixture"] and "raised an exception" in last["fixture"]


# ------------------------------------------ outputs after hidden calls reached the kernel


def test_outputs_after_hidden_calls_sent_in_place_are_withheld() -> None:
    """When the hidden calls reach the kernel in their cells (the run again after a kernel
    stopped, or `hidden_last` off), an ordinary cell after the first hidden test shows a note,
    never what it printed; earlier cells and the test cells' verdicts are kept."""
    import nbformat

    from keras_course.grading.execute import _withhold_after_hidden_tests
    from keras_course.messages import WITHHELD

    def code(source: str, text: str, **marks: Any) -> Any:
        cell = nbformat.v4.new_code_cell(source)
        if marks:
            cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                         "points": 1, "schema_version": 3, **marks}
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        return cell

    cells = [code("print('before')", "before\n"),
             code("call(f, 1)", "visible verdict", grade_id="t1"),
             code("print(seen)", "f(1)\n"),
             code("call(f, 1)\n### BEGIN HIDDEN TESTS\ncall(f, 13)\n### END HIDDEN TESTS",
                  "hidden verdict", grade_id="t2"),
             code("print(seen)", "f(1), f(13)\n"),
             code("call(f, 2)", "later verdict", grade_id="t3")]
    _withhold_after_hidden_tests(cells)
    assert [c.outputs[0]["text"] for c in cells] == [
        "before\n", "visible verdict", "f(1)\n", "hidden verdict", WITHHELD, "later verdict"]
