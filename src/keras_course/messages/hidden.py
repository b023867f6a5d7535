"""What a failed hidden check says: the concept, never the expected values."""
from __future__ import annotations

from .formatting import code

# --------------------------------------------------------------------------- hidden checks

_FOLLOW = "the function's arguments"


def hidden(check: str, argument: str | None = None) -> str:
    """The message of a failed hidden check: the concept, not the expected values."""
    follow = code(argument) if argument else _FOLLOW
    use = "the argument" if argument else "the arguments"
    texts = {
        "api": ("When called with other arguments, your function does not return the kind of "
                "model the task asks for: build it with the same API whatever the sizes."),
        "built": ("When called with other arguments, your model is not built: start it with "
                  "`keras.Input(shape=...)` so it always has inputs."),
        "inputs": (f"When called with other sizes, the model's inputs do not follow {follow}: "
                   f"use {use} rather than a fixed number."),
        "outputs": (f"When called with other sizes, the model's outputs do not follow {follow}: "
                    f"use {use} rather than a fixed number, and keep the output names and "
                    "activations."),
        "chain": (f"When called with other sizes, the layers are not the ones the task "
                  f"describes: every size that depends on {follow} should use {use}."),
        "depends": ("In a hidden test an output does not depend on every input: check what each "
                    "output is computed from."),
        "merge": ("In a hidden test no layer merges two branches: check that the branches are "
                  "combined whatever the sizes."),
        "skip": ("In a hidden test no skip connection bypasses the block: check that the block's "
                 "input is added to its result whatever the sizes."),
        "shared": ("In a hidden test the inputs do not share one encoder: create it once and "
                   "call the same object on each input."),
        "params": (f"When called with other sizes, the parameter count is not what the "
                   f"architecture implies: check that the layer sizes follow {follow}."),
        "compiled": ("In a hidden test the model is not compiled as the task asks: check the "
                     "optimizer, the loss and the metrics against the task statement."),
        "compiled_by_name": ("In a hidden test the compile settings are not keyed by output "
                             "name as the task asks: key losses and metrics by the names of the "
                             "outputs."),
        "answer": ("This answer is not the expected one: reread the scenario and ask which API "
                   "it needs."),
        "model": ("When called with other arguments, your function does not return a Keras "
                  "model: check that every path through it ends with `return model`."),
    }
    return texts.get(check, "A hidden check failed: reread the task statement.")


