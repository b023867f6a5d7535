"""What the checks say about a quiz answer."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .formatting import code, names

# --------------------------------------------------------------------------- quiz


def _question(question: str) -> str:
    """`q1` -> "question `q1`"; "1 (the spam filter)" -> "question 1 (the spam filter)"."""
    return f"question {question}" if " " in question else f"question {code(question)}"


def _value(value: Any) -> str:
    return f'`"{value}"`' if isinstance(value, str) else code(repr(value))


def no_answer(question: str, choices: Sequence[str] | None) -> str:
    options = f" to one of {names(choices, 'or')}" if choices else ""
    return (f"You have not answered {_question(question)} yet. Set your answer{options} and run "
            "the cell again.")


def not_a_choice(question: str, value: Any, choices: Sequence[str]) -> str:
    return (f"Your answer to {_question(question)} is {_value(value)}, which is not one of the "
            f"choices. Set it to one of {names(choices, 'or')}.")


def wrong_answer(question: str, value: Any) -> str:
    return (f"Your answer to {_question(question)}, {_value(value)}, is not the best fit. Reread "
            "the scenario and ask which API it needs.")


def hidden_answer(question: str) -> str:
    return (f"Your answer to {_question(question)} is not the expected one. Reread the scenario "
            "and ask which API it needs.")


