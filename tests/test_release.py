"""release/ is what nbgrader makes from source/ today, and nbgrader validate agrees with both."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.pipeline


def cells(path: Path) -> list[tuple]:
    nb = json.loads(path.read_text())
    return [(c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"],
             json.dumps(c.get("metadata", {}).get("nbgrader", {}), sort_keys=True))
            for c in nb["cells"]]


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                          capture_output=True, text=True, timeout=900)


def test_release_is_what_generate_assignment_makes_today(course):
    proc = subprocess.run([sys.executable, "-m", "keras_course.course", "release",
                           "--root", str(course)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fresh = sorted((course / "release").rglob("*.ipynb"))
    committed = sorted((ROOT / "release").rglob("*.ipynb"))
    assert [p.relative_to(course / "release") for p in fresh] == \
        [p.relative_to(ROOT / "release") for p in committed]
    for new, old in zip(fresh, committed):
        assert cells(new) == cells(old), f"{old} is stale: run `make release` and commit it"


def test_source_notebooks_pass_and_release_notebooks_fail_validate(course):
    """`nbgrader validate` passes every source notebook; `--invert` fails every release test."""
    for path in sorted((course / "source").glob("*/*.ipynb")):
        proc = nbgrader(course, "validate", str(path))
        assert "Success! Your notebook passes all the tests." in proc.stdout, \
            f"{path.name}:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
    for path in sorted((course / "release").glob("*/*.ipynb")):
        proc = nbgrader(course, "validate", "--invert", str(path))
        assert "Success! The notebook does not pass any tests." in proc.stdout, \
            f"{path.name}:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
