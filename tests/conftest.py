"""Shared fixtures: the repository, and temporary copies of the course graded by real nbgrader."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from keras_course.coursedir import nbgrader_env

ROOT = Path(__file__).resolve().parents[1]

# nbgrader runs alembic through PATH; TensorFlow's start-up lines stay off the test output.
os.environ.update(nbgrader_env())

#: What a temporary copy of the course holds: everything nbgrader and the demo read.
COURSE_FILES = ("source", "release", "demo", "nbgrader_config.py")


def copy_course(dest: Path) -> Path:
    """A fresh copy of the course (no gradebook, no submissions) in `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns(
                ".ipynb_checkpoints", "__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A fresh temporary copy of the course for one test."""
    return copy_course(tmp_path / "course")
