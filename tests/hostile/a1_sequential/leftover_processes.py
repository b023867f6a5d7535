"""Starts children that try to outlive the kernel: plain, in a new session, and double-forked.

Each waits for the kernel to be gone, then leaves a note `outlived-N.txt` in the submission
folder; each gives up after two minutes, with `keras-course-hostile-probe` in its command line
all along. The code is correct, so it keeps every point; none of those processes may survive
the notebook.
"""
import os
import subprocess
import sys

LOSES = []
PROBES = ["outlives"]

if True:  # the trick
    _wait = ("import os, sys, time\n"
             "kernel, note = int(sys.argv[1]), sys.argv[2]\n"
             "for _ in range(240):\n"
             "    try:\n"
             "        os.kill(kernel, 0)\n"
             "    except OSError:\n"
             "        open(note, 'w').write('outlived the kernel')\n"
             "        break\n"
             "    time.sleep(0.5)\n")
    for _n, _how in enumerate(([], ["setsid", "--fork"], ["setsid"])):
        _note = os.path.join(os.getcwd(), f"outlived-{_n}.txt")
        subprocess.Popen([*_how, sys.executable, "-c", _wait, str(os.getpid()), _note,
                          "keras-course-hostile-probe"], start_new_session=bool(_how),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)


def compile_classifier(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
