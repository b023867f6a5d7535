"""Notebook set-up: a quiet Keras import, seeding, and short messages for failed checks."""
from __future__ import annotations

import contextlib
import os
import sys
import textwrap
from types import ModuleType

from .coursedir import quiet_tf

#: Width a failed check's message is wrapped to: nbgrader's Validate dialog shows it in a box
#: that does not wrap long lines, and the notebook's error output reads better short.
MESSAGE_WIDTH = 88

#: The versions this course is written and tested against.
KERAS_MAJOR = 3


@contextlib.contextmanager
def _stderr_to_devnull():
    """Send file descriptor 2 to /dev/null for the duration (C++ logs bypass sys.stderr)."""
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (some embedded consoles): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def import_keras() -> ModuleType:
    """Import Keras 3 (on TensorFlow) with TensorFlow's start-up log lines kept off the screen."""
    quiet_tf(os.environ)  # before TensorFlow is imported, or it has printed already
    if "keras" not in sys.modules:
        with _stderr_to_devnull():
            import keras  # noqa: F401
            import tensorflow  # noqa: F401  (its import is what prints the start-up lines)
    import keras

    return keras


def setup_notebook(seed: int = 42) -> ModuleType:
    """Import Keras quietly, seed every random generator, and return the `keras` module."""
    keras = import_keras()
    keras.utils.set_random_seed(seed)
    install_short_tracebacks()
    show_figures_inline()
    return keras


def show_figures_inline() -> None:
    """In IPython with matplotlib's inline backend, show figures as pictures under their cells.

    A kernel that imported the inline backend before its IPython shell existed (the grader's
    forked kernels: `keras_course.grading.forkserver` preloads matplotlib) never registered
    the PNG formatter, so the graded notebook and the feedback showed `<Figure size ...>` text
    instead of the student's plots. Registering it again is harmless.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    import matplotlib

    backend = matplotlib.get_backend()
    if "inline" not in backend:  # a backend the user chose: leave it
        return
    from matplotlib_inline.backend_inline import configure_inline_support

    configure_inline_support(shell, backend)


def install_short_tracebacks() -> None:
    """In IPython, show a failed course check as its message, not a traceback into the library."""
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to install
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "_keras_course_short_tracebacks", False):
        return
    from .errors import CourseCheckError

    def show_check_failure(shell, etype, value, tb, tb_offset=None):
        shell._showtraceback(etype, value, short_traceback(value))

    shell.set_custom_exc((CourseCheckError,), show_check_failure)
    shell._keras_course_short_tracebacks = True


def short_traceback(error: BaseException) -> list[str]:
    """What a failed course check shows: `NotBuiltError: <message>`, wrapped, and nothing else.

    No frames from the helper package and no colour codes: the message already says what was
    checked, what was found and what to do. nbgrader's Validate shows these lines as they are.
    """
    text = f"{type(error).__name__}: {error}"
    lines = []
    for paragraph in text.splitlines() or [""]:
        lines += textwrap.wrap(paragraph, width=MESSAGE_WIDTH, break_long_words=False,
                               break_on_hyphens=False) or [""]
    return lines
