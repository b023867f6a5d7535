"""Grading: evidence recorded in the student's kernel, verdicts computed outside it."""
from __future__ import annotations

from .evidence import EVIDENCE_MIME, call, kernel_only, submitted

__all__ = ["EVIDENCE_MIME", "call", "kernel_only", "submitted"]
