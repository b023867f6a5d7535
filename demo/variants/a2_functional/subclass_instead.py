"""Mistake: writes a subclass of `keras.Model` where the Functional API is asked.

A subclass has no graph Keras can read before it runs, so neither its input nor its layers
can be checked.
"""
LOSES = ["test_build_functional_api", "test_build_functional_inputs",
         "test_build_functional_layers"]


def build_functional(input_dim, num_classes):
    class Classifier(keras.Model):
        def __init__(self, num_classes, **kwargs):
            super().__init__(**kwargs)
            self.hidden_1 = layers.Dense(64, activation="relu")
            self.hidden_2 = layers.Dense(32, activation="relu")
            self.classify = layers.Dense(num_classes, activation="softmax")

        def call(self, inputs):
            return self.classify(self.hidden_2(self.hidden_1(inputs)))

    return Classifier(num_classes)
