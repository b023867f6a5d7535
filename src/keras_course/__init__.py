"""Helpers for the Keras APIs course: data, model descriptions, checks and grading."""
from __future__ import annotations

__version__ = "0.1.0"
