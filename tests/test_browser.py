"""The student's and the instructor's JupyterLab, driven in a real browser.

Playwright for Python drives Debian's Chromium (installed here with apt-get when missing;
Playwright's own browser download is not used). Each JupyterLab is started the way
`make lab-student` and `make lab` start it (`python -m keras_course.lab ...`), on localhost with
a random free port and token, on a temporary copy of the course, with its own Jupyter config,
data and runtime folders.

- A self-learner opens the first release notebook, writes a typical mistake, runs all cells and
  reads the short failure message, presses Validate; then writes the reference solution, restarts
  and runs all cells, sees the digits and the learning curves, and Validate says it passes. The
  second notebook draws a layer graph.
- An instructor opens formgrader on a copy of the course where a small demo class was graded
  (while the self-learner worked) and finds the assignments and the class's grades.

Screenshots go to tests/screenshots/ (or $KERAS_COURSE_SCREENSHOTS); the run prints where.
"""
from __future__ import annotations

import csv
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, copy_course

from keras_course.lab import CONFIG_DIRS, lab_command
from keras_course.notebook import MESSAGE_WIDTH, short_traceback
from keras_course.submissions import read_variant, reference_code, solution_cells
from keras_course.submissions import test_cells as graded_test_cells

CHROMIUM = Path("/usr/bin/chromium")
#: Chromium as root in a container: no sandbox, no GPU, no calls home, no first-run pages.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]
SCREENSHOTS = Path(os.environ.get("KERAS_COURSE_SCREENSHOTS", ROOT / "tests" / "screenshots"))

A1 = "a1_sequential"
A2 = "a2_functional"
#: The mistake the self-learner makes first: a demo variant (no `keras.Input`), with the test
#: cells it must fail.
MISTAKE = ROOT / "demo" / "variants" / A1 / "no_input.py"
#: The small class graded for formgrader: full marks, a blank notebook, one mistake.
CLASS = {"ada": "reference", "ben": "blank", "chen": "no_input"}

#: Playwright waits: a notebook run or a validation runs TensorFlow on two busy cores.
RUN_TIMEOUT_MS = 300_000


# --- fast checks of what the browser tests rely on (no browser) --------------------------------

def test_short_traceback_is_the_message_wrapped_and_nothing_else():
    from keras_course.errors import NotBuiltError

    message = ("Your model is not built: it has no inputs yet, so Keras does not know its input "
               "shape. Start the stack with `keras.Input(shape=...)`.")
    lines = short_traceback(NotBuiltError(message))
    assert lines[0].startswith("NotBuiltError: Your model")
    assert all(len(line) <= MESSAGE_WIDTH for line in lines)
    assert " ".join(lines) == f"NotBuiltError: {message}"


def test_lab_modes_start_where_their_users_work(tmp_path):
    root = copy_course(tmp_path / "course")
    args, cwd, env = lab_command("instructor", root, ["--no-browser"])
    assert cwd == root.resolve() and (cwd / "nbgrader_config.py").is_file()  # formgrader's config
    assert "--ServerApp.ip=127.0.0.1" in args and args[-1] == "--no-browser"
    assert ("--allow-root" in args) == (os.geteuid() == 0)
    args, cwd, env = lab_command("self-learner", root, [])
    assert cwd == (root / "release").resolve()
    config = CONFIG_DIRS["self-learner"]
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(config)
    server = json.loads((config / "jupyter_server_config.json").read_text())
    assert server["ServerApp"]["jpserver_extensions"] == {
        "nbgrader.server_extensions.formgrader": False,
        "nbgrader.server_extensions.assignment_list": False,
        "nbgrader.server_extensions.course_list": False,
        "nbgrader.server_extensions.validate_assignment": True}
    with pytest.raises(ValueError):
        lab_command("student", root, [])


def test_validate_in_the_self_learners_lab_gets_the_course_timeout(tmp_path, monkeypatch):
    """Validate there reads no nbgrader_config.py; the self-learner config lifts nbgrader's 30 s."""
    from nbgrader.preprocessors import Execute
    from nbgrader.server_extensions.validate_assignment.handlers import ValidateAssignmentHandler

    root = copy_course(tmp_path / "course")
    _, cwd, env = lab_command("self-learner", root, [])
    monkeypatch.chdir(cwd)  # the handler reads its configuration from here and the config path
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", env["JUPYTER_CONFIG_PATH"])
    config = ValidateAssignmentHandler.load_config(None)  # it does not use its handler
    assert Execute(config=config).timeout == 120


# --- Chromium, JupyterLab, screenshots ----------------------------------------------------------

def ensure_chromium() -> Path:
    """Debian's Chromium, installed with apt-get when missing (as root; otherwise skip)."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("the browser tests need Debian's Chromium: sudo apt-get install chromium")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock = ["-o", "DPkg::Lock::Timeout=600"]  # another apt-get may be running
    for command in (["apt-get", *lock, "update", "-qq"],
                    ["apt-get", *lock, "install", "-y", "-qq", "chromium"]):
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
        assert proc.returncode == 0, f"{' '.join(command)} failed:\n{proc.stdout[-2000:]}" \
                                     f"{proc.stderr[-2000:]}"
    assert CHROMIUM.exists(), "apt-get installed chromium, but /usr/bin/chromium is missing"
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab: its address, token and log."""

    base: str
    token: str
    log: Path

    def url(self, path: str = "lab") -> str:
        return f"{self.base}/{path}?token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _get(url: str, token: str, method: str = "GET") -> int:
    request = urllib.request.Request(url, method=method,
                                     headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@contextmanager
def running_lab(mode: str, root: Path, home: Path) -> Iterator[Lab]:
    """`python -m keras_course.lab MODE` on `root`, isolated from the user's Jupyter set-up."""
    port, token = free_port(), secrets.token_hex(16)
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("JUPYTER_CONFIG_PATH", "MPLBACKEND", "JUPYTER_PATH")}
    env.update(JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"))
    # Answer JupyterLab's one-time "get notified about Jupyter news?" question, as a user would,
    # so that its pop-up does not cover the screenshots.
    settings = home / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    log = home / "jupyterlab.log"
    command = [sys.executable, "-m", "keras_course.lab", mode, "--root", str(root),
               "--no-browser", f"--port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}"]
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    lab = Lab(f"http://127.0.0.1:{port}", token, log)
    try:
        deadline = time.monotonic() + 180
        while not (_port_open(port) and _get(f"{lab.base}/api/status", token) == 200):
            assert proc.poll() is None, f"JupyterLab ({mode}) exited:\n{lab.log_tail()}"
            assert time.monotonic() < deadline, f"JupyterLab ({mode}) did not start:\n" \
                                                f"{lab.log_tail()}"
            time.sleep(0.5)
        yield lab
    finally:
        if proc.poll() is None:  # a clean shutdown also stops the kernels it started
            try:
                _get(f"{lab.base}/api/shutdown", token, method="POST")
                proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Screenshots:
    """Pictures a person can look at after the run, numbered in the order they were taken."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    def take(self, page, name: str, locator=None, block: str = "center") -> Path:
        if locator is not None:
            # The notebook lays out cells lazily: cells scrolled past take their real height only
            # once drawn, which moves the target. Scroll until it stays put.
            last = None
            for _ in range(5):
                locator.evaluate(f"e => e.scrollIntoView({{block: '{block}'}})")
                page.wait_for_timeout(400)
                box = locator.bounding_box()
                if box == last:
                    break
                last = box
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path))
        self.taken.append(path)
        return path


@pytest.fixture(scope="module")
def screenshots(request) -> Iterator[Screenshots]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    shots = Screenshots(SCREENSHOTS)
    yield shots
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and shots.taken:
        with capture.global_and_fixture_disabled():  # show the folder even when tests pass
            reporter.write_line(f"\nbrowser screenshots ({len(shots.taken)}) in {SCREENSHOTS}:")
            for path in shots.taken:
                reporter.write_line(f"  {path.name}")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(executable),
                                              args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@dataclass
class Demo:
    """The small class, graded in the background by the main job on its own copy of the course."""

    root: Path
    proc: subprocess.Popen
    log: Path

    def finished(self) -> Path:
        try:
            self.proc.wait(timeout=1800)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        assert self.proc.returncode == 0, self.log.read_text()[-3000:]
        return self.root


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Demo]:
    """The graded class (grading starts when first asked for, and runs in the background)."""
    root = copy_course(tmp_path_factory.mktemp("instructor") / "course")
    (root / "demo" / "class.toml").write_text(
        "".join(f'[{student}]\n{A1} = "{work}"\n\n' for student, work in CLASS.items()))
    log = root.parent / "demo.log"
    with log.open("w") as out:  # one worker: the self-learner's kernels need the other core
        proc = subprocess.Popen([sys.executable, "-m", "keras_course.course", "demo",
                                 "--root", str(root), "--workers", "1"],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    demo = Demo(root, proc, log)
    yield demo
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# --- notebook helpers ---------------------------------------------------------------------------

def cell_index(nb, predicate) -> int:
    return next(i for i, cell in enumerate(nb.cells) if predicate(cell))


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


#: The notebook on show (JupyterLab keeps other tabs in the page, hidden).
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"


def open_notebook(page, lab: Lab, path: str, n_cells: int) -> None:
    """Open a notebook in a workspace of its own (no tabs restored from another page)."""
    page.goto(lab.url(f"lab/workspaces/{Path(path).stem}/tree/{path}"))
    page.locator(f"{PANEL} .jp-Cell").nth(n_cells - 1).wait_for(state="attached")
    assert page.locator(f"{PANEL} .jp-Cell").count() == n_cells


def cell(page, index: int):
    return page.locator(f"{PANEL} .jp-Notebook .jp-Cell").nth(index)


def write_cell(page, index: int, code: str) -> None:
    """Type `code` into a cell as a student would: click in, select all, replace, leave."""
    editor = cell(page, index).locator(".cm-content")
    editor.scroll_into_view_if_needed()
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)
    page.keyboard.press("Escape")
    typed = [line.rstrip() for line in editor.inner_text().splitlines()]
    assert "\n".join(typed).strip() == "\n".join(
        line.rstrip() for line in code.splitlines()).strip(), "the editor holds other code"


def menu(page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar").get_by_text(top, exact=True).click()
    page.get_by_role("menuitem", name=item, exact=True).click()


PROMPTS_JS = ("() => [...document.querySelectorAll("
              f"'{PANEL} .jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim())")


def wait_idle(page, all_run: bool) -> list[str]:
    """Wait until no cell is queued or running (and, with `all_run`, every code cell has run)."""
    check = "(p.length > 0 && !p.some(t => t.includes('*'))" + (
        " && p.every(t => /\\[\\d+\\]/.test(t)))" if all_run else ")")
    page.wait_for_function(f"() => {{ const p = ({PROMPTS_JS})(); return {check}; }}",
                           timeout=RUN_TIMEOUT_MS)
    return page.evaluate(PROMPTS_JS)


def outputs(page, index: int):
    return cell(page, index).locator(".jp-OutputArea-output")


def stderr_outputs(page, index: int | None = None):
    scope = page.locator(PANEL) if index is None else cell(page, index)
    return scope.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")


def rendered_pictures(page, index: int) -> list[tuple[int, int]]:
    """(width, height) of every image a cell's outputs show, once each has loaded."""
    images = cell(page, index).locator(".jp-OutputArea-output img")
    images.first.wait_for(timeout=RUN_TIMEOUT_MS)
    return images.evaluate_all(
        "imgs => imgs.map(i => i.complete ? [i.naturalWidth, i.naturalHeight] : [0, 0])")


def validate(page) -> str:
    """Press nbgrader's Validate and return what its dialog says (then close it)."""
    page.get_by_role("button", name="Validate", exact=True).click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("Validation Results").wait_for(timeout=RUN_TIMEOUT_MS)
    page.wait_for_timeout(300)
    return dialog.locator(".jp-Dialog-body").inner_text()


def close_dialog(page) -> None:
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.locator(".jp-Dialog").wait_for(state="detached")


# --- the tests ----------------------------------------------------------------------------------

@pytest.mark.pipeline
def test_self_learner_works_through_the_first_notebook(browser, screenshots, tmp_path, request):
    if any(item.name.startswith("test_instructor") for item in request.session.items):
        request.getfixturevalue("demo")  # grade the instructor's class meanwhile
    root = copy_course(tmp_path / "course")
    nb = nbformat.read(root / "release" / A1 / f"{A1}.ipynb", as_version=4)
    source = nbformat.read(root / "source" / A1 / f"{A1}.ipynb", as_version=4)
    reference = reference_code(source)
    solutions = {gid: cell_index(nb, lambda c, g=gid: grade_id(c) == g)
                 for gid in solution_cells(nb)}
    tests = {gid: cell_index(nb, lambda c, g=gid: grade_id(c) == g)
             for gid in graded_test_cells(nb)}
    setup = cell_index(nb, lambda c: grade_id(c) == "setup")
    digits = cell_index(nb, lambda c: "imshow" in c.source)
    curves = cell_index(nb, lambda c: "plot_history(" in c.source)
    mistake = read_variant(MISTAKE)
    lost = mistake.loses
    code_cells = sum(c.cell_type == "code" for c in nb.cells)

    with running_lab("self-learner", root, tmp_path / "jupyter") as lab:
        # Nothing for instructors or an exchange in a self-learner's JupyterLab; Validate is there.
        assert _get(lab.url("formgrader"), lab.token) == 404
        assert _get(lab.url("assignments"), lab.token) == 404
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(120_000)
        open_notebook(page, lab, f"{A1}/{A1}.ipynb", len(nb.cells))
        page.get_by_role("button", name="Validate", exact=True).wait_for()
        nbgrader_menu = page.locator(".lm-MenuBar").get_by_text("Nbgrader", exact=True)
        if nbgrader_menu.count():
            nbgrader_menu.click()
            assert page.get_by_role("menuitem", name="Formgrader", exact=True).count() == 0
            assert page.get_by_role("menuitem", name="Assignment List", exact=True).count() == 0
            page.keyboard.press("Escape")

        # 1. A typical mistake: the visible test says what is wrong, in a few readable lines.
        write_cell(page, solutions["build_sequential"], mistake.cells["build_sequential"])
        write_cell(page, solutions["compile_classifier"], reference["compile_classifier"])
        menu(page, "Run", "Run All Cells")
        first_lost = tests[lost[0]]
        stderr_outputs(page, first_lost).first.wait_for(timeout=RUN_TIMEOUT_MS)
        wait_idle(page, all_run=False)
        assert outputs(page, setup).count() == 0, "TensorFlow's start-up lines reach the first cell"
        message = stderr_outputs(page, first_lost).first.inner_text().strip()
        lines = message.splitlines()
        assert re.match(r"^[A-Z]\w*Error: \S", lines[0]), message
        assert "keras.Input" in message, message
        assert not re.search(r"Traceback|File \"|site-packages|keras_course[/.]", message), message
        assert len(lines) <= 4 and all(len(line) <= MESSAGE_WIDTH for line in lines), message
        for gid, index in tests.items():  # the checks before the failure ran and passed
            if index < first_lost:
                assert stderr_outputs(page, index).count() == 0, gid
        screenshots.take(page, "self-learner-failed-check", cell(page, first_lost))

        # Validate lists the failing parts (each by its test's first line) with the same message.
        report = validate(page)
        screenshots.take(page, "self-learner-validate-failed")
        close_dialog(page)
        assert report.count("The following cell failed") == len(lost), report
        for gid in lost:
            assert nb.cells[tests[gid]].source.splitlines()[0] in report, (gid, report)
        for gid in set(tests) - set(lost):
            assert nb.cells[tests[gid]].source.splitlines()[0] not in report, (gid, report)
        assert lines[0] in report and "Traceback" not in report, report

        # 2. The reference solution: every cell runs, the pictures render, Validate passes.
        write_cell(page, solutions["build_sequential"], reference["build_sequential"])
        menu(page, "Kernel", "Restart Kernel and Run All Cells…")
        page.get_by_role("button", name="Confirm Kernel Restart").click()
        prompts = wait_idle(page, all_run=True)
        assert prompts[-1] == f"[{code_cells}]:", prompts
        assert outputs(page, setup).count() == 0, "TensorFlow's start-up lines reach the first cell"
        assert stderr_outputs(page).count() == 0, stderr_outputs(page).all_inner_texts()
        screenshots.take(page, "self-learner-quiet-setup-and-digits", cell(page, setup), "start")
        for index in (digits, curves):
            pictures = rendered_pictures(page, index)
            assert pictures and all(w > 200 and h > 50 for w, h in pictures), (index, pictures)
        screenshots.take(page, "self-learner-learning-curves", cell(page, curves))
        report = validate(page)
        screenshots.take(page, "self-learner-validate-passed")
        close_dialog(page)
        assert "Success! Your notebook passes all the tests." in report, report

        # 3. The second notebook draws a model's layer graph inline (before the first exercise).
        nb2 = nbformat.read(root / "release" / A2 / f"{A2}.ipynb", as_version=4)
        graph = cell_index(nb2, lambda c: c.cell_type == "code" and "plot_model_graph(" in c.source)
        page2 = browser.new_page(viewport={"width": 1400, "height": 900})
        page2.set_default_timeout(120_000)
        open_notebook(page2, lab, f"{A2}/{A2}.ipynb", len(nb2.cells))
        menu(page2, "Run", "Run All Cells")
        pictures = rendered_pictures(page2, graph)
        wait_idle(page2, all_run=False)
        assert pictures and all(w > 200 and h > 100 for w, h in pictures), pictures
        assert outputs(page2, cell_index(nb2, lambda c: grade_id(c) == "setup")).count() == 0
        screenshots.take(page2, "self-learner-layer-graph", cell(page2, graph))
        page2.close()
        page.close()


@pytest.mark.pipeline
def test_instructor_finds_assignments_and_grades_in_formgrader(browser, demo, screenshots,
                                                               tmp_path):
    root = demo.finished()
    with (root / "grades" / "grades.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["assignment"] == A1]
    scores = {r["student_id"]: f"{float(r['score']):g} / {float(r['max_score']):g}" for r in rows}
    assert sorted(scores) == sorted(CLASS) and len(set(scores.values())) == 3, scores
    assignments = sorted(p.name for p in (root / "source").iterdir() if p.is_dir())

    with running_lab("instructor", root, tmp_path / "jupyter") as lab:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(120_000)
        page.goto(lab.url("lab"))
        page.locator(".jp-LabShell").wait_for()
        menu(page, "Nbgrader", "Formgrader")
        formgrader = page.frame_locator("iframe[src*='formgrader']")
        table = formgrader.locator("table")
        for name in assignments:
            table.get_by_role("link", name=name, exact=True).wait_for()
        a1_row = table.locator("tr").filter(
            has=formgrader.get_by_role("link", name=A1, exact=True))
        assert a1_row.get_by_role("link", name=str(len(CLASS)), exact=True).count() == 1
        screenshots.take(page, "instructor-formgrader-assignments")

        a1_row.get_by_role("link", name=str(len(CLASS)), exact=True).click()
        formgrader.get_by_text("Manage Submissions").first.wait_for()
        for student, score in scores.items():
            row = formgrader.locator("tr").filter(
                has=formgrader.locator("td").filter(has_text=re.compile(f"^{student}$")))
            row.wait_for()
            assert score in row.inner_text(), (student, score, row.inner_text())
            assert "graded" in row.inner_text()
        screenshots.take(page, "instructor-formgrader-a1-grades")

        formgrader.get_by_role("link", name="Manage Students").click()
        for student in CLASS:
            formgrader.locator("td", has_text=re.compile(f"^{student}$")).wait_for()
        screenshots.take(page, "instructor-formgrader-students")
        page.close()
