"""Mistake: takes the face-verification model for a plain stack because its encoder is one.

Two inputs through one shared encoder is a graph, not a stack.
"""
LOSES = ["test_answer_face_verification"]

answer_face_verification = "sequential"
