"""Mistake: thinks the refinement loop can be drawn as a fixed graph (architecture 5).

A fixed graph would have to fix the number of steps in advance; here each input decides it.
"""
LOSES = ["test_answer_adaptive_steps"]

answer_adaptive_steps = "functional"
