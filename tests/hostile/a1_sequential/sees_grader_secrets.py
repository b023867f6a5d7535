"""Prints every environment variable it can find: its own, its first process's, and
`/proc/*/environ` of every process it can see.

The grader's environment holds a database URL with its password, a JupyterHub API token and a
test secret (`KERAS_COURSE_TEST_SECRET`); none of them may reach the kernel. Prints
`escaped: ...` for each one it sees, so the graded notebook shows what got through. The code is
correct and keeps every point.
"""
import glob
import os

LOSES = []
PROBES = ["escapes"]

if True:  # the trick
    _seen = dict(os.environ)
    for _path in glob.glob("/proc/*/environ"):
        try:
            with open(_path, "rb") as _f:
                for _item in _f.read().split(b"\0"):
                    _key, _, _value = _item.decode(errors="replace").partition("=")
                    _seen.setdefault(_key, _value)
        except OSError:
            pass
    print("environment:", sorted(_seen))
    for _key in ("KERAS_COURSE_DB_URL", "JUPYTERHUB_API_TOKEN", "KERAS_COURSE_TEST_SECRET",
                 "JPY_API_TOKEN", "PGPASSWORD"):
        if _key in _seen:
            print(f"escaped: saw {_key}")
    for _key, _value in _seen.items():
        if "s3cr3t" in _value:
            print(f"escaped: saw the secret value in {_key}")


def compile_classifier(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
