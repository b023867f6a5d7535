"""nbgrader configuration of the Keras APIs course (read by every nbgrader command and formgrader)."""
import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "keras-apis"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))

# The gradebook: SQLite next to this file by default, with a busy timeout so that parallel
# grading workers wait for each other's writes instead of failing. A large course sets
# KERAS_COURSE_DB_URL to a PostgreSQL URL (see the README).
c.CourseDirectory.db_url = os.environ.get(
    "KERAS_COURSE_DB_URL",
    "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db") + "?timeout=60",
)

# Keras cells build models and train for a few seconds; 30 s per cell (nbgrader's default) is
# too tight on a busy two-core grader. An endless cell is still interrupted after 120 s, and a
# kernel that ignores the interrupt is killed and the notebook scored as it stands.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
c.Execute.startup_timeout = 120
# nbgrader stops the kernel when a cell's output has not all arrived 4 s after the cell
# finished; a correct cell that floods its output (the kernel then drops messages, the last one
# included) would lose the rest of the notebook. Wait 10 s, then go on: test cells score only
# on the evidence that arrived, so nothing is gained by output that never came.
c.Execute.iopub_timeout = 10
c.Execute.raise_on_iopub_timeout = False

# Student code runs in a sandboxed kernel (keras_course/grading/sandbox.py): bubblewrap shows it
# only the Python environment, the helpers and a throwaway copy of its own folder (never the
# course folder, gradebook, source/, other students, the exchange or a home), with an allowlisted
# environment, no network, its own unprivileged uid when the grader is root, and every process
# dying with the kernel. Processes, memory (a cgroup for a root grader), file sizes, disk (tmpfs
# sizes), CPU, output and the notebook's total time are capped while it runs.
c.SandboxedKernelManager.memory_limit = 8 * 1024**3
c.SandboxedKernelManager.cgroup_memory = 4 * 1024**3
c.SandboxedExecute.notebook_budget = 900

# Damaged notebooks fail only themselves, and lose only what is damaged
# (keras_course/grading/sanitize.py): a copied graded cell keeps its first copy instead of
# stopping the whole run, deleted, retyped or stripped graded cells and tampered metadata are
# restored from the gradebook. Before a submission is graded its old automatic scores become
# zero, so a regrade that fails never leaves the last run's grades standing.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "keras_course.grading.sanitize.KeepFirstIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "keras_course.grading.sanitize.RestoreCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.OverwriteCells.add_missing_cells = True
from keras_course.grading.sanitize import pre_convert_hook  # noqa: E402

c.Autograde.pre_convert_hook = pre_convert_hook(c.CourseDirectory.db_url)

# The points of every test cell are decided outside the student's kernel: right after Execute,
# VerifyEvidence re-runs the instructor's copy of each test cell against the evidence the kernel
# recorded and replaces the cell's outputs with the verdict (keras_course/grading/verify.py).
# That also keeps TensorFlow's log lines on stderr from costing a correct test cell its points.
# Right before Execute, SkipDemoCells marks the instructor's demonstrations that source/ marks
# and no verdict needs (training runs and their plots) so that they do not run; the decision
# comes from source/, never from the submission (keras_course/grading/skip.py).
c.Autograde.autograde_preprocessors = [
    "keras_course.grading.skip.SkipDemoCells",
    "keras_course.grading.execute.SandboxedExecute",
    "keras_course.grading.verify.VerifyEvidence",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "keras_course.grading.late.AssignLatePolicy",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Due dates, the late policy and extensions live in course.toml (keras_course/grading/late.py):
# AssignLatePolicy is nbgrader's AssignLatePenalties after writing the due date and the
# student's extension into the gradebook; the penalty comes from nbgrader's plugin mechanism.
c.AssignLatePenalties.plugin_class = "keras_course.grading.late.CoursePolicy"
c.CoursePolicy.policy_file = os.path.join(c.CourseDirectory.root, "course.toml")
c.AssignLatePolicy.policy_file = os.path.join(c.CourseDirectory.root, "course.toml")
# TensorFlow's and Keras's log lines in other cells are noise in the graded copy and the
# feedback: drop stderr outputs that are only that.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"tensorflow|absl|cuda_|cudart|oneDNN|UserWarning|All log messages before"

# Students' feedback shows each failed check's message but never the hidden test code. Every
# other output is shown, pictures included: the hidden calls reached the kernel only after the
# notebook's last cell had run (`SandboxedExecute.hidden_last`).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "keras_course.grading.feedback.HideHiddenTests",
    # Autograde restores task cells from the gradebook, mark scheme included, so that graders
    # see the rubric in formgrader; students' feedback must not.
    "nbgrader.preprocessors.ClearMarkScheme",
    # at the top: each graded part with its points, each failed check's message, the lateness
    "keras_course.grading.feedback.FeedbackSummary",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.FeedbackSummary.policy_file = os.path.join(c.CourseDirectory.root, "course.toml")
# nbgrader copies every other file of the graded folder into feedback/, and release_feedback hands
# out every *.html there: the kernel wrote that folder, so feedback keeps only its own pages.
from keras_course.grading.feedback import post_convert_hook as _feedback_hook  # noqa: E402

c.GenerateFeedback.post_convert_hook = _feedback_hook(c.CourseDirectory.root)

# Never copy caches, checkpoints or byte code into release/ or back from students.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".DS_Store",
                            "feedback", "*.egg-info"]

# A solution cell students start from.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
