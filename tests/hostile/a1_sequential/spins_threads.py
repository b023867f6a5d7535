"""Spins: four processes, each spinning two threads of busy C code, for 8 seconds.

The kernel and what it starts share a CPU quota of one core (a cgroup) when the grader is root,
so the others on the machine keep theirs; prints `escaped: ...` if the spinning got more than
1.6 cores on average. The code is correct and keeps every point.
"""
import os
import subprocess
import sys
import time

LOSES = []
PROBES = ["escapes"]

if True:  # the trick
    _spin = ("import hashlib, threading, time, sys\n"
             "end = time.monotonic() + 8\n"
             "def spin():\n"
             "    data = b'x' * (1 << 20)\n"
             "    while time.monotonic() < end:\n"
             "        hashlib.sha256(data).digest()\n"
             "threads = [threading.Thread(target=spin) for _ in range(2)]\n"
             "[t.start() for t in threads]\n"
             "[t.join() for t in threads]\n")
    _before, _start = os.times(), time.monotonic()
    _procs = [subprocess.Popen([sys.executable, "-c", _spin, "keras-course-hostile-probe"])
              for _ in range(4)]
    for _p in _procs:
        _p.wait()
    _after, _wall = os.times(), time.monotonic() - _start
    _cores = (_after.children_user + _after.children_system - _before.children_user
              - _before.children_system) / _wall
    print(f"spinning: {_cores:.2f} cores on average over {_wall:.1f} s")
    if _cores > 1.6:
        print(f"escaped: spun {_cores:.2f} cores")


def compile_classifier(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
