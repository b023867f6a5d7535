"""Every sentence a person reads, in one place: the model checks' and the grading run's.

One module per kind of sentence: `formatting` (how values are written), the checks' `model`,
`compile`, `quiz` and `hidden`, the `grading` run's, and the course's `commands`. Code imports
the package (`from keras_course import messages`) and reads `messages.NAME`.

Each failed check says what was checked, what was expected and what was found, and one next
step, in one or two sentences. Names go in backticks; layers are counted from 1. Hidden checks
name the concept without the expected values (`hidden`).

The grading run's and the commands' sentences are module-level templates with named fields,
rendered with `TEMPLATE.format(field=...)` where they are used, grouped by who reads them:
students (the record of a test cell's calls, a test cell's verdict, the kernel's run of the
notebook, the feedback summary) and instructors (the kernel's box, why a submission could not
be graded, the commands). Code keeps state as codes and renders these only to show them.
`tests/test_checks.py` reads every template in the form a person reads it and checks its tone.
"""
from .commands import *  # noqa: F403
from .compile import *  # noqa: F403
from .formatting import *  # noqa: F403
from .grading import *  # noqa: F403
from .hidden import *  # noqa: F403
from .model import *  # noqa: F403
from .quiz import *  # noqa: F403
