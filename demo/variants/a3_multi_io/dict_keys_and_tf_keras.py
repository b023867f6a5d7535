"""Correct: `tf.keras`, outputs named by the keys of an `outputs` dict, a `Softmax` layer, "acc".

Full marks: the keys of an `outputs` dict name the outputs even when the layers keep their
default names, a `Softmax` layer is a softmax, and a single metric need not be in a list.
"""
import tensorflow as tf

LOSES = []


def build_two_view(view_dim, num_classes):
    top = tf.keras.Input(shape=(view_dim,), name="top")
    bottom = tf.keras.Input(shape=(view_dim,), name="bottom")
    x = tf.keras.layers.concatenate([top, bottom])
    x = tf.keras.layers.Dense(64, activation=tf.nn.relu)(x)
    x = tf.keras.layers.Dropout(0.1)(x)
    logits = tf.keras.layers.Dense(num_classes)(x)
    return tf.keras.Model(
        inputs={"top": top, "bottom": bottom},
        outputs={"digit": tf.keras.layers.Softmax()(logits),
                 "parity": tf.keras.layers.Dense(1, activation="sigmoid")(x)},
    )


def compile_two_view(model):
    model.compile(optimizer="Adam",
                  loss={"digit": "sparse_categorical_crossentropy", "parity": "bce"},
                  metrics={"digit": "acc", "parity": "acc"})
    return model
