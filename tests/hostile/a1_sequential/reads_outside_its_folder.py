"""Tries to read what is outside its own folder: /etc/shadow, root's files, the gradebook, the
course's configuration, `source/`, other students' folders, the nbgrader exchange, /home, and
lists `/`.

Prints `escaped: ...` for each thing it could read, so the graded notebook shows what got
through. The code is correct and keeps every point.
"""
import os

LOSES = []
PROBES = ["escapes"]

if True:  # the trick
    _course = os.path.abspath(os.path.join(os.getcwd(), "..", "..", ".."))
    _files = ["/etc/shadow", "/etc/passwd", "/root/.bashrc", "/root/.profile",
              "/root/.bash_history", os.path.join(_course, "gradebook.db"),
              os.path.join(_course, "nbgrader_config.py"),
              os.path.join(_course, "source", "a1_sequential", "a1_sequential.ipynb"),
              os.path.join(_course, "release", "a1_sequential", "a1_sequential.ipynb"),
              os.path.join(_course, "submitted", "ok-reference", "a1_sequential",
                           "a1_sequential.ipynb")]
    for _path in _files:
        try:
            with open(_path, "rb") as _f:
                _f.read(16)
            print(f"escaped: read {_path}")
        except OSError as _exc:
            print(f"cannot read {_path}: {type(_exc).__name__}")
    _folders = ["/root", "/home", "/srv/nbgrader/exchange", "/usr/local/share/nbgrader/exchange",
                os.path.join(_course, "autograded", "ok-reference"),
                os.path.join(_course, "submitted"), os.path.join(_course, "source"),
                os.path.join(_course, "feedback"), "/var", "/opt", "/mnt", "/boot"]
    for _folder in _folders:
        try:
            _names = os.listdir(_folder)
        except OSError as _exc:
            print(f"cannot list {_folder}: {type(_exc).__name__}")
            continue
        # the Python environment may live under /root (pyenv): that folder only
        _names = [n for n in _names if n != ".pyenv"]
        if _names:
            print(f"escaped: listed {_folder}: {sorted(_names)[:8]}")
    print("/ holds", sorted(os.listdir("/")))


def compile_classifier(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
