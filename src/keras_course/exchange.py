"""nbgrader's directory exchange, with collecting that trusts nothing a student wrote.

nbgrader's own `collect` takes a submission's student and time from the folder name in
`inbound/`, which the student chose, and only warns when the folder belongs to someone else: a
student could hand in a folder named as a classmate's, dated in the future, and it was collected
as the classmate's newest submission. The course's `nbgrader_config.py` selects these classes
instead (`c.ExchangeFactory.collect`, `c.ExchangeFactory.release_assignment`), so formgrader's
Collect button and `nbgrader collect` both use them:

- **OwnedCollect** counts a folder only when the student it names owns it (`inbound/` is
  0733: anyone can create a folder there, only its owner is who made it). A folder that someone
  else made is refused, named in the log, and renamed to `.refused+...` so that it is never
  collected again (the instructor owns `inbound/` and may rename in it; its owner or root may
  delete it). Inside a submission only plain files and folders the student owns are copied:
  symbolic links, hard links and anything else are left out (nbgrader would copy the target of a
  link with the instructor's rights), and the copy never follows a link, even one swapped in
  while collecting.
- **The submission time** is the newest change time (`ctime`) of the folder and everything in
  it, which the kernel sets and no student can move back. The `timestamp.txt` the student's
  server wrote and the time in the folder name are not used: `submitted/<student>/<assignment>/
  timestamp.txt` is rewritten with the trusted time, and nbgrader's late penalty reads it there.
- **OwnedReleaseAssignment** makes `inbound/` sticky, so a student cannot rename or delete a
  classmate's folder there even with its name.
- **PrivateSubmit** (the students' side, set in their configuration by `make hub`): nbgrader
  leaves a submission folder writable by everyone (0777), protected only by its unguessable
  name; this one makes its folders 0750: `inbound/` (setgid) gives every folder made in it the
  instructor's group, so the instructor reads it and no classmate can enter it. Where the group
  is not the instructor's (another exchange layout), it falls back to 0755: readable by whoever
  has the name, writable by no one else.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import stat
from collections import defaultdict
from datetime import UTC, datetime
from typing import TypedDict

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.exchange.default.release_assignment import ExchangeReleaseAssignment
from nbgrader.exchange.default.submit import ExchangeSubmit
from nbgrader.utils import check_mode
from traitlets import Integer

from . import messages

#: Files nbgrader's own submit writes that the collected copy keeps.
TIMESTAMP = "timestamp.txt"


def utc_text(seconds: float) -> str:
    """A time in nbgrader's timestamp format (what `timestamp.txt` holds)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


class Collected(TypedDict):
    """One submission found in inbound/ and found to be its student's (`OwnedCollect`)."""

    username: str
    filename: str  #: its folder's name in inbound/
    uid: int  #: the student's, who owns every file collected
    timestamp: datetime  #: when it was submitted (naive UTC, as nbgrader compares it)
    seconds: float  #: the same time, as written into the collected timestamp.txt


class Refused(Exception):
    """A folder in inbound/ that is not the named student's submission: why, as a code of
    `messages.REFUSED_WHY` and the sentence it renders."""

    def __init__(self, code: str, **fields: object) -> None:
        super().__init__(messages.REFUSED_WHY[code].format(**fields))
        self.code = code


def owner_uid(username: str) -> int:
    try:
        return pwd.getpwnam(username).pw_uid
    except KeyError:
        raise Refused("no_user", user=username) from None


def owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def inspect(path: str, uid: int, max_bytes: int) -> tuple[float, list[str]]:
    """(trusted time, entries left out) of a submission folder, following no link.

    Raises Refused when the folder itself is not a folder owned by `uid`, or is too large.
    """
    top = os.lstat(path)
    if not stat.S_ISDIR(top.st_mode):
        raise Refused("not_folder")
    if top.st_uid != uid:
        raise Refused("owner", owner=owner_name(top.st_uid))
    newest, total, skipped = top.st_ctime, 0, []
    for dirpath, dirnames, filenames, dirfd in os.fwalk(path, follow_symlinks=False):
        for name in list(dirnames) + filenames:
            st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            rel = os.path.relpath(os.path.join(dirpath, name), path)
            ok_type = stat.S_ISDIR(st.st_mode) or (stat.S_ISREG(st.st_mode) and st.st_nlink == 1)
            if not ok_type or st.st_uid != uid:
                skipped.append(rel)
                if name in dirnames:
                    dirnames.remove(name)
                continue
            newest = max(newest, st.st_ctime)
            total += st.st_size
    if total > max_bytes:
        raise Refused("too_big", size=total, limit=max_bytes)
    return newest, skipped


def safe_copy(src: str, dest: str, uid: int) -> list[str]:
    """Copy the student's own plain files and folders from `src` to a new folder `dest`.

    Every file is opened without following links and checked again after opening, so a link
    swapped in after `inspect` is not followed either.
    """
    os.makedirs(dest)
    left_out = []
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NOCTTY", 0)
    for dirpath, dirnames, filenames, dirfd in os.fwalk(src, follow_symlinks=False):
        rel = os.path.relpath(dirpath, src)
        target = os.path.normpath(os.path.join(dest, rel))
        for name in list(dirnames):
            st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            if st.st_uid != uid:
                dirnames.remove(name)
                left_out.append(os.path.join(rel, name))
                continue
            os.makedirs(os.path.join(target, name), exist_ok=True)
        for name in filenames:
            try:
                fd = os.open(name, flags | os.O_NONBLOCK, dir_fd=dirfd)
            except OSError:  # a link (ELOOP), unreadable, a FIFO, or a file that went away
                left_out.append(os.path.normpath(os.path.join(rel, name)))
                continue
            with os.fdopen(fd, "rb") as f:
                st = os.fstat(f.fileno())
                if not stat.S_ISREG(st.st_mode) or st.st_uid != uid or st.st_nlink != 1:
                    left_out.append(os.path.normpath(os.path.join(rel, name)))
                    continue
                with open(os.path.join(target, name), "wb") as out:
                    while chunk := f.read(1 << 20):
                        out.write(chunk)
    return left_out


class OwnedCollect(ExchangeCollect):
    """`nbgrader collect` that refuses what the named student does not own (module docstring)."""

    max_bytes = Integer(200 * 1024**2, help="largest submission collected, in bytes"
                        ).tag(config=True)

    def init_src(self):
        if self.coursedir.course_id == "":
            self.fail(messages.NO_COURSE_ID)
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        if not check_mode(self.inbound_path, read=True, execute=True):
            self.fail(f"You don't have read permissions for the directory: {self.inbound_path}")
        student_id = self.coursedir.student_id or "*"
        pattern = os.path.join(self.inbound_path, f"{student_id}+{self.coursedir.assignment_id}+*")
        by_student: defaultdict[str, list[Collected]] = defaultdict(list)
        self.refused = []
        for path in sorted(glob.glob(pattern)):
            name = os.path.basename(path)
            username = name.split("+", 1)[0]
            try:
                uid = owner_uid(username)
                trusted, skipped = inspect(path, uid, self.max_bytes)
            except (Refused, OSError) as exc:
                self._refuse(path, username, str(exc))
                continue
            if skipped:
                self.log.warning("%s: left out (links, other owners or special files): %s",
                                 name, ", ".join(skipped))
            by_student[username].append({"username": username, "filename": name, "uid": uid,
                                         "timestamp": datetime.fromtimestamp(trusted, UTC)
                                         .replace(tzinfo=None), "seconds": trusted})
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            try:
                self.duedate = gb.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                self.duedate = None
        self.src_records: list[Collected] = []
        for records in by_student.values():
            records.sort(key=lambda r: r["timestamp"], reverse=True)
            if self.duedate is not None and self.before_duedate:
                on_time = [r for r in records if r["timestamp"] <= self.duedate]
                records = on_time or records
            self.src_records.append(records[0])

    def _refuse(self, path: str, username: str, why: str) -> None:
        name = os.path.basename(path)
        aside = os.path.join(self.inbound_path, f".refused+{name}")
        try:
            os.rename(path, aside)
            where = messages.REFUSED_RENAMED.format(aside=os.path.basename(aside))
        except OSError as exc:
            where = messages.REFUSED_LEFT.format(error=exc.strerror)
        self.refused.append(name)
        self.log.error(messages.REFUSED_SUBMISSION.format(name=name, user=username, why=why,
                                                          where=where))

    def copy_files(self):
        if not self.src_records:
            self.log.warning("No submissions of '%s' for course '%s' to collect",
                             self.coursedir.assignment_id, self.coursedir.course_id)
        for rec in self.src_records:
            student_id = rec["username"]
            src_path = os.path.join(self.inbound_path, rec["filename"])
            dest_path = self.coursedir.format_path(self.coursedir.submitted_directory,
                                                   student_id, self.coursedir.assignment_id)
            os.makedirs(os.path.dirname(dest_path), exist_ok=True)
            if os.path.isdir(dest_path):
                existing = self.coursedir.get_existing_timestamp(dest_path)
                newer = existing is None or rec["timestamp"] > existing
                changed = existing != rec["timestamp"]
                if not ((self.update and newer) or (self.before_duedate and changed)):
                    self.log.info("No newer submission to collect: %s %s", student_id,
                                  self.coursedir.assignment_id)
                    continue
                self.log.info("Updating submission: %s %s", student_id,
                              self.coursedir.assignment_id)
                old = f"{dest_path}.old"
                os.rename(dest_path, old)
                self._copy(src_path, dest_path, rec)
                shutil.rmtree(old)
            else:
                self.log.info("Collecting submission: %s %s", student_id,
                              self.coursedir.assignment_id)
                self._copy(src_path, dest_path, rec)

    def _copy(self, src_path: str, dest_path: str, rec: Collected) -> None:
        left_out = safe_copy(src_path, dest_path, rec["uid"])
        if left_out:
            self.log.warning("%s: not collected (links, unreadable, other owners or special "
                             "files): %s", rec["filename"], ", ".join(left_out))
        claimed = os.path.join(dest_path, TIMESTAMP)
        if os.path.isfile(claimed):
            os.replace(claimed, os.path.join(dest_path, "timestamp_claimed_by_student.txt"))
        with open(claimed, "w") as f:
            f.write(utc_text(rec["seconds"]))


class OwnedReleaseAssignment(ExchangeReleaseAssignment):
    """nbgrader's release, with `inbound/` sticky: only a folder's owner may rename or delete it."""

    def init_dest(self):
        super().init_dest()
        mode = os.stat(self.inbound_path).st_mode
        if not mode & stat.S_ISVTX:
            try:
                os.chmod(self.inbound_path, stat.S_IMODE(mode) | stat.S_ISVTX)
            except PermissionError:
                self.log.warning("Could not make %s sticky (it belongs to someone else)",
                                 self.inbound_path)


class PrivateSubmit(ExchangeSubmit):
    """nbgrader's submit, leaving the folder in `inbound/` to its owner and the instructor."""

    def copy_files(self):
        super().copy_files()
        dest = os.path.join(self.inbound_path, self.assignment_filename)
        try:
            instructor_gid = pwd.getpwuid(os.stat(self.inbound_path).st_uid).pw_gid
        except KeyError:
            instructor_gid = None
        for dirpath, _, filenames in os.walk(dest):
            # Folders made in inbound/ (setgid) belong to the instructor's group: 0750 keeps
            # everyone else out of them, whatever the files' own modes.
            shared = os.stat(dirpath).st_gid == instructor_gid
            os.chmod(dirpath, 0o750 if shared else 0o755)
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), 0o644)
