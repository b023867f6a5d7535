"""A semester on a real JupyterHub, driven in Chromium as its people would use it.

`keras_course.hub` (what `make hub` runs) starts JupyterHub on a free port with system users of
its own (an instructor and three students, PAM logins, each server running as its user) and
nbgrader's exchange, on a copy of the course in the instructor's home. Then, in the browser:

1. the instructor logs in, opens formgrader, generates and releases `a1_sequential`;
2. three students log in, fetch it from the Assignment List, write their answers into the
   notebook (the reference solution; a typical mistake; the reference again, but handed in after
   the due date the instructor has meanwhile set), press Validate and submit;
3. meanwhile one student tries to read, list, replace or forge a classmate's submission in the
   exchange and in their home, from their own account (what their terminal could do);
4. the instructor collects in formgrader (the forged folder is refused), runs `make grade` as
   their own user (the grading sandbox runs unprivileged) and releases feedback in formgrader;
5. each student fetches feedback and reads it: their messages, no hidden test;
6. the grades CSV and the report hold all three with the right scores, the late one late.

Screenshots go to tests/screenshots/hub/ (or $KERAS_COURSE_SCREENSHOTS/hub). Users, homes,
exchange and processes the test made are removed afterwards, also when it fails. The step times
are printed and written next to the screenshots.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import pwd
import re
import secrets
import stat
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT
from test_browser import (
    CHROMIUM_ARGS,
    MISTAKE,
    PANEL,
    ensure_chromium,
    free_port,
    write_cell,
)

from keras_course import hub
from keras_course.exchange import inspect, safe_copy
from keras_course.submissions import read_variant, reference_code

SHOTS = Path(os.environ.get("KERAS_COURSE_SCREENSHOTS", ROOT / "tests" / "screenshots")) / "hub"
A1 = "a1_sequential"
TEACHER = "kct-teacher"
#: The class: who hands in what ("late": the reference, after the due date).
CLASS = {"kct-ada": "reference", "kct-ben": "mistake", "kct-chen": "late"}
#: Validate and grading run TensorFlow on two busy cores.
SLOW_MS = 300_000


# --- the parts that need no hub ------------------------------------------------------------------

def test_collect_copies_only_what_the_student_owns(tmp_path):
    """Links, hard links and files of other owners stay behind; the time is the newest ctime."""
    student = pwd.getpwnam("nobody").pw_uid
    src = tmp_path / "kct-x+a1+2099-01-01 00:00:00.000000 UTC+r"
    (src / "sub").mkdir(parents=True)
    (src / "a1.ipynb").write_text("mine")
    (src / "sub" / "data.txt").write_text("mine too")
    (tmp_path / "secret.txt").write_text("the gradebook")
    (src / "link.ipynb").symlink_to(tmp_path / "secret.txt")
    os.link(tmp_path / "secret.txt", src / "hard.txt")
    (src / "theirs.txt").write_text("written by someone else")
    for path in [src, src / "sub", src / "a1.ipynb", src / "sub" / "data.txt", src / "hard.txt"]:
        os.chown(path, student, -1)
    trusted, skipped = inspect(str(src), student, 10**6)
    assert sorted(skipped) == ["hard.txt", "link.ipynb", "theirs.txt"], skipped
    assert abs(trusted - time.time()) < 60  # not 2099, whatever the name says
    left_out = safe_copy(str(src), str(tmp_path / "out"), student)
    assert sorted(left_out) == ["hard.txt", "link.ipynb", "theirs.txt"], left_out
    copied = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*"))
    assert copied == ["a1.ipynb", "sub", "sub/data.txt"], copied
    from keras_course.exchange import Refused

    with pytest.raises(Refused, match="belongs to"):
        inspect(str(src), student + 1, 10**6)


# --- the hub -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site():
    assert os.geteuid() == 0, "the hub test creates system users: run it as root (as CI does)"
    ensure_chromium()
    site = hub.Site(name="keras-course-hubtest", instructor=TEACHER, students=list(CLASS),
                    port=free_port())
    hub.reset(site)  # what an interrupted run left
    passwords = {user: secrets.token_urlsafe(12) for user in site.users}
    started = time.monotonic()
    try:
        hub.start(site, passwords)
        site.passwords = passwords
        site.started_in = time.monotonic() - started
        yield site
    finally:
        keep_evidence(site)
        hub.reset(site)
        for user in site.users:
            with pytest.raises(KeyError):
                pwd.getpwnam(user)
        assert not hub.user_pids(site.users)


def keep_evidence(site) -> None:
    """The instructor's course files and logs, kept next to the screenshots for a failed run."""
    try:
        course = site.course()
    except KeyError:
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    listing = subprocess.run(["ls", "-laR", *(str(course / d) for d in (
        "submitted", "autograded", "feedback") if (course / d).exists())],
        capture_output=True, text=True).stdout
    (SHOTS / "course-files.txt").write_text(listing)
    for log in (course / "grades" / "nbgrader.log", site.state / "jupyterhub.log"):
        if log.is_file():
            (SHOTS / log.name).write_text(log.read_text(errors="replace")[-200_000:])


class Shots:
    def __init__(self):
        SHOTS.mkdir(parents=True, exist_ok=True)
        for old in SHOTS.glob("*.png"):
            old.unlink()
        self.n = 0

    def take(self, page, name: str) -> None:
        self.n += 1
        page.screenshot(path=str(SHOTS / f"{self.n:02d}-{name}.png"))


class Steps:
    """Wall-clock time of each step, printed and written next to the screenshots."""

    def __init__(self):
        self.times, self.last = {}, time.monotonic()

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.times[name] = round(now - self.last, 1)
        self.last = now
        self.write()

    def write(self) -> str:
        text = "\n".join(f"{seconds:6.1f} s  {name}" for name, seconds in self.times.items())
        text += f"\n{sum(self.times.values()):6.1f} s  in all"
        (SHOTS / "timings.txt").write_text(text + "\n")
        return text


def as_user(site, user: str, *cmd: str, cwd: Path | None = None, check: bool = True):
    """Run `cmd` as `user`, as their terminal on the hub would."""
    entry = pwd.getpwnam(user)
    env = {"HOME": entry.pw_dir, "USER": user, "LOGNAME": user, "LANG": "C.UTF-8",
           "PATH": f"{site.venv}/bin:/usr/local/bin:/usr/bin:/bin"}
    proc = subprocess.run(["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}",
                           "--init-groups", *cmd], env=env, cwd=cwd or entry.pw_dir,
                          capture_output=True, text=True, timeout=900)
    if check:
        assert proc.returncode == 0, f"{user}: {' '.join(cmd)}:\n{proc.stdout[-3000:]}" \
                                     f"{proc.stderr[-3000:]}"
    return proc


def open_login(browser, site, user: str):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{site.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", site.passwords[user])
    page.click("#login_submit")
    return page


def lab_ready(page) -> None:
    page.locator(".jp-LabShell").wait_for()
    page.locator(".jp-MenuBar, .lm-MenuBar").first.wait_for()


def menu_items(page, top: str) -> list[str]:
    page.locator(".lm-MenuBar").get_by_text(top, exact=True).click()
    items = page.locator(".lm-Menu-content .lm-Menu-itemLabel").all_inner_texts()
    page.keyboard.press("Escape")
    return items


def formgrader_action(page, column: str) -> str:
    """Press a button of a1's row in formgrader and return what its dialog says (then close)."""
    row = page.locator("tr").filter(has=page.get_by_role("link", name=A1, exact=True))
    row.locator(f"td.{column} a").click()
    modal = page.locator("#success-modal, #error-modal")
    modal.locator(".modal-body").wait_for(timeout=SLOW_MS)
    page.wait_for_timeout(300)  # the fade-in
    text = modal.inner_text()
    assert modal.get_attribute("id") == "success-modal", text
    return text


def close_modal(page) -> None:
    modal = page.locator("#success-modal")
    modal.locator(".modal-footer button").first.click()
    modal.wait_for(state="detached")


def assignment_list(page, user: str, site) -> None:
    page.goto(f"{site.url}/user/{user}/lab/workspaces/assignments?reset")
    lab_ready(page)
    page.locator(".lm-MenuBar").get_by_text("Nbgrader", exact=True).click()
    page.get_by_role("menuitem", name="Assignment List", exact=True).click()
    page.locator("#released_assignments_list").wait_for()


def list_item(page, which: str):
    return page.locator(f"#{which}_assignments_list .list_item:not(.nested_list_item)").filter(
        has_text=A1)


def saved_code(path: Path, gid: str) -> str:
    nb = nbformat.read(path, as_version=4)
    return next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


def wait_until(predicate, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def marked_lines(source_nb, marker: str) -> list[str]:
    """The lines between `### BEGIN <marker>` and `### END <marker>` in the source notebook."""
    lines, inside = [], False
    for cell in source_nb.cells:
        for line in cell.source.splitlines():
            if f"BEGIN {marker}" in line:
                inside = True
            elif f"END {marker}" in line:
                inside = False
            elif inside and len(line.strip()) > 12:
                lines.append(line.strip())
    return lines


def set_due_date(page, site, due: dt.datetime) -> None:
    """The instructor sets a1's due date: in formgrader, and in course.toml where the course
    keeps its due dates (keras_course/grading/late.py reads them there on every grading run)."""
    page.goto(f"{site.url}/user/{TEACHER}/formgrader")
    row = page.locator("tr").filter(has=page.get_by_role("link", name=A1, exact=True))
    row.locator("td.edit a").click()
    modal = page.locator("#edit-assignment-modal")
    modal.locator("input.modal-duedate").fill(due.strftime("%Y-%m-%dT%H:%M:%S"))
    modal.locator("input.modal-timezone").fill("UTC")
    modal.locator("button.save").click()
    modal.wait_for(state="detached")
    row.locator("td.duedate").filter(has_text=re.compile(r"\d")).wait_for()
    policy = site.course() / "course.toml"
    if policy.is_file():
        text = policy.read_text()
        line = f'{A1} = "{due.isoformat()}"'
        text, n = re.subn(rf"(?m)^{A1}\s*=.*$", line, text)
        assert n == 1, "course.toml has no due date line for a1_sequential"
        text, n = re.subn(r"(?m)^grace_minutes\s*=\s*\d+", "grace_minutes = 0", text)
        assert n == 1, "course.toml has no grace period"  # seconds late cost the penalty
        policy.write_text(text)


@pytest.mark.pipeline
def test_a_semester_on_the_hub(site, tmp_path):
    from playwright.sync_api import sync_playwright

    steps, shots = Steps(), Shots()
    steps.times["hub set up and started (users, venv check, proxy)"] = round(site.started_in, 1)
    source = nbformat.read(ROOT / "source" / A1 / f"{A1}.ipynb", as_version=4)
    reference = reference_code(source)
    mistake = read_variant(MISTAKE)
    work = {"reference": reference, "late": reference,
            "mistake": {**reference, **mistake.cells}}
    hidden = marked_lines(source, "HIDDEN TESTS")
    solutions = marked_lines(source, "SOLUTION")
    assert hidden and solutions, "a1 has solutions and hidden tests to look for"
    course = site.course()
    exchange = site.exchange / hub.COURSE_ID
    # Homes are private; the exchange has nbgrader's permissions.
    for user in site.users:
        assert stat.S_IMODE(site.home(user).stat().st_mode) == 0o700, user
    assert stat.S_IMODE(site.exchange.stat().st_mode) == 0o1777  # nbgrader's 0777, sticky

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(ensure_chromium()),
                                             args=CHROMIUM_ARGS, headless=True)
        # 1. The instructor releases a1 from formgrader (in a tab of its own: JupyterHub forbids
        # embedding one server's pages in another page, so Lab's formgrader panel stays blank).
        teacher = open_login(browser, site, TEACHER)
        students = {s: open_login(browser, site, s) for s in CLASS}  # servers start meanwhile
        lab_ready(teacher)
        assert "Formgrader" in menu_items(teacher, "Nbgrader")
        teacher.goto(f"{site.url}/user/{TEACHER}/formgrader")
        teacher.get_by_role("link", name=A1, exact=True).wait_for()
        shots.take(teacher, "instructor-formgrader")
        formgrader_action(teacher, "assign")
        close_modal(teacher)
        text = formgrader_action(teacher, "release")
        assert "Released as: keras-apis a1_sequential" in text, text
        shots.take(teacher, "instructor-released")
        close_modal(teacher)
        released = exchange / "outbound" / A1 / f"{A1}.ipynb"
        released_text = released.read_text()
        assert not [line for line in solutions + hidden if json.dumps(line)[1:-1] in released_text]
        assert "BEGIN SOLUTION" not in released_text and "HIDDEN TESTS" not in released_text
        inbound = exchange / "inbound"
        assert stat.S_IMODE(inbound.stat().st_mode) & 0o7777 == 0o3733, oct(inbound.stat().st_mode)
        steps.done("1. instructor logs in, generates and releases a1 in formgrader")

        # 2. Students fetch, work, validate. Their Lab has no instructor tools.
        for student, page in students.items():
            lab_ready(page)
            items = menu_items(page, "Nbgrader")
            assert "Assignment List" in items and "Formgrader" not in items, items
            assert "Course List" not in items, items
            assignment_list(page, student, site)
            list_item(page, "released").get_by_role("button", name="Fetch").click()
            list_item(page, "fetched").wait_for()
        shots.take(students["kct-ada"], "student-fetched")
        steps.done("2a. three students log in and fetch a1 from the Assignment List")

        notebooks = {}
        for student, page in students.items():
            path = f"{A1}/{A1}.ipynb"
            notebooks[student] = site.home(student) / path
            page.goto(f"{site.url}/user/{student}/lab/workspaces/nb/tree/{path}?reset")
            page.locator(f"{PANEL} .jp-Cell").nth(len(source.cells) - 1).wait_for(state="attached")
            for gid, code in work[CLASS[student]].items():
                index = next(i for i, c in enumerate(source.cells)
                             if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
                write_cell(page, index, code)
            page.keyboard.press("Control+s")
            wait_until(lambda s=student: all(
                saved_code(notebooks[s], gid).strip() == code.strip()
                for gid, code in work[CLASS[s]].items()), what=f"{student}'s notebook saved")
        for page in students.values():  # the three validations run side by side
            page.get_by_role("button", name="Validate", exact=True).click()
        reports = {}
        for student, page in students.items():
            dialog = page.locator(".jp-Dialog")
            dialog.get_by_text("Validation Results").wait_for(timeout=SLOW_MS)
            reports[student] = dialog.locator(".jp-Dialog-body").inner_text()
            shots.take(page, f"{student}-validated")
            page.locator(".jp-Dialog .jp-mod-accept").click()
        assert "Success! Your notebook passes all the tests." in reports["kct-ada"], reports
        assert "Success!" not in reports["kct-ben"] and "keras.Input" in reports["kct-ben"]
        steps.done("2b. students write their answers, save and validate (side by side)")

        def submit(student):
            page = students[student]
            assignment_list(page, student, site)
            list_item(page, "fetched").get_by_role("button", name="Submit").click()
            list_item(page, "submitted").wait_for(timeout=SLOW_MS)
            shots.take(page, f"{student}-submitted")

        submit("kct-ada")
        submit("kct-ben")
        steps.done("2c. two students submit on time")

        # 3. A classmate's submission, from ben's account: no listing, no reading, no forging.
        ben = "kct-ben"
        ada_folder = next(p for p in inbound.iterdir() if p.name.startswith("kct-ada+"))
        attacks = {
            "list inbound": ["ls", str(inbound)],
            "read ada's submission": ["cat", str(ada_folder / f"{A1}.ipynb")],
            "rename ada's submission": ["mv", str(ada_folder), str(inbound / "gone")],
            "replace ada's notebook": ["cp", str(notebooks[ben]), str(ada_folder / f"{A1}.ipynb")],
            "delete ada's submission": ["rm", "-rf", str(ada_folder)],
            "read ada's home": ["ls", str(site.home("kct-ada"))],
            "read ada's fetched notebook": ["cat", str(notebooks["kct-ada"])],
        }
        for what, cmd in attacks.items():
            proc = as_user(site, ben, *cmd, check=False)
            assert proc.returncode != 0, f"{ben} could {what}: {proc.stdout}"
            assert "denied" in proc.stderr or "not permitted" in proc.stderr, (what, proc.stderr)
        assert ada_folder.is_dir() and saved_code(ada_folder / f"{A1}.ipynb", "build_sequential")
        assert stat.S_IMODE(ada_folder.stat().st_mode) == 0o750  # nbgrader's own: 0777
        # A folder named as ada's, dated in the future, holding ben's notebook: nbgrader would
        # collect it as ada's newest submission; it goes in (inbound/ is writable), but is refused.
        forged = inbound / f"kct-ada+{A1}+2099-01-01 00:00:00.000000 UTC+forged"
        as_user(site, ben, "mkdir", str(forged))
        as_user(site, ben, "cp", str(notebooks[ben]), str(forged / f"{A1}.ipynb"))
        steps.done("3. a classmate tries to list, read, replace, delete and forge")

        # The instructor sets the due date (now: after two submissions), then chen submits late.
        due = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=2)
        set_due_date(teacher, site, due)
        shots.take(teacher, "instructor-due-date")
        wait_until(lambda: dt.datetime.now(dt.UTC) > due + dt.timedelta(seconds=1), 10,
                   "the due date to pass")
        submit("kct-chen")
        steps.done("2d. the instructor sets the due date; the third student submits late")

        # 4. Collect (the forged folder is refused), grade as the instructor, release feedback.
        teacher.goto(f"{site.url}/user/{TEACHER}/formgrader")
        text = formgrader_action(teacher, "collect")
        shots.take(teacher, "instructor-collected")
        close_modal(teacher)
        assert "Refused" in text and "forged" in text and "belongs to `kct-ben`" in text, text
        assert not forged.exists() and (inbound / f".refused+{forged.name}").is_dir()
        for student in CLASS:  # everything the student handed in, dated by the file system
            folder = course / "submitted" / student / A1
            names = sorted(p.name for p in folder.iterdir())
            assert names == [f"{A1}.ipynb", "submission_secret.txt", "timestamp.txt",
                             "timestamp_claimed_by_student.txt"], (student, names)
        collected = nbformat.read(course / "submitted" / "kct-ada" / A1 / f"{A1}.ipynb", 4)
        assert reference["build_sequential"].strip() in "".join(c.source for c in collected.cells)
        steps.done("4a. the instructor collects in formgrader")

        grading = as_user(site, TEACHER, "make", "grade", cwd=course)
        (SHOTS / "make-grade.txt").write_text(grading.stdout + grading.stderr)
        steps.done("4b. `make grade` as the instructor (sandboxed, unprivileged)")
        teacher.goto(f"{site.url}/user/{TEACHER}/formgrader")
        text = formgrader_action(teacher, "release-feedback")
        shots.take(teacher, "instructor-released-feedback")
        close_modal(teacher)
        proc = as_user(site, ben, "ls", str(exchange / "feedback"), check=False)
        assert proc.returncode != 0 and "denied" in proc.stderr, proc.stdout
        steps.done("4c. the instructor releases feedback in formgrader")

        # 5. Each student fetches feedback: their messages, no hidden test.
        for student, page in students.items():
            assignment_list(page, student, site)
            list_item(page, "submitted").get_by_role("button", name="Fetch Feedback").click()
            folder = site.home(student) / A1 / "feedback"
            wait_until(lambda f=folder: list(f.glob(f"*/{A1}.html")), 60, f"{student}'s feedback")
            html = next(folder.glob(f"*/{A1}.html"))
            page.goto(f"{site.url}/user/{student}/files/{html.relative_to(site.home(student))}")
            page.locator("body").wait_for()
            shots.take(page, f"{student}-feedback")
            text = page.locator("body").inner_text()
            assert not [line for line in hidden if line in text], student
            assert "HIDDEN TESTS" not in html.read_text()
            if CLASS[student] == "mistake":
                assert "keras.Input" in text, text[:3000]
            when = re.search(r"Submitted [^\n]*", text)  # the feedback's lateness line
            assert when, text[:3000]
            assert ("on time" in when[0]) == (CLASS[student] != "late"), when[0]
        steps.done("5. students fetch and read their feedback")
        browser.close()

    # 6. The grades: all three, right scores, the late one late.
    rows = {r["student_id"]: r for r in csv.DictReader(
        (course / "grades" / "grades.csv").open()) if r["assignment"] == A1}
    assert sorted(rows) == sorted(CLASS), rows
    score = {s: float(r["score"]) for s, r in rows.items()}
    raw = {s: float(r["raw_score"]) for s, r in rows.items()}
    top = float(rows["kct-ada"]["max_score"])
    assert raw["kct-ada"] == raw["kct-chen"] == top, rows
    assert 0 < raw["kct-ben"] < top, rows
    for s, r in rows.items():
        submitted = dt.datetime.fromisoformat(r["timestamp"])
        duedate = dt.datetime.fromisoformat(r["duedate"])
        assert (submitted > duedate) == (CLASS[s] == "late"), (s, r)
        penalty = float(r["late_submission_penalty"] or 0)
        assert score[s] == pytest.approx(raw[s] - penalty), r
        if CLASS[s] != "late":
            assert penalty == 0, r
        elif (course / "course.toml").is_file():  # the course's late policy, no grace period
            assert penalty > 0, r
    report = (course / "reports" / "index.html").read_text()
    assert "from 3 students" in report, "the report does not count the three students"
    print("\nhub step times:\n" + steps.write())
    print(json.dumps({"screenshots": str(SHOTS)}))
