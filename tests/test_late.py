"""Due dates and the late policy (`course.toml`, keras_course.grading.late), without kernels."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from keras_course.grading.late import load_policy

POLICY = """
time_zone = "Europe/Berlin"
extensions = "extensions.csv"
[due]
a1 = "2026-11-27 23:59"
[late]
grace_minutes = 15
penalty_percent = 10
per = "day"
cap_percent = 30
zero_after_days = 7
"""


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.fixture
def policy(tmp_path: Path):
    (tmp_path / "course.toml").write_text(POLICY)
    (tmp_path / "extensions.csv").write_text(
        "student,assignment,until,reason\nbo,a1,+2d,ill\ncy,a1,2026-11-30 12:00,\n")
    return load_policy(tmp_path)


def test_due_dates_are_in_the_course_time_zone(policy):
    due = policy.due["a1"]
    assert due.astimezone(dt.UTC) == utc("2026-11-27 22:59")
    assert policy.show(due) == "2026-11-27 23:59 CET"
    assert policy.show(utc("2026-07-01 10:00")) == "2026-07-01 12:00 CEST"


@pytest.mark.parametrize("submitted, percent, zero", [
    ("2026-11-27 22:00", 0, False),    # on time
    ("2026-11-27 23:10", 0, False),    # 11 minutes late: grace
    ("2026-11-27 23:30", 10, False),   # 31 minutes late: one started day
    ("2026-11-29 00:00", 20, False),   # 25 hours: two started days
    ("2026-12-02 00:00", 30, False),   # five days: the cap
    ("2026-12-05 00:00", 100, True),   # more than seven days: zero
])
def test_penalty_per_started_day_with_grace_cap_and_cutoff(policy, submitted, percent, zero):
    late = policy.lateness("a1", "ana", utc(submitted))
    assert (late.percent, late.zero) == (percent, zero)
    expected = 8.0 if zero else 10 * percent / 100
    assert late.penalty(8.0, 10.0) == pytest.approx(expected)


def test_extensions_move_the_due_date_of_one_student(policy):
    late_day = utc("2026-11-29 00:00")
    assert policy.lateness("ana", "a1", late_day).percent == 0  # unknown assignment: no date
    assert policy.lateness("a1", "ana", late_day).percent == 20
    assert policy.lateness("a1", "bo", late_day).percent == 0
    assert policy.extension("a1", "bo") == dt.timedelta(days=2)
    assert policy.due_for("a1", "cy") == dt.datetime(2026, 11, 30, 12, tzinfo=policy.tz)
    assert policy.lateness("a1", "cy", utc("2026-11-30 12:30")).percent == 10


def test_penalty_per_hour_and_no_file_means_no_penalty(tmp_path):
    assert load_policy(tmp_path).lateness("a1", "ana", utc("2030-01-01 00:00")).percent == 0
    (tmp_path / "course.toml").write_text(POLICY.replace('"day"', '"hour"'))
    assert load_policy(tmp_path).lateness("a1", "ana", utc("2026-11-28 01:00")).percent == 30
    assert load_policy(tmp_path).lateness("a1", "ana", utc("2026-11-28 00:30")).percent == 20


def test_a_bad_date_names_the_file_and_the_entry(tmp_path):
    (tmp_path / "course.toml").write_text(POLICY.replace("2026-11-27 23:59", "next friday"))
    with pytest.raises(ValueError, match=r"\[due\] a1: `next friday`"):
        load_policy(tmp_path)


def test_without_a_policy_file_the_gradebook_keeps_its_own_due_dates(tmp_path):
    from nbgrader.api import Gradebook

    from keras_course.grading.late import apply_policy

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.add_assignment("a1", duedate="2026-11-27 22:59:00")
    assert apply_policy(tmp_path, url) == []
    with Gradebook(url) as gb:
        assert gb.find_assignment("a1").duedate == dt.datetime(2026, 11, 27, 22, 59)
    (tmp_path / "course.toml").write_text(POLICY)
    apply_policy(tmp_path, url)
    with Gradebook(url) as gb:
        assert gb.find_assignment("a1").duedate == dt.datetime(2026, 11, 27, 22, 59)
        gb.add_assignment("a9", duedate="2026-01-01 00:00:00")
    apply_policy(tmp_path, url)  # course.toml is the one place: a9 has no due date there
    with Gradebook(url) as gb:
        assert gb.find_assignment("a9").duedate is None
