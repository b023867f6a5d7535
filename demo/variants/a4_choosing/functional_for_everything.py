"""Mistake: answers "functional" everywhere, the API that is never wrong to *try*.

It is not the simplest API for the two plain stacks, and it cannot hold the two models whose
structure depends on the data.
"""
LOSES = ["test_answer_spam_filter", "test_answer_deep_stack", "test_answer_adaptive_steps",
         "test_answer_parse_tree"]

answer_spam_filter = "functional"
answer_image_captioning = "functional"
answer_face_verification = "functional"
answer_deep_stack = "functional"
answer_adaptive_steps = "functional"
answer_parse_tree = "functional"
explain_subclass = "Functional models can do everything, so I would not subclass."
