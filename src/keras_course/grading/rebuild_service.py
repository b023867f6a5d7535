"""Inside the rebuild service: a recorded model refused, or rebuilt by Keras and described.

This module runs in the rebuild service, a process where no student code ever ran, started by the
grader's side (`rebuild.py`) as `python -m keras_course.grading.rebuild_service`. It imports
nothing of the package but the description (`describe`, `graph`) and the framing (`frames`):

- the recorded configuration is read as data and refused, before Keras sees it, when any object
  in it is not one of Keras's own (a module outside `keras`, a registered custom name, a
  `Lambda`): the answer names the kind of refusal, which the grader turns into a reason;
- Keras's deserializer rebuilds it in safe mode (`deserialize_keras_object(...,
  safe_mode=True)`), with fresh weights;
- the description is taken from the rebuilt model: its graph from Keras's own re-serialisation,
  parameter counts from `count_params()`, input and output shapes from its tensors;
- behaviour confirms what the graph claims, with every weight drawn again at random (so that an
  honest student's zero initialiser cannot look like a dead branch): which inputs move each
  output, and whether each skip connection still carries its input when the block it goes
  around is switched off (its weights set to zero).

The service imports Keras once (about 4 s) and then forks once per request. Each fork runs under
an address-space, CPU-time and wall-clock limit, so a hostile configuration (a `Dense(10**9)`,
deep nesting) costs only its own checks: the grader gets a reason back, never a crash.

The workers of one `make grade` run share one service (`serve_shared`): each connects to it
and is answered by a fork of its own, so Keras is imported once per run, not once per worker.

Wire format, on the service's stdin and stdout (a shared service's: on each worker's
connection): length-prefixed frames (`frames.py`). The service first sends `{"ready": true}`;
then each request is a JSON list of recorded JSON texts, and each answer a JSON list with one
answer per text, `{"ok": true, "description": ...}` or `{"ok": false, "kind": ...,
"class_name": ...}`.
"""
from __future__ import annotations

import contextlib
import gc
import json
import os
import resource
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING, Any

from .frames import read_frame, write_frame

if TYPE_CHECKING:  # functions here import describe when they run; this is for annotations
    from ..describe import Description

#: Classes refused even though Keras ships them: they run arbitrary Python or foreign code.
REFUSED_CLASSES = frozenset({
    "Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer", "__lambda__",
})

#: Largest configuration walked (objects), and deepest nesting (a contract model: ~200, ~10).
MAX_OBJECTS, MAX_DEPTH = 100_000, 64

#: Limits of one rebuild: address space above the server's own, CPU seconds, wall seconds.
MEMORY_LIMIT = 1536 * 1024**2
CPU_LIMIT = 20
WALL_LIMIT = 30.0


# --------------------------------------------------------------------------- refusing


def refusal(spec: Any) -> tuple[str, str] | None:
    """Why a recorded configuration must not reach Keras's deserializer, or None.

    Returns (kind, class name): kind is "lambda", "custom", "foreign" (not Keras at all) or
    "shape" (too large or too deep to be a course model). Pure: it never imports Keras.
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
        return ("shape", "")
    stack: list[tuple[Any, int]] = [(spec, 0)]
    seen = 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if seen > MAX_OBJECTS or depth > MAX_DEPTH:
            return ("shape", "")
        if isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
            continue
        if not isinstance(value, dict):
            continue
        class_name = value.get("class_name")
        if class_name in REFUSED_CLASSES:
            return ("lambda" if class_name in ("Lambda", "__lambda__") else "foreign",
                    str(class_name))
        if _named_function(value):  # `activation=tf.nn.relu`: by name, rewritten later
            continue
        if "module" in value or "registered_name" in value:
            module, registered = value.get("module"), value.get("registered_name")
            if not isinstance(module, str) or not (module == "keras"
                                                   or module.startswith("keras.")):
                return ("custom", str(class_name))
            if registered not in (None, class_name, "function"):
                return ("custom", str(class_name))
        stack.extend((item, depth + 1) for item in value.values())
    return None


def _named_function(value: dict) -> bool:
    """A function Keras serialised by its name only (`tf.nn.softmax` -> `softmax_v2`)."""
    return (value.get("class_name") == "function" and value.get("module") == "builtins"
            and value.get("registered_name") == "function" and isinstance(value.get("config"), str)
            and set(value) <= {"module", "class_name", "config", "registered_name"})


def _functions_by_name(value: Any, known: Any) -> Any:
    """`value` with every function named by a string replaced by Keras's own activation of
    that name; raises LookupError with the name when Keras has none."""
    from ..describe import normalise_activation

    if isinstance(value, list):
        return [_functions_by_name(item, known) for item in value]
    if not isinstance(value, dict):
        return value
    if _named_function(value):
        name = normalise_activation(value)
        if not known(name):
            raise LookupError(str(value.get("config")))
        return name
    return {key: _functions_by_name(item, known) for key, item in value.items()}


# --------------------------------------------------------------------------- in the clean process


def _rerandomise(model: Any, seed: int = 0) -> None:
    """Draw every trainable weight again (kernels scaled by their fan-in), so that an honest
    zero initialiser is not taken for a dead branch; then apply each weight's constraint, as
    training would after its first step. Frozen weights keep what their initialisers gave:
    they never change in training, so a frozen layer that starts at zero stays dead."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for variable in model.weights:
        if not getattr(variable, "trainable", True):
            continue
        shape = tuple(int(d) for d in variable.shape)
        path = str(getattr(variable, "path", getattr(variable, "name", "")))
        if "variance" in path:
            value = rng.uniform(0.5, 1.5, size=shape)
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape[:-1])) or 1
            value = rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=shape)
        else:
            value = rng.normal(0.0, 0.3, size=shape)
        variable.assign(value.astype(str(variable.dtype)) if shape else value)
        constraint = getattr(variable, "constraint", None)
        if constraint is not None:
            variable.assign(constraint(variable))


def _samples(model: Any, rng: Any) -> list:
    arrays = []
    for tensor in model.inputs:
        shape = [4] + [3 if d is None else int(d) for d in tuple(tensor.shape)[1:]]
        if "int" in str(tensor.dtype):
            arrays.append(rng.integers(0, 2, size=shape).astype(str(tensor.dtype)))
        else:
            arrays.append(rng.normal(size=shape).astype("float32"))
    return arrays


def _run(flat: Any, arrays: list) -> list:
    import keras
    import numpy as np

    out = flat(arrays, training=False)
    out = out if isinstance(out, (list, tuple)) else [out]
    return [np.asarray(keras.ops.convert_to_numpy(o), dtype="float64") for o in out]


def _moved(before: list, after: list) -> list[bool]:
    import numpy as np

    return [bool(np.max(np.abs(a - b), initial=0.0) > 1e-6 * (1.0 + np.max(np.abs(b),
                                                                             initial=0.0)))
            for a, b in zip(after, before)]


def _layer_at(model: Any, path: str) -> Any:
    """The layer object at `outer/inner/...` (the description's object paths)."""
    layer = model
    for part in path.split("/"):
        layer = layer.get_layer(part)
    return layer


def behaviour(model: Any, description: Description) -> dict:
    """What the rebuilt model does: which inputs move each output; which skips carry."""
    import keras
    import numpy as np

    from .. import graph as g

    if not getattr(model, "inputs", None) or not description.get("inputs"):
        return {}
    _rerandomise(model)
    flat = keras.Model(model.inputs, model.outputs)
    rng = np.random.default_rng(1)
    base = _samples(model, rng)
    other = _samples(model, rng)
    before = _run(flat, base)
    in_names = [item["name"] for item in description["inputs"]]
    out_names = [item["name"] for item in description.get("outputs") or []]
    moves: dict[str, list[str]] = {name: [] for name in out_names}
    if len(in_names) == len(base) and len(out_names) == len(before):
        for position, name in enumerate(in_names):
            changed = list(base)
            changed[position] = other[position]
            for out_name, moved in zip(out_names, _moved(before, _run(flat, changed))):
                if moved:
                    moves[out_name].append(name)
    skips = []
    graph = g.to_digraph(description)
    for merge, _h, _y, block in g.skips(graph):
        objects = list(dict.fromkeys(graph.nodes[n].get("layer") for n in block))
        saved = []
        try:
            for path in objects:
                layer = _layer_at(model, str(path))
                saved.append((layer, layer.get_weights()))
                layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
            carries = any(_moved(_run(flat, base), _run(flat, other)))
        except (ValueError, KeyError, AttributeError):
            carries = None
        finally:
            for layer, weights in saved:
                layer.set_weights(weights)
        skips.append({"merge": merge, "block": list(block), "carries": carries})
    return {"moves": moves, "skips": skips}


def keras_facts(model: Any, description: Description) -> None:
    """Shapes and parameter counts from Keras itself, written into `description`."""
    def shape(tensor: Any) -> list:
        return [None if d is None else int(d) for d in tuple(tensor.shape)]

    inputs = list(getattr(model, "inputs", None) or [])
    if inputs and len(inputs) == len(description["inputs"]):
        for item, tensor in zip(description["inputs"], inputs):
            item["shape"] = shape(tensor)
    outputs = list(getattr(model, "outputs", None) or []) if inputs else []
    if outputs and len(outputs) == len(description["outputs"]):
        for out, tensor in zip(description["outputs"], outputs):
            out["shape"] = shape(tensor)
    if not inputs:
        return
    description["params"] = int(model.count_params())
    for entry in description.get("layers") or []:
        try:
            layer = model.get_layer(entry["name"])
            entry["params"] = int(layer.count_params()) if layer.built else 0
        except (ValueError, AttributeError):
            continue


def rebuild_and_describe(text: str) -> dict:
    """Rebuild a recorded model with Keras's deserializer in safe mode and describe it.

    Runs only in the rebuild service's forks (it imports Keras). Returns
    `{"ok": True, "description": ...}` or `{"ok": False, "kind": ..., "class_name": ...}`.
    """
    try:
        spec = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return {"ok": False, "kind": "unreadable", "class_name": ""}
    refused = refusal(spec)
    if refused is not None:
        return {"ok": False, "kind": refused[0], "class_name": refused[1]}
    import keras

    from ..describe import describe_json

    def known(name: str) -> bool:
        try:
            return callable(keras.activations.get(name))
        except (ValueError, TypeError):
            return False

    spec = {key: value for key, value in spec.items() if key != "compile_config"}
    try:
        spec = _functions_by_name(spec, known)
    except LookupError as exc:
        return {"ok": False, "kind": "custom", "class_name": str(exc.args[0])[:80]}
    try:
        model = keras.saving.deserialize_keras_object(spec, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - whatever Keras refused, the answer is the same
        return {"ok": False, "kind": "rebuild", "class_name": "", "detail": repr(exc)[:300]}
    if not isinstance(model, keras.Model) or type(model).__module__.split(".")[0] != "keras":
        return {"ok": False, "kind": "custom", "class_name": type(model).__name__}
    description = describe_json(model.to_json())
    keras_facts(model, description)
    try:
        description["behaviour"] = behaviour(model, description)
    except Exception as exc:  # noqa: BLE001 - a model that cannot run fails the behaviour checks
        description["behaviour"] = {"error": repr(exc)[:300]}
    description["rebuilt"] = True
    return {"ok": True, "description": description}


# --------------------------------------------------------------------------- the service


def _address_space() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _in_fork(texts: list[str]) -> list[dict] | dict:
    """Fork, rebuild `texts` one after another under limits in the child, and read its answers;
    a dict saying why when the child gave none (memory, time, crash)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: limits first, then Keras
        try:
            os.close(read_end)
            limit = _address_space() + MEMORY_LIMIT
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT, CPU_LIMIT))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
            results: list[dict] = []
            for text in texts:
                started = time.monotonic()
                try:
                    answer = rebuild_and_describe(text)
                except MemoryError:
                    answer = {"ok": False, "kind": "memory", "class_name": ""}
                except Exception as exc:  # noqa: BLE001 - this model fails, the others not
                    answer = {"ok": False, "kind": "rebuild", "class_name": "",
                              "detail": repr(exc)[:300]}
                answer["seconds"] = round(time.monotonic() - started, 3)
                results.append(answer)
            write_frame(write_end, json.dumps(results).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    answers: list[dict] | dict | None
    try:
        answers = json.loads(read_frame(read_end, time.monotonic() + WALL_LIMIT))
    except TimeoutError:
        answers = {"ok": False, "kind": "timeout", "class_name": ""}
    except (EOFError, ValueError, OSError):
        answers = None
    finally:
        os.close(read_end)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if answers is None:
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU,
                                                                     signal.SIGKILL)
        answers = {"ok": False, "kind": "timeout" if killed else "memory", "class_name": ""}
    if isinstance(answers, list) and len(answers) != len(texts):
        answers = {"ok": False, "kind": "memory", "class_name": ""}
    return answers


def rebuild_many(texts: list[str]) -> list[dict]:
    """Every text rebuilt in one fork (a notebook's models: Keras warms up once); when that
    fork fails, each text again in a fork of its own, so a hostile one costs only itself."""
    answers = _in_fork(texts)
    if isinstance(answers, list):
        return answers
    if len(texts) == 1:
        return [answers]
    out = []
    for text in texts:
        single = _in_fork([text])
        out.append(single[0] if isinstance(single, list) else single)
    return out


def _preload() -> None:
    """Import Keras and the description once, out of the garbage collector's sight."""
    import keras  # noqa: F401 - imported once here, shared by every fork
    import numpy  # noqa: F401

    from .. import describe, graph  # noqa: F401

    gc.collect()  # Keras lives as long as the service: no fork's collection walks (copies) it
    gc.freeze()


def _answer(stdin_fd: int, stdout_fd: int) -> None:
    """Say the service is ready, then answer requests on these descriptors until EOF, and exit
    without the interpreter's and TensorFlow's clean-up (about half a second that the grader's
    own exit would wait for)."""
    write_frame(stdout_fd, b'{"ready": true}')
    while True:
        try:
            texts = json.loads(read_frame(stdin_fd))
        except (EOFError, OSError, ValueError):
            os._exit(0)
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            texts = []
        write_frame(stdout_fd, json.dumps(rebuild_many(texts) if texts else []).encode())


def _quiet() -> None:
    """Standard input and output to /dev/null: nothing Keras or TensorFlow prints can mix into
    an answer."""
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    if null > 1:
        os.close(null)


def serve(stdin_fd: int = 0, stdout_fd: int = 1) -> None:
    """One grader's service: import Keras once, then fork per request, until EOF.

    A request is a JSON list of recorded JSON texts; the answer a list of answers. The frames
    travel on copies of stdin and stdout; the standard descriptors themselves point at
    /dev/null."""
    stdin_fd, stdout_fd = os.dup(stdin_fd), os.dup(stdout_fd)
    _quiet()
    _preload()
    _answer(stdin_fd, stdout_fd)


def serve_shared(listen_fd: int) -> None:
    """The service of every grading worker of a run (`rebuild.SharedRebuildService`): import
    Keras once, then accept one connection per worker on the listening Unix socket `listen_fd`
    and answer each in a fork of its own, as `serve` answers one grader."""
    _quiet()
    _preload()
    listener = socket.socket(fileno=listen_fd)
    while True:
        while True:  # the forks of workers that have gone
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        try:
            conn, _ = listener.accept()
        except InterruptedError:
            continue
        except OSError:
            os._exit(0)
        pid = os.fork()
        if pid == 0:
            try:
                listener.close()
                fd = conn.detach()
                _answer(fd, fd)
            finally:
                os._exit(0)
        conn.close()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--listen":
        serve_shared(int(sys.argv[2]))
    else:
        serve()
