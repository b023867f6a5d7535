"""`keras-course`: the course's one command-line program (what `make` runs).

    keras-course release                 regenerate release/ from source/
    keras-course demo                    release, a demo class, autograde, feedback, grades CSV
    keras-course grade [--workers N]     autograde what is new or changed in submitted/, then
                                         feedback, grades CSV and the report
    keras-course export                  Canvas and Moodle grade-import CSVs (roster.csv)
    keras-course report                  rewrite reports/index.html from the gradebook
    keras-course lab MODE [JUPYTER ...]  JupyterLab for the instructor or a self-learner
    keras-course hub start|stop|reset    the course on a JupyterHub on this machine (as root)
    keras-course protections install     the environment's guard that refuses to autograde
                                         without the course's protections

`keras-course COMMAND --help` says more about each. The course's commands find the course from
the working directory upwards (`--root` to name it). `python -m keras_course.course COMMAND`,
`python -m keras_course.lab MODE`, `python -m keras_course.report` and
`python -m keras_course.hub COMMAND` run the same commands.

Exit status:
    0  done
    1  the command could not do its work; the reason is printed (no course here, an nbgrader
       step failed, the grading protections are missing, course.toml does not parse...)
    2  the command line is wrong: an unknown command or option (argparse's usage message)
    3  grading finished, but some submissions could not be graded (they are listed, with why;
       the rest were graded and recorded)
"""
from __future__ import annotations

import argparse
import difflib
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import coursedir, messages

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNGRADED = 0, 1, 2, 3

#: The commands that regenerate release/ and grade (they share `--root` and grading options).
COURSE_COMMANDS = ("release", "demo", "grade", "export")


def _root_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=None,
                        help="the course folder (default: found from here upwards)")


def _grading_options(parser: argparse.ArgumentParser, force: bool = True) -> None:
    parser.add_argument("--workers", type=int, default=None,
                        help="parallel grading workers (default: one per core)")
    if force:
        parser.add_argument("--force", action="store_true",
                            help="regrade every submission, not only new or changed ones")
    parser.add_argument("--scheduler", default=None,
                        help="grade on this Dask scheduler (tcp://host:8786) instead of local "
                             "workers (default: $KERAS_COURSE_DASK_SCHEDULER)")


def _course_command(args: argparse.Namespace) -> int:
    """release, demo, grade and export: `course.run_command` prints what it wrote."""
    from . import course

    started = time.monotonic()
    outcome = course.run_command(args.command, coursedir.course_root(args.root),
                                 workers=getattr(args, "workers", None),
                                 force=getattr(args, "force", False),
                                 scheduler=getattr(args, "scheduler", None))
    print(f"{args.command} finished in {time.monotonic() - started:.0f} s")
    if outcome.ungraded:
        print(messages.UNGRADED_SEE_ABOVE.format(count=len(outcome.ungraded)))
        return EXIT_UNGRADED
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from .report import write_report

    print(f"report: {write_report(coursedir.course_root(args.root), args.out)}")
    return EXIT_OK


def _lab(args: argparse.Namespace) -> int:
    from .lab import start_lab

    start_lab(args.mode, coursedir.course_root(args.root), args.jupyter_args)
    return EXIT_OK  # not reached: JupyterLab replaces this process


def _hub(args: argparse.Namespace) -> int:
    from . import hub

    for line in hub.run_command(args.action, port=args.port, name=args.name):
        hub.say(line)
    return EXIT_OK


def _protections(args: argparse.Namespace) -> int:
    from .grading import protections

    if args.action == "install":
        print(f"wrote {protections.install()}")
    else:
        protections.check_course(coursedir.course_root(args.root))
        print(messages.PROTECTIONS_IN_FORCE)
    return EXIT_OK


def build_parser(prog: str = "keras-course") -> argparse.ArgumentParser:
    """The whole command line: one subparser per command, each with its `--help`."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                     title="commands")

    def command(name: str, run: Callable[[argparse.Namespace], int], help: str,
                description: str | None = None) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=description or help)
        sub.set_defaults(run=run)
        return sub

    sub = command("release", _course_command, "regenerate release/ from source/ "
                  "(nbgrader generate_assignment for every assignment)")
    _root_option(sub)
    sub = command("demo", _course_command, "release, write the demo class into submitted/, "
                  "autograde it, then feedback, grades CSV and the report",
                  "Release, write the demo class (demo/class.toml) into submitted/, autograde "
                  "all of it again (as with grade --force), then feedback, the grades CSV and "
                  "the report; prints a table of scores.")
    _root_option(sub)
    _grading_options(sub, force=False)
    sub = command("grade", _course_command, "autograde what is new or changed in submitted/, "
                  "then feedback, grades CSV and the report",
                  "Autograde every new or changed submission in submitted/ in parallel "
                  "workers (an interrupted run resumes), apply course.toml's late policy, then "
                  "write feedback/, grades/grades.csv and reports/index.html. Exit status 3 "
                  "when some submissions could not be graded (they are listed).")
    _root_option(sub)
    _grading_options(sub)
    sub = command("export", _course_command, "write Canvas and Moodle grade-import CSVs to "
                  "grades/ (students mapped through roster.csv)")
    _root_option(sub)
    sub = command("report", _report, "rewrite reports/index.html from the gradebook")
    _root_option(sub)
    sub.add_argument("--out", type=Path, default=None,
                     help="the folder to write to (default: reports/)")
    sub = command("lab", _lab, "JupyterLab on the course (instructor) or on release/ "
                  "(self-learner), on localhost",
                  "JupyterLab on localhost. instructor: the whole course, with formgrader. "
                  "self-learner: release/ with Validate, nothing that needs an instructor. "
                  "Options it does not know go to `jupyter lab` "
                  "(e.g. --no-browser --port=8890).")
    sub.allow_abbrev = False  # `--port` must reach Jupyter, not be taken for another option
    sub.add_argument("mode", choices=["instructor", "self-learner"])
    _root_option(sub)
    sub = command("hub", _hub, "the course on a JupyterHub on this machine (run as root)",
                  "start: set up (each step only when not done yet) and start JupyterHub with "
                  "an instructor, three students and nbgrader's exchange. stop: stop the hub "
                  "and every user's server. reset: stop, then delete the hub's users, homes, "
                  "exchange and state (the environment stays).")
    sub.add_argument("action", choices=["start", "stop", "reset"])
    sub.add_argument("--port", type=int, default=8000, help="where the hub listens "
                     "(127.0.0.1 only; default 8000)")
    sub.add_argument("--name", default="keras-course-hub",
                     help="the hub's name: its state is in /srv/NAME (default keras-course-hub)")
    sub = command("protections", _protections, "install the environment's guard that refuses "
                  "to autograde without the course's protections, or check they are in force")
    sub.add_argument("action", choices=["install", "check"])
    _root_option(sub)
    return parser


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The commands `parser` knows and their parsers, in the order `--help` lists them."""
    for action in parser._actions:  # argparse keeps the subcommands in one such action
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def main(argv: list[str] | None = None, prog: str = "keras-course") -> int:
    """Run one command; returns its exit status (see the module's docstring)."""
    parser = build_parser(prog)
    argv = list(sys.argv[1:] if argv is None else argv)
    known = _commands(parser)
    if argv and not argv[0].startswith("-") and argv[0] not in known:
        near = difflib.get_close_matches(argv[0], known, n=1)
        parser.print_usage(sys.stderr)
        unknown = (messages.DID_YOU_MEAN.format(command=argv[0], near=near[0]) if near
                   else messages.NO_SUCH_COMMAND.format(command=argv[0]))
        commands = messages.COMMANDS_ARE.format(commands=", ".join(known), prog=prog)
        parser.exit(EXIT_USAGE, f"{prog}: error: {unknown} {commands}\n")
    args, rest = parser.parse_known_args(argv)
    if args.command == "lab":
        args.jupyter_args = rest
    elif rest:
        known[args.command].error(messages.UNRECOGNIZED_ARGUMENTS.format(
            arguments=" ".join(rest), prog=prog, command=args.command))
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
