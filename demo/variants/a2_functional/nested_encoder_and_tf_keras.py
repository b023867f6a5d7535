"""Correct: `tf.keras`, activations as functions, `layers.add`, and a nested `Sequential` encoder.

Full marks: `tf.keras` is Keras 3, a function is the same activation as its name, and a
`Sequential` model called on both inputs is one shared encoder.
"""
import tensorflow as tf

LOSES = []


def build_functional(input_dim, num_classes):
    inputs = tf.keras.Input(shape=(input_dim,))
    x = tf.keras.layers.Dense(64, activation=tf.keras.activations.relu)(inputs)
    x = tf.keras.layers.Dense(32, activation=tf.nn.relu)(x)
    outputs = tf.keras.layers.Dense(num_classes, activation=tf.keras.activations.softmax)(x)
    return tf.keras.Model(inputs, outputs)


def build_residual(input_dim, num_classes):
    inputs = tf.keras.Input(shape=(input_dim,))
    h = tf.keras.layers.Dense(64, activation=tf.nn.relu)(inputs)
    y = tf.keras.layers.Dense(64, activation=tf.nn.relu)(h)
    y = tf.keras.layers.Dense(64, activation=tf.nn.relu)(y)
    total = tf.keras.layers.add([h, y])
    outputs = tf.keras.layers.Dense(num_classes, activation="softmax")(total)
    return tf.keras.Model(inputs, outputs)


def build_siamese(input_dim):
    left = tf.keras.Input(shape=(input_dim,), name="left")
    right = tf.keras.Input(shape=(input_dim,), name="right")
    encoder = tf.keras.Sequential([
        tf.keras.Input(shape=(input_dim,)),
        tf.keras.layers.Dense(32, activation="relu"),
    ], name="encoder")
    merged = tf.keras.layers.concatenate([encoder(left), encoder(right)])
    same = tf.keras.layers.Dense(1, activation="sigmoid", name="same")(merged)
    return tf.keras.Model([left, right], same)
