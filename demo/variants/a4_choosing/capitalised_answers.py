"""Correct: the right answers, written with capitals and stray spaces, and a written answer on 6.

Full marks on the quiz: answers are compared without case and surrounding spaces. The written
answer is graded by hand.
"""
LOSES = []

answer_spam_filter = "Sequential"
answer_image_captioning = "Functional "
answer_face_verification = "FUNCTIONAL"
answer_deep_stack = " sequential"
answer_adaptive_steps = "Subclass"
answer_parse_tree = "subclass"
explain_subclass = """I picked the parse-tree model. Each sentence has its own tree, so the
order in which the shared layer merges children is different for every input; a Functional
model is a single graph of layer calls fixed before it sees any data, so it can only hold one
tree shape. In a subclass, `call` is Python that runs for every sentence and can walk its tree
recursively. What I give up: Keras cannot show the graph (no connections in the summary, no
plot) and cannot check shapes until the model runs."""
