"""Mistake: answers with words that are not among the choices ("functional API", "keras.Model")."""
LOSES = ["test_answer_image_captioning", "test_answer_parse_tree"]

answer_image_captioning = "functional API"
answer_parse_tree = "keras.Model"
