"""The batch hands out the slowest submissions first, so that none of them finishes last alone."""
from __future__ import annotations

import json
from pathlib import Path

from keras_course.grading.batch import expected_seconds, longest_first
from keras_course.grading.record import MANIFEST, Job


def write_manifest(root: Path, seconds: dict[str, float]) -> None:
    path = root / MANIFEST
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({key: {"fingerprint": "x", "db": "y", "seconds": value}
                                for key, value in seconds.items()}))


def test_the_last_runs_times_order_the_queue_longest_first(tmp_path):
    write_manifest(tmp_path, {"s1/a1": 2.0, "s2/a1": 4.0, "s1/a3": 9.0, "s1/a4": 1.0,
                              "s9/a2": "garbled"})
    jobs = [Job("a1", "s1"), Job("a1", "s3"), Job("a3", "s2"), Job("a4", "s1"),
            Job("a2", "s1"), Job("a1", "s2")]
    expected = expected_seconds(tmp_path, jobs)
    assert expected[Job("a1", "s3")] == 3.0  # never graded: its assignment's mean
    assert expected[Job("a2", "s1")] is None  # nothing known of its assignment
    assert longest_first(tmp_path, jobs) == [
        Job("a2", "s1"),                       # unknown first: it may be the slowest
        Job("a3", "s2"), Job("a1", "s2"), Job("a1", "s3"), Job("a1", "s1"), Job("a4", "s1")]


def test_without_a_record_the_order_is_by_assignment_and_student(tmp_path):
    jobs = [Job("a2", "s2"), Job("a1", "s9"), Job("a2", "s1")]
    assert longest_first(tmp_path, jobs) == sorted(jobs)
