"""Spreads memory over six processes of 512 MB each (3 GB together), each far under the memory
cap of one process, and holds it.

The kernel and everything it starts share one memory cap (a cgroup, 3 GB in the test course, the
kernel itself included) when the grader is root: not all six can hold their memory at once, and
the ones that go are the children (they volunteer for the out-of-memory killer). Prints
`escaped: ...` if all six held it. The code is correct and keeps every point.
"""
import subprocess
import sys
import time

LOSES = []
PROBES = ["escapes"]

if True:  # the trick
    _child = ("import sys, time\n"
              "open('/proc/self/oom_score_adj', 'w').write('1000')\n"
              "b = bytearray(512 * 1024 * 1024)\n"
              "b[::4096] = b'x' * len(range(0, len(b), 4096))\n"
              "print('held', flush=True)\n"
              "time.sleep(10)\n")
    _procs = [subprocess.Popen([sys.executable, "-c", _child, "keras-course-hostile-probe"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               stdin=subprocess.DEVNULL) for _ in range(6)]
    _deadline = time.monotonic() + 12
    _held = 0
    for _p in _procs:
        _line = _p.stdout.readline() if time.monotonic() < _deadline else b""
        _held += _line.startswith(b"held")
    time.sleep(1)
    _alive = sum(_p.poll() is None for _p in _procs)
    print(f"memory spread: {_held} of 6 children got 512 MB, {_alive} still hold it")
    if _alive == 6:
        print("escaped: held 3 GB in six processes")
    for _p in _procs:
        _p.kill()
        _p.wait()


def compile_classifier(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
