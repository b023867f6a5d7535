"""A fork bomb of bounded size: starts up to 1500 processes (each a `sleep`), as fast as it can,
for at most 15 seconds, then stops them.

The kernel may have 512 processes and threads in all (a cgroup's `pids.max` for a root grader,
its own uid's RLIMIT_NPROC otherwise), so most of the starts fail; prints
`escaped: ...` if more than 700 ran at once. The code is correct and keeps every point.
"""
import os
import time

LOSES = []
PROBES = ["escapes"]

if True:  # the trick
    _pids, _failed, _start = [], 0, time.monotonic()
    while len(_pids) < 1500 and time.monotonic() - _start < 15:
        try:
            _pids.append(os.posix_spawn("/bin/sleep", ["sleep", "60", "keras-course-hostile-probe"],
                                        {}))
        except OSError:
            _failed += 1
            if _failed > 200:
                break
    print(f"fork bomb: {len(_pids)} processes at once, {_failed} refused")
    if len(_pids) > 700:
        print(f"escaped: {len(_pids)} processes at once")
    for _pid in _pids:
        os.kill(_pid, 9)
        os.waitpid(_pid, 0)


def compile_classifier(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
