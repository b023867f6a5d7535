"""How the catalog of hostile and broken submissions fares: plain nbgrader against this course.

    python scripts/tricks_table.py            # both configurations, the table, the timings
    python scripts/tricks_table.py --keep /tmp/tricks   # keep the two graded courses

Grades the catalog of `tests/hostile_catalog.py` (with the honest students) twice, each time in
one batch on a fresh temporary course, with the course's batch runner:

- *stock*: a plain nbgrader configuration (nbgrader's own preprocessors: no sandbox, no
  out-of-kernel verdicts, no repair of damaged cells);
- *course*: this course's `nbgrader_config.py`.

It prints, for each entry, what happened under each configuration, the number of tricks that
got something (points they should not earn, or a side effect: the gradebook, source/, another
student's files, the network, a process outliving the kernel, hidden tests in feedback, no
memory cap) and of broken or honest submissions that lost points they should keep or were not
graded; then the time to grade one notebook with and without the protections.

Tricks run for real: the stock run lets them write in its temporary course, hold 6 GB for a
moment, and leave processes that end by themselves within two minutes.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import hostile_catalog as hc  # noqa: E402


def outcome(case: hc.Case, verdict: dict) -> tuple[str, str]:
    """(what happened, how to count it: "got" | "mishandled" | "ok")."""
    top = sum(hc.max_points().values())
    if verdict["side_effects"]:
        text = "; ".join(verdict["side_effects"])
        if verdict["undeserved"] and case.probes != ["memory"]:  # a cap costs those points
            text = f"earned {verdict['undeserved']:g} undeserved; " + text
        return text, "got"
    if verdict["undeserved"]:
        return (f"earned {verdict['undeserved']:g} undeserved points "
                f"({verdict['earned']:g}/{top:g})"), "got"
    if case.outcome == "fails":
        if verdict["failed"]:
            return f"not gradeable, reported: {verdict['reason'][:70]}", "ok"
        return f"graded {verdict['earned']:g}/{top:g}", "ok"
    if verdict["failed"]:
        return f"submission failed: {verdict['reason'][:70]}", "mishandled"
    if not verdict["graded"]:
        return "not graded", "mishandled"
    if verdict["honest_lost"]:
        return (f"lost {verdict['honest_lost']:g} points it should keep "
                f"({verdict['earned']:g}/{top:g})"), "mishandled"
    return f"as expected ({verdict['earned']:g}/{top:g})", "ok"


def run(mode: str, base: Path, workers: int) -> tuple[hc.BatchResult, list[hc.Case]]:
    cases = hc.honest_cases() + hc.catalog()
    root = hc.make_course(base / mode / "course", stock=mode == "stock")
    print(f"grading {len(cases)} submissions with the {mode} configuration ...", flush=True)
    # stock nbgrader is graded the way an instructor runs it, one `nbgrader autograde` per
    # submission (`make grade` refuses a configuration without the course's protections)
    result = hc.grade_batch(root, cases, workers=workers, settle=12 if mode == "stock" else 3,
                            path="nbgrader autograde" if mode == "stock" else "make grade")
    print(f"  {result.seconds:.0f} s", flush=True)
    return result, cases


def time_per_notebook(base: Path, runs: int) -> dict[str, dict]:
    """Seconds to grade the reference notebook with one `nbgrader autograde` process, for each
    configuration, the runs of the two interleaved so that the machine's load hits both alike."""
    modes = ("stock", "course")
    roots = {m: hc.make_course(base / f"timing-{m}" / "course", stock=m == "stock")
             for m in modes}
    reference = hc.honest_cases()[0]
    seconds: dict[str, list[float]] = {m: [] for m in modes}
    for i in range(runs):
        for mode in modes:
            student = f"t{i}"
            reference.make(roots[mode], student)
            started = time.monotonic()
            proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", hc.ASSIGNMENT,
                                   "--student", student, "--force"], cwd=roots[mode],
                                  env=hc.nbgrader_env(), capture_output=True, text=True,
                                  timeout=900)
            seconds[mode].append(time.monotonic() - started)
            if proc.returncode != 0:
                print(proc.stdout[-2000:] + proc.stderr[-2000:])
    out = {}
    for mode in modes:
        grades = hc.read_grades(roots[mode])
        full = all(grades.get(f"t{i}") and all(s == m for s, m in grades[f"t{i}"].values())
                   for i in range(runs))
        out[mode] = {"median": statistics.median(seconds[mode]), "min": min(seconds[mode]),
                     "full_marks": full}
    return out


def print_timings(base: Path, runs: int) -> None:
    print("time to grade one notebook (the reference), one `nbgrader autograde` at a time:",
          flush=True)
    timings = time_per_notebook(base, runs)
    for mode in ("stock", "course"):
        t = timings[mode]
        print(f"  {mode:6}: median {t['median']:.1f} s, best {t['min']:.1f} s"
              f"{'' if t['full_marks'] else '  (NOT full marks!)'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timing-runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="keep the courses here")
    parser.add_argument("--timing-only", action="store_true",
                        help="only the time per notebook, with and without the protections")
    args = parser.parse_args(argv)
    base = args.keep or Path(tempfile.mkdtemp(prefix="tricks-table-"))
    base.mkdir(parents=True, exist_ok=True)
    snippets = hc.hidden_snippets(hc.source_notebook())
    try:
        if args.timing_only:
            print_timings(base, args.timing_runs)
            return 0
        results = {mode: run(mode, base, args.workers) for mode in ("stock", "course")}
        cases = results["course"][1]
        rows, counts = [], {m: {"got": 0, "mishandled": 0, "ok": 0} for m in results}
        for case in cases:
            cells = []
            for mode in ("stock", "course"):
                text, kind = outcome(case, hc.judge(case, results[mode][0], snippets))
                counts[mode][kind] += case.kind != "honest" or kind != "ok"
                cells.append(text)
            rows.append((case.kind, case.name, *cells))
        width = max(len(r[1]) for r in rows)
        print()
        print(f"{'kind':7} {'entry':{width}}  {'stock nbgrader':58}  this course")
        for kind, name, stock, course in rows:
            print(f"{kind:7} {name:{width}}  {stock[:58]:58}  {course}")
        print()
        tricks = [c for c in cases if c.kind != "honest"]
        for mode in ("stock", "course"):
            c = counts[mode]
            print(f"{mode:6}: {c['got']} of {len(tricks)} entries got something they should "
                  f"not (points or a side effect); {c['mishandled']} submissions lost points "
                  f"they should keep or were not graded")
        for mode in ("stock", "course"):
            result = results[mode][0]
            honest = [result.times[c.student] for c in cases if c.student in result.times]
            if honest:
                print(f"{mode:6}: batch of {len(cases)} in {result.seconds:.0f} s with "
                      f"{args.workers} workers; per submission median "
                      f"{statistics.median(honest):.1f} s")
        print()
        print_timings(base, args.timing_runs)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
