"""Checks: pure functions from a model description (see `describe`) to a `Verdict`."""
from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from . import graph as g
from . import messages
from .describe import normalise_activation, normalise_loss, normalise_optimizer

#: Metrics that all count as "an accuracy metric" (`"accuracy"` resolves to one of them).
ACCURACY_METRICS = frozenset({
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
})

Description = Mapping[str, Any]


@dataclass(frozen=True)
class Verdict:
    """The result of one check: `message` says what failed (empty when it passed)."""

    passed: bool
    check: str
    message: str = ""
    hidden_message: str = ""

    def __bool__(self) -> bool:
        return self.passed

    def text(self, hidden: bool = False) -> str:
        """The message to show: the full one, or (hidden check) the one naming the concept."""
        return self.hidden_message if hidden else self.message


def _pass(check: str) -> Verdict:
    return Verdict(True, check)


def _fail(check: str, message: str) -> Verdict:
    return Verdict(False, check, message, messages.hidden(check))


def _norm_shape(value: Any) -> list | None:
    if value is None:
        return None
    return [None if v is None else int(v) for v in value]


def _same_shape(found: Any, expected: Any) -> bool:
    """`None` in `expected` matches any size (a batch of any size, or one Keras fixed)."""
    found, expected = _norm_shape(found), _norm_shape(expected)
    if found is None or expected is None:
        return found == expected
    if len(expected) == len(found) - 1 and expected and expected[0] is not None:
        found = found[1:]  # written without the batch dimension
    return len(found) == len(expected) and all(
        e is None or f == e for f, e in zip(found, expected))


def _readable(description: Description) -> bool:
    return bool((description.get("graph") or {}).get("nodes"))


def _unreadable(check: str, what: str, description: Description) -> Verdict:
    return _fail(check, messages.graph_unreadable(what, str(description.get("api")),
                                                  description.get("note")))


# --------------------------------------------------------------------------- API and built


def check_api(description: Description, kind: str) -> Verdict:
    """The model was built with `kind`: "sequential", "functional" or "subclass"."""
    expected, found = kind.strip().lower(), description.get("api")
    if found == expected:
        return _pass("api")
    return _fail("api", messages.wrong_api(expected, str(found),
                                           str(description.get("class_name"))))


def check_built(description: Description) -> Verdict:
    """The model is built: it has inputs (a Sequential started with `keras.Input`)."""
    if description.get("built"):
        return _pass("built")
    if description.get("refused"):
        return _unreadable("built", "inputs", description)
    return _fail("built", messages.not_built(str(description.get("api"))))


# --------------------------------------------------------------------------- inputs and outputs


def _names_differ(kind: str, by_name: Mapping[str, Any],
                  expected: Mapping[str, Any]) -> Verdict | None:
    """A failed `inputs`/`outputs` verdict when the names differ from `expected`'s keys."""
    check = f"{kind}s"
    for name in expected:
        if name not in by_name:
            return _fail(check, messages.missing_name(kind, name, list(by_name)))
    extra = [name for name in by_name if name not in expected]
    if extra:
        return _fail(check, messages.extra_name(kind, extra, list(expected)))
    return None


def check_inputs(description: Description,
                 inputs: Sequence[Any] | Mapping[str, Any]) -> Verdict:
    """Inputs: a list of shapes (order matters) or a dict name -> shape (names matter)."""
    found = list(description.get("inputs") or [])
    if not found:
        if not _readable(description):
            return _unreadable("inputs", "inputs", description)
        return _fail("inputs", messages.inputs_not_built())
    if isinstance(inputs, Mapping):
        by_name = {item["name"]: item for item in found}
        failed = _names_differ("input", by_name, inputs)
        if failed is not None:
            return failed
        for name, expected in inputs.items():
            if not _same_shape(by_name[name]["shape"], expected):
                return _fail("inputs", messages.wrong_input_shape(
                    None, name, by_name[name]["shape"], expected))
        return _pass("inputs")
    expected_list = list(inputs)
    if len(found) != len(expected_list):
        return _fail("inputs", messages.wrong_count("input", found, len(expected_list)))
    for position, (item, expected) in enumerate(zip(found, expected_list), start=1):
        if not _same_shape(item["shape"], expected):
            return _fail("inputs", messages.wrong_input_shape(
                position if len(found) > 1 else 0, item["name"], item["shape"], expected))
    return _pass("inputs")


def _output_spec(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, Mapping):
        activation = value.get("activation")
        return value.get("shape"), None if activation is None else normalise_activation(activation)
    return value, None


def _check_one_output(description: Description, position: int | None, item: Mapping[str, Any],
                      expected: Any) -> Verdict | None:
    expected_shape, expected_activation = _output_spec(expected)
    name = item["name"]
    if expected_shape is not None:
        found_shape = item.get("shape")
        if found_shape is None and item.get("units") is not None and not description.get("built"):
            # Unbuilt model: only the last dimension is known (the last layer's units).
            normalised = _norm_shape(expected_shape) if expected_shape else None
            expected_last = normalised[-1] if normalised else None
            if expected_last != item["units"]:
                return _fail("outputs", messages.wrong_output_shape(
                    position, name, ["...", item["units"]], expected_shape))
        elif found_shape is None:
            return _fail("outputs", messages.output_unknown_shape(
                name, bool(description.get("built"))))
        elif not _same_shape(found_shape, expected_shape):
            return _fail("outputs", messages.wrong_output_shape(
                position, name, found_shape, expected_shape))
    if expected_activation is not None and item.get("activation") != expected_activation:
        return _fail("outputs", messages.wrong_output_activation(
            position, name, item.get("activation"), expected_activation))
    return None


def check_outputs(description: Description,
                  outputs: Sequence[Any] | Mapping[str, Any]) -> Verdict:
    """Outputs: a list (order matters) or a dict by name; a value is a shape or
    `{"shape": ..., "activation": ...}`."""
    found = list(description.get("outputs") or [])
    if not found:
        return _unreadable("outputs", "outputs", description)
    if isinstance(outputs, Mapping):
        by_name = {item["name"]: item for item in found}
        failed = _names_differ("output", by_name, outputs)
        if failed is not None:
            return failed
        for name, expected in outputs.items():
            failed = _check_one_output(description, None, by_name[name], expected)
            if failed is not None:
                return failed
        return _pass("outputs")
    expected_list = list(outputs)
    if len(found) != len(expected_list):
        return _fail("outputs", messages.wrong_count("output", found, len(expected_list)))
    for position, (item, expected) in enumerate(zip(found, expected_list), start=1):
        failed = _check_one_output(description, position if len(found) > 1 else 0, item,
                                   expected)
        if failed is not None:
            return failed
    return _pass("outputs")


# --------------------------------------------------------------------------- chains


def _expected_layer(entry: Any) -> g.Signature:
    if isinstance(entry, str):
        entry = (entry,)
    if isinstance(entry, Mapping):
        entry = (entry.get("class_name"), entry.get("units"), entry.get("activation"))
    entry = tuple(entry) + (None,) * (3 - len(entry))
    class_name, units, activation = entry[:3]
    if class_name in ("ReLU", "Softmax", "LeakyReLU", "ELU"):
        activation = activation or {"ReLU": "relu", "Softmax": "softmax", "LeakyReLU":
                                    "leaky_relu", "ELU": "elu"}[class_name]
        class_name = "Activation"
    return (str(class_name), units,
            None if activation is None else normalise_activation(activation))


def _matches(expected: g.Signature, found: g.Signature) -> bool:
    # `_expected_layer` makes `expected[0]` a str; a found layer may lack a class name
    return (str(found[0]).lower() == str(expected[0]).lower()
            and (expected[1] is None or found[1] == expected[1])
            and (expected[2] is None or found[2] == expected[2]))


def _chain_message(graph: nx.DiGraph, path: list[str], expected: list[g.Signature]) -> str:
    found = [g.signature(graph.nodes[n]) for n in path]
    if len(found) == len(expected):  # as many layers as asked: name the first that differs
        for j, (want, got) in enumerate(zip(expected, found)):
            if not _matches(want, got):
                return messages.chain_wrong_layer(j + 1, got, graph.nodes[path[j]]["layer"], want)
    tokens = [next((e for e in expected if _matches(e, f)), f) for f in found]
    opcodes = difflib.SequenceMatcher(None, expected, tokens, autojunk=False).get_opcodes()
    for tag, i1, _i2, j1, _j2 in opcodes:
        if tag == "replace":
            return messages.chain_wrong_layer(j1 + 1, found[j1], graph.nodes[path[j1]]["layer"],
                                              expected[i1])
        if tag == "delete":  # a layer of the task is missing; name the last of a run of twins
            while i1 + 1 < len(expected) and expected[i1 + 1] == expected[i1]:
                i1 += 1
            return messages.chain_missing_layer(i1 + 1, expected[i1], len(found), len(expected))
        if tag == "insert":  # an extra layer; name the last of a run of twins
            while j1 + 1 < len(found) and found[j1 + 1] == found[j1]:
                j1 += 1
            return messages.chain_extra_layer(j1 + 1, found[j1], graph.nodes[path[j1]]["layer"],
                                              len(found), len(expected))
    return messages.chain_missing_layer(len(found) + 1, expected[-1], len(found), len(expected))


def check_chain(description: Description, layers: Sequence[Any],
                output: str | None = None) -> Verdict:
    """Some path from an input to the output is exactly `layers` (class, units, activation),
    after normalisation (fused activations, transparent dropout, nested models inlined)."""
    if not _readable(description):
        return _unreadable("chain", "layers", description)
    expected = [_expected_layer(entry) for entry in layers]
    graph = g.to_digraph(description)
    outs = g.output_nodes(description)
    if output is not None and output not in outs:
        return _fail("chain", messages.no_output(output, list(outs)))
    targets = {output: outs[output]} if output is not None else outs
    starts = g.start_nodes(graph, description)
    candidates: list[list[str]] = []
    moves = _behaviour(description, "moves")
    for name, target in targets.items():
        for path in g.paths(graph, starts, target):
            found = [g.signature(graph.nodes[n]) for n in path]
            if len(found) == len(expected) and all(map(_matches, expected, found)):
                if moves is not None and name in moves and not moves[name]:
                    # the grader's rebuilt model: the right layers, but nothing gets through
                    return _fail("chain", messages.chain_dead(name))
                return _pass("chain")
            candidates.append(path)
    if not candidates:
        return _fail("chain", messages.chain_no_path(output or next(iter(targets), "?")))

    def closeness(path: list[str]) -> float:
        found = [g.signature(graph.nodes[n]) for n in path]
        tokens = [next((e for e in expected if _matches(e, f)), f) for f in found]
        return difflib.SequenceMatcher(None, expected, tokens, autojunk=False).ratio()

    best = max(candidates, key=closeness)
    return _fail("chain", _chain_message(graph, best, expected))


# --------------------------------------------------------------------------- connections


def check_depends(description: Description, output: str, inputs: str | Iterable[str]) -> Verdict:
    """Output `output` depends on every input in `inputs` (a path of layers leads to it)."""
    if not _readable(description):
        return _unreadable("depends", "connections", description)
    wanted = [inputs] if isinstance(inputs, str) else list(inputs)
    graph = g.to_digraph(description)
    ins, outs = g.input_nodes(description), g.output_nodes(description)
    if output not in outs and len(outs) == 1:
        output = next(iter(outs))  # a single misnamed output: the outputs check reports the name
    if output not in outs:
        return _fail("depends", messages.no_output(output, list(outs)))
    for name in wanted:
        if name not in ins:
            return _fail("depends", messages.no_input(name, list(ins)))
        if not nx.has_path(graph, ins[name], outs[output]):
            if graph.out_degree(ins[name]) == 0:
                return _fail("depends", messages.unused_input(name, output))
            return _fail("depends", messages.not_depending(output, name))
    moves = _behaviour(description, "moves")
    if moves is not None:  # the grader's rebuilt model: the output must move with the input
        for name in wanted:
            if name not in (moves.get(output) or []):
                return _fail("depends", messages.ignores_input(output, name))
    return _pass("depends")


def _behaviour(description: Description, fact: str) -> Any:
    """A behaviour fact measured on the grader's rebuilt model (None when not measured).

    A description of a live model (the student's own visible checks) has none; one the grader
    rebuilt has them, and a model that could not run has an error instead, which fails the
    checks that need behaviour."""
    behaviour = description.get("behaviour")
    if not isinstance(behaviour, Mapping):
        return None
    if "error" in behaviour:
        return {}
    return behaviour.get(fact)


def check_merge(description: Description) -> Verdict:
    """Some layer merges two or more branches (Concatenate, Add, ...)."""
    if not _readable(description):
        return _unreadable("merge", "connections", description)
    if g.merges(g.to_digraph(description)):
        return _pass("merge")
    return _fail("merge", messages.no_merge())


def check_skip(description: Description, min_layers: int = 2) -> Verdict:
    """A merge combines some tensor `h` with something computed from `h` through at least
    `min_layers` layers (a skip connection around that block)."""
    if not _readable(description):
        return _unreadable("skip", "connections", description)
    graph = g.to_digraph(description)
    found = g.skips(graph)
    measured = _behaviour(description, "skips")
    if measured is not None:  # the grader's rebuilt model: the skip must carry `h`
        carrying = {(s.get("merge"), tuple(s.get("block") or [])) for s in measured
                    if s.get("carries")}
        dead = [item for item in found if len(item[3]) >= min_layers
                and (item[0], tuple(item[3])) not in carrying]
        found = [item for item in found if (item[0], tuple(item[3])) in carrying]
        if dead and not any(len(block) >= min_layers for *_, block in found):
            return _fail("skip", messages.skip_not_carrying(graph.nodes[dead[0][0]]["layer"]))
    if any(len(block) >= min_layers for *_, block in found):
        return _pass("skip")
    if found:
        merge, _, _, block = max(found, key=lambda item: len(item[3]))
        return _fail("skip", messages.short_skip(
            graph.nodes[merge]["layer"], len(block), [graph.nodes[n]["layer"] for n in block],
            min_layers))
    return _fail("skip", messages.no_skip(min_layers))


def check_shared(description: Description, inputs: Iterable[str], units: int | None = None,
                 activation: str | None = None) -> Verdict:
    """One layer object with weights (or nested model) serves every input in `inputs`: each
    input reaches a call of its own. With `units`/`activation`, its width and activation."""
    if not _readable(description):
        return _unreadable("shared", "shared layers", description)
    wanted = list(inputs)
    graph = g.to_digraph(description)
    ins = g.input_nodes(description)
    for name in wanted:
        if name not in ins:
            return _fail("shared", messages.no_input(name, list(ins)))
    chosen = {name: ins[name] for name in wanted}
    shared = [s for s in (description.get("graph") or {}).get("shared") or [] if s.get("weights")]
    serving = [s for s in shared if not g.serves(graph, s["calls"], chosen)]
    if not serving:
        if shared:
            layer = shared[0]
            return _fail("shared", messages.shared_not_serving(
                layer["layer"], wanted, g.serves(graph, layer["calls"], chosen)))
        firsts: list[str] = []
        for node in chosen.values():
            firsts.extend(graph.nodes[s]["layer"] for s in graph.successors(node))
        return _fail("shared", messages.nothing_shared(wanted, list(dict.fromkeys(firsts))))
    if units is not None:
        right = [s for s in serving if s.get("units") == units]
        if not right:
            return _fail("shared", messages.shared_wrong_units(
                serving[0]["layer"], wanted, serving[0].get("units"), units))
        serving = right
    if activation is not None:
        expected = normalise_activation(activation)
        if not any(s.get("activation") == expected for s in serving):
            return _fail("shared", messages.shared_wrong_activation(
                serving[0]["layer"], wanted, serving[0].get("activation"), expected))
    moves = _behaviour(description, "moves")
    if moves is not None:  # the grader's rebuilt model: what each input brings must count
        moving = {name for names in moves.values() for name in names or []}
        for name in wanted:
            if name not in moving:
                return _fail("shared", messages.shared_input_ignored(serving[0]["layer"], name))
    return _pass("shared")


# --------------------------------------------------------------------------- parameters


def check_params(description: Description, count: int) -> Verdict:
    """The parameter count (computed from the configuration) equals `count`."""
    found = description.get("params")
    if found is None:
        if not _readable(description) and description.get("built"):
            return _unreadable("params", "parameters", description)
        unknown = [layer["name"] for layer in description.get("layers") or []
                   if layer.get("params") is None]
        return _fail("params", messages.params_unknown(bool(description.get("built")), unknown))
    if found == count:
        return _pass("params")
    return _fail("params", messages.wrong_params(found, count))


# --------------------------------------------------------------------------- compile


def _flat(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [v for item in value.values() for v in _flat(item)]
    if isinstance(value, (list, tuple)):
        return [v for item in value for v in _flat(item)]
    return [value]


def metric_kind(name: Any) -> Any:
    """`"accuracy"` for every accuracy metric, the name itself for others."""
    return "accuracy" if name in ACCURACY_METRICS else name


def _has_metric(found: Iterable[Any], expected: Any) -> bool:
    kind = metric_kind(normalise_loss(expected))
    return any(metric_kind(f) == kind for f in found)


def check_compiled(description: Description, *, optimizer: str | None = None,
                   loss: str | None = None, metrics: Sequence[str] | None = None) -> Verdict:
    """Compiled, and with the given optimizer, loss and metrics (normalised names)."""
    settings = description.get("compile")
    if not settings:
        return _fail("compiled", messages.not_compiled())
    if optimizer is not None and settings.get("optimizer") != normalise_optimizer(optimizer):
        return _fail("compiled", messages.wrong_optimizer(settings.get("optimizer"),
                                                          normalise_optimizer(optimizer)))
    if loss is not None:
        expected = normalise_loss(loss)
        found = _flat(settings.get("loss"))
        if not found or any(f != expected for f in found):
            shown = settings.get("loss") if not isinstance(settings.get("loss"), dict) else found
            return _fail("compiled", messages.wrong_loss(shown, expected))
    if metrics is not None:
        found = _flat(settings.get("metrics")) + _flat(settings.get("weighted_metrics"))
        misplaced = [w.strip("'\"") for w in _flat(settings.get("loss_weights"))
                     if isinstance(w, str)]
        for metric in metrics:
            if not _has_metric(found, metric):
                if _has_metric(misplaced, metric):
                    return _fail("compiled", messages.metric_in_loss_weights(misplaced))
                return _fail("compiled", messages.missing_metric(
                    found, metric_kind(normalise_loss(metric))))
    return _pass("compiled")


def _keyed(check: str, argument: str, value: Any, outputs: list[str]) -> Verdict | None:
    """A failed verdict when a multi-output setting is not a dict keyed by output names."""
    if value is None or (len(outputs) == 1 and not isinstance(value, dict)):
        return None
    if not isinstance(value, dict):
        return _fail(check, messages.not_keyed(argument, value, outputs))
    unknown = [k for k in value if k not in outputs]
    if unknown:
        return _fail(check, messages.unknown_keys(argument, unknown, outputs))
    return None


def _check_losses(check: str, settings: Mapping[str, Any], losses: Mapping[str, str],
                  outputs: list[str]) -> Verdict | None:
    several = len(outputs) > 1
    found_loss = settings.get("loss")
    if isinstance(found_loss, list) and several:
        return _fail(check, messages.losses_list(found_loss, outputs))
    if not isinstance(found_loss, dict):
        if several or found_loss is None:
            return _fail(check, messages.losses_not_keyed(found_loss, outputs))
        found_loss = {outputs[0]: found_loss[0] if isinstance(found_loss, list) else found_loss}
    unknown = [k for k in found_loss if k not in outputs]
    if unknown:
        return _fail(check, messages.unknown_keys("loss", unknown, outputs))
    for name, expected in losses.items():
        if name not in outputs:
            return _fail(check, messages.no_output(name, outputs))
        if found_loss.get(name) is None:
            return _fail(check, messages.missing_loss(name))
        if found_loss[name] != normalise_loss(expected):
            return _fail(check, messages.wrong_loss_for(name, found_loss[name],
                                                        normalise_loss(expected)))
    return _keyed(check, "loss_weights", settings.get("loss_weights"), outputs)


def _check_metrics(check: str, settings: Mapping[str, Any],
                   metrics: Mapping[str, Sequence[str]], outputs: list[str]) -> Verdict | None:
    found_metrics, weighted = settings.get("metrics"), settings.get("weighted_metrics")
    for argument, value in (("metrics", found_metrics), ("weighted_metrics", weighted)):
        failed = _keyed(check, argument, value, outputs)
        if failed is not None:
            return failed
    for name, expected_list in metrics.items():
        if name not in outputs:
            return _fail(check, messages.no_output(name, outputs))
        if isinstance(found_metrics, dict) or len(outputs) > 1:
            found = _flat((found_metrics or {}).get(name)) + _flat(
                weighted.get(name) if isinstance(weighted, dict) else None)
        else:
            found = _flat(found_metrics) + _flat(weighted)
        for metric in [expected_list] if isinstance(expected_list, str) else expected_list:
            if not _has_metric(found, metric):
                return _fail(check, messages.missing_metric_for(
                    name, found, metric_kind(normalise_loss(metric))))
    return None


def check_compiled_by_name(description: Description, losses: Mapping[str, str], *,
                           metrics: Mapping[str, Sequence[str]] | None = None) -> Verdict:
    """Compile settings keyed by output name.

    With `losses` (non-empty): the losses form a dict keyed by the model's output names with
    these values, and loss weights, if any, are keyed too. With `metrics`: the metrics form a
    dict keyed by output names and each output has the metrics listed. A list of losses on a
    multi-output model fails: Keras matches it by output order. Leaving `losses` empty checks
    the metrics alone, so one mistake costs one test.
    """
    check = "compiled_by_name"
    settings = description.get("compile")
    if not settings:
        return _fail(check, messages.not_compiled())
    outputs = [item["name"] for item in description.get("outputs") or []]
    if not outputs:
        return _unreadable(check, "outputs", description)
    failed = _check_losses(check, settings, losses, outputs) if losses else None
    if failed is None and metrics is not None:
        failed = _check_metrics(check, settings, metrics, outputs)
    return failed if failed is not None else _pass(check)


# --------------------------------------------------------------------------- quiz


def _norm_answer(value: Any) -> str:
    return " ".join(str(value).split()).lower()


def check_answer(value: Any, expected: Any, question: str,
                 choices: Sequence[Any] | None = None) -> Verdict:
    """A quiz answer equals the expected choice (case- and space-insensitive).

    `expected` may be one answer or a collection of accepted answers. The messages never name
    the expected answer, so they are the same for visible and hidden checks.
    """
    def fail(message: str) -> Verdict:  # hidden: the answer the student chose is not repeated
        return Verdict(False, "answer", message, messages.hidden_answer(question))

    if value is None or (isinstance(value, str) and not value.strip()) or value is Ellipsis:
        return fail(messages.no_answer(question, choices))
    answer = _norm_answer(value)
    if choices is not None and answer not in {_norm_answer(c) for c in choices}:
        return fail(messages.not_a_choice(question, value, list(choices)))
    accepted = ([expected] if isinstance(expected, (str, int, float)) or expected is None
                else list(expected))
    if answer in {_norm_answer(a) for a in accepted}:
        return _pass("answer")
    return fail(messages.wrong_answer(question, value))
