"""The command line as a user meets it: `keras-course`, its `--help`, its mistakes; and the house.

Fast: every command here only parses its arguments (or finds no course), nothing is graded.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

PROGRAM = Path(sys.executable).parent / "keras-course"
COMMANDS = ("release", "demo", "grade", "export", "report", "lab", "hub", "protections")
PACKAGE = ROOT / "src" / "keras_course"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(PROGRAM), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_the_program_is_installed_and_lists_every_command():
    assert PROGRAM.is_file(), f"{PROGRAM} is missing: `pip install -e .` installs it"
    proc = run("--help")
    assert proc.returncode == 0, proc.stderr
    for command in COMMANDS:
        assert f"\n    {command}" in proc.stdout, f"`--help` does not list {command}"
    assert "Exit status:" in proc.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_its_help(command):
    proc = run(command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: keras-course {command} "), proc.stdout


def test_a_mistyped_command_is_named_with_the_nearest_one():
    proc = run("grdae")
    assert proc.returncode == 2
    assert "there is no command `grdae`; did you mean `grade`?" in proc.stderr, proc.stderr
    assert "release, demo, grade" in proc.stderr
    proc = run("frobnicate")
    assert proc.returncode == 2 and "there is no command `frobnicate`." in proc.stderr


def test_an_unknown_option_names_the_command_and_its_help():
    proc = run("grade", "--wokers", "2")
    assert proc.returncode == 2
    assert "keras-course grade: error: unrecognized arguments: --wokers 2" in proc.stderr
    assert "`keras-course grade --help`" in proc.stderr
    assert run().returncode == 2  # no command at all


def test_outside_a_course_it_says_so_and_fails(tmp_path):
    proc = run("report", cwd=tmp_path)
    assert proc.returncode == 1
    assert "No course here" in proc.stderr and str(tmp_path) in proc.stderr


def test_python_dash_m_spellings_still_run_the_same_commands():
    for module, args in (("keras_course.course", ["grade", "--help"]),
                         ("keras_course.report", ["--help"]),
                         ("keras_course.lab", ["--help"]),
                         ("keras_course.hub", ["--help"])):
        proc = subprocess.run([sys.executable, "-m", module, *args], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0 and proc.stdout.startswith("usage: keras-course "), \
            (module, proc.stdout, proc.stderr)


def _imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """The package's modules `path` imports anywhere (functions too), its `__main__` block
    aside (it runs only when the module is the program)."""
    tree = ast.parse(path.read_text())
    main = {id(n) for top in tree.body if isinstance(top, ast.If)
            and "__main__" in ast.unparse(top.test) for n in ast.walk(top)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in main:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            module = (base + (f".{node.module}" if node.module else "")) if node.level \
                else node.module
            found |= {module, *(f"{module}.{a.name}" for a in node.names)}
    return (found & modules) - {name}


def _modules() -> dict[str, Path]:
    paths = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return paths


def test_the_package_has_no_import_cycle():
    paths = _modules()
    graph = {name: _imports(path, name, set(paths)) for name, path in paths.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                cycle = trail[trail.index(target):] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*trail, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_coursedir_is_a_leaf():
    """Nothing in the course directory module imports anything else of the package."""
    assert _imports(PACKAGE / "coursedir.py", "keras_course.coursedir", set(_modules())) == set()
