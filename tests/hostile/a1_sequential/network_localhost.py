# ruff: noqa: F821  (`keras`, `layers` and `get_ipython` come from the notebook)
"""Opens a TCP connection to a service on the grading machine's loopback (port 47613) and sends a
message; a grader with a network would let a kernel reach databases, Jupyter servers, or the
internet.
"""
import socket

LOSES = ["test_build_sequential_api", "test_build_sequential_inputs",
         "test_build_sequential_layers", "test_compile_classifier_optimizer",
         "test_compile_classifier_loss", "test_compile_classifier_metrics"]
PROBES = ["network"]

if True:  # the trick
    try:
        with socket.create_connection(("127.0.0.1", 47613), timeout=3) as _s:
            _s.sendall(b"keras-course-hostile-probe\n")
    except OSError as _exc:
        print("no network:", type(_exc).__name__)


def build_sequential(input_dim, num_classes):
    return None


def compile_classifier(model):
    return model
