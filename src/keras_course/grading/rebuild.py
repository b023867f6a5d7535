"""The grader's own copy of each student model: asked of the rebuild service, then described.

What a kernel records about a model (its `to_json()`) is only a claim: student code produced it
and the kernel's display machinery carried it. The grader therefore decides on a model it
rebuilds itself, in a process where no student code ever ran: the rebuild service
(`rebuild_service.py`, which refuses what is not Keras's own, rebuilds in safe mode and probes
the rebuilt model's behaviour).

This is the grader's side: one service per grading process, started once (it imports Keras
while the grader does other work) and restarted once per request if it dies, or, for the local
workers of one run, one service they all connect to (`SharedRebuildService`); answers cached by
the recorded JSON (a notebook asks for the same model in several test cells); and
`describe_recorded`, the description the checks decide on. A refused or failed rebuild becomes
a description without a graph, with a note saying why (`refusal_message`).
"""
from __future__ import annotations

import atexit
import contextlib
import copy
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import TYPE_CHECKING, Any

from .. import messages
from ..coursedir import QUIET_TF_ENV
from .frames import MAX_FRAME, read_frame, write_frame
from .rebuild_service import WALL_LIMIT

if TYPE_CHECKING:  # functions here import describe when they run; this is for annotations
    from ..describe import Description

#: How long the service may take to import Keras before the grader gives up on it.
START_TIMEOUT = 180.0


def refusal_message(kind: str, class_name: str) -> str:
    """The note a refused or failed rebuild leaves on the description (read by the checks)."""
    return messages.rebuild_refused(kind, class_name)


def _die_with_parent() -> None:
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    os.setpgrp()


class RebuildService:
    """The grader's side: starts the service once, sends recorded JSON, returns answers."""

    def __init__(self, shared: str = "") -> None:
        #: the Unix socket of the service this run's workers share (`SharedRebuildService`),
        #: or "" for a service of this process's own
        self.shared = shared
        self.sock: socket.socket | None = None
        self.proc: subprocess.Popen | None = None
        self.ready = False
        self.cache: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.failures = 0
        self.started_at = 0.0
        self.start_seconds: float | None = None

    def start(self) -> None:
        """Connect to the run's shared service, or start this process's own now (it imports
        Keras while the grader does other work). A shared service that is gone is not asked
        again: this process starts its own."""
        if self.sock is not None or (self.proc is not None and self.proc.poll() is None):
            return
        self.started_at = time.monotonic()
        self.ready = False
        if self.shared:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.shared)
                self.sock = sock
                return
            except OSError:
                sock.close()
                self.shared = ""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "keras_course.grading.rebuild_service"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=service_env(), cwd=tempfile.gettempdir(), preexec_fn=_die_with_parent)

    def _fds(self) -> tuple[int, int]:
        """The descriptors answers are read from and requests written to."""
        if self.sock is not None:
            return self.sock.fileno(), self.sock.fileno()
        assert self.proc is not None and self.proc.stdin is not None  # started (`start`)
        assert self.proc.stdout is not None
        return self.proc.stdout.fileno(), self.proc.stdin.fileno()

    def stop(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()  # the shared service's fork for this process exits
        proc, self.proc, self.ready = self.proc, None, False
        if proc is None:
            return
        with contextlib.suppress(OSError):
            if proc.stdin is not None:  # always a pipe (`start`)
                proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(OSError):
            if proc.stdout is not None:
                proc.stdout.close()

    def _ask(self, texts: list[str]) -> list[dict]:
        self.start()
        answers_fd, requests_fd = self._fds()
        if not self.ready:
            json.loads(read_frame(answers_fd, self.started_at + START_TIMEOUT))
            self.ready = True
            self.start_seconds = round(time.monotonic() - self.started_at, 3)
        write_frame(requests_fd, json.dumps(texts).encode())
        answers = json.loads(read_frame(answers_fd, time.monotonic()
                                         + (len(texts) + 1) * (WALL_LIMIT + 5)))
        if not isinstance(answers, list) or len(answers) != len(texts):
            raise ValueError("answers do not match the request")
        return [a if isinstance(a, dict) else {"ok": False, "kind": "service"} for a in answers]

    def prefetch(self, texts: list[str]) -> None:
        """Rebuild every text not yet known, in one request (a notebook's models at once)."""
        with self.lock:
            todo = list(dict.fromkeys(t for t in texts if self._key(t) not in self.cache))
            while len(todo) > 1 and (len(todo) > 32 or sum(map(len, todo)) > MAX_FRAME // 4):
                self.prefetch_locked(todo[len(todo) // 2:])  # a request stays small
                todo = todo[:len(todo) // 2]
            self.prefetch_locked(todo)

    def prefetch_locked(self, todo: list[str]) -> None:
        if not todo:
            return
        for attempt in range(2):  # a service that died is started again, once per request
            try:
                answers = self._ask(todo)
                self.failures = 0
                break
            except (OSError, EOFError, TimeoutError, ValueError, AssertionError):
                self.failures += 1
                self.stop()
                if attempt:
                    return
        for text, answer in zip(todo, answers):
            self.cache[self._key(text)] = answer

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()

    def rebuild(self, text: str) -> dict:
        """The service's answer for one recorded JSON (cached); a broken service is restarted
        once, after which every answer says the grader could not rebuild."""
        self.prefetch([text])
        return self.cache.get(self._key(text), {"ok": False, "kind": "service", "class_name": ""})


_SERVICE: RebuildService | None = None
#: The socket of the service this process's run shares (`use_shared_service`), if any.
_SHARED = ""


def service() -> RebuildService:
    """This process's rebuild service (one per grading process, stopped when it exits): a
    connection to the run's shared service, or a service of its own."""
    global _SERVICE
    if _SERVICE is None:
        _SERVICE = RebuildService(_SHARED)
        atexit.register(_SERVICE.stop)
    return _SERVICE


def use_shared_service(path: str) -> None:
    """Ask the run's shared service at the Unix socket `path` (before the first request)."""
    global _SHARED
    _SHARED = path


def service_env() -> dict[str, str]:
    """The service's environment: what Python needs, TensorFlow quiet, on one thread."""
    env = {key: value for key, value in os.environ.items()
           if key in ("PATH", "HOME", "LANG", "LC_ALL", "VIRTUAL_ENV", "PYTHONPATH")}
    env.update({**QUIET_TF_ENV, "CUDA_VISIBLE_DEVICES": "", "PYTHONSAFEPATH": "1",
                "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1",
                "TF_NUM_INTEROP_THREADS": "1", "KERAS_BACKEND": "tensorflow"})
    return env


class SharedRebuildService:
    """One rebuild service for every local worker of a run: Keras imported once, not once per
    worker. Its socket lives in a folder only the grader can enter; each worker's connection
    is answered by a fork of its own (`rebuild_service.serve_shared`)."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="keras-course-rebuild-")  # mode 0700
        self.path = os.path.join(self.folder, "service.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(self.path)
            listener.listen(64)
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "keras_course.grading.rebuild_service", "--listen",
                 str(listener.fileno())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=[listener.fileno()], env=service_env(), cwd=tempfile.gettempdir(),
                preexec_fn=_die_with_parent)
        finally:
            listener.close()  # the service holds it; workers connect by its path

    def stop(self) -> None:
        """Stop the service (a worker still connected has its own fork, which ends with it)."""
        with contextlib.suppress(OSError):
            self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def recorded_models(records: list[dict]) -> list[str]:
    """The recorded JSON of every model in a cell's records (what `describe_recorded` rebuilds)."""
    texts = []
    for record in records:
        result = record.get("result") if isinstance(record, dict) else None
        evidence = result.get("evidence") if isinstance(result, dict) else None
        if (isinstance(result, dict) and result.get("type") == "model"
                and isinstance(evidence, dict) and isinstance(evidence.get("json"), str)):
            texts.append(evidence["json"])
    return texts


def describe_recorded(evidence: Any) -> Description:
    """The description the grader decides on: of the model it rebuilt from `evidence`.

    The compile settings are plain names the checks compare; they come from the evidence.
    A model that could not be rebuilt is described without a graph, with a note saying why.
    """
    from ..describe import _api, _empty, describe_compile
    from ..errors import NotAModelError

    if not isinstance(evidence, dict):
        raise NotAModelError(messages.not_evidence())
    text = evidence.get("json")
    class_name = str(evidence.get("class_name") or "Model")
    compile_config = evidence.get("compile")
    if not isinstance(text, str):
        description = _empty(class_name, bool(evidence.get("built")), messages.NO_JSON_NOTE)
        description["compile"] = describe_compile(compile_config)
        return description
    answer = service().rebuild(text)
    if answer.get("ok") and isinstance(answer.get("description"), dict):
        description = copy.deepcopy(answer["description"])  # the cache keeps its own
    else:
        try:
            spec = json.loads(text)
            module, recorded = spec.get("module"), spec.get("class_name")
        except (ValueError, AttributeError, RecursionError):
            module = recorded = None
        # the API is Keras's own model class, or a class of the student's (a subclass)
        keras_class = isinstance(module, str) and (module == "keras" or module.startswith(
            "keras.")) and spec.get("registered_name") in (None, recorded)
        class_name = recorded if isinstance(recorded, str) and keras_class else "Model"
        description = _empty(class_name, False, refusal_message(
            str(answer.get("kind")), str(answer.get("class_name") or "")))
        description["api"] = _api(class_name)
        description["refused"] = str(answer.get("kind"))
    if not compile_config:
        try:
            compile_config = json.loads(text).get("compile_config")
        except (ValueError, AttributeError, RecursionError):
            compile_config = None
    description["compile"] = describe_compile(compile_config)
    return description
