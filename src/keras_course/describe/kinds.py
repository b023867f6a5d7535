"""What each Keras layer class is to a description: transparent, an activation, a merge, ...

Plain sets of class names; the leaf that shapes, names and the graph walk all read.
"""
from __future__ import annotations

#: Model classes whose configuration lists their layers.
SEQUENTIAL = "Sequential"
FUNCTIONAL = "Functional"

#: Layers that compute nothing at inference time: contracted out of the graph.
TRANSPARENT = frozenset({
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianDropout",
    "GaussianNoise", "AlphaDropout", "ActivityRegularization", "Identity",
})

#: Layers that only apply an activation function: normalised to class `Activation`.
ACTIVATION_LAYERS = frozenset({"Activation", "ReLU", "Softmax", "LeakyReLU", "ELU"})

#: `keras.ops` activations applied to a tensor in a Functional graph (`keras.ops.relu(x)`).
OP_ACTIVATIONS = {
    "Relu": "relu", "Relu6": "relu6", "Sigmoid": "sigmoid", "Softmax": "softmax",
    "Tanh": "tanh", "Silu": "silu", "Gelu": "gelu", "Elu": "elu", "Selu": "selu",
    "Softplus": "softplus", "Softsign": "softsign", "LeakyRelu": "leaky_relu",
    "HardSigmoid": "hard_sigmoid", "LogSoftmax": "log_softmax",
}

#: Layers (and `keras.ops` operations) that combine several tensors.
MERGES = frozenset({
    "Add", "Concatenate", "Average", "Multiply", "Subtract", "Maximum", "Minimum", "Dot",
})

#: Layers whose output has the shape of their (first) input.
SAME_SHAPE = TRANSPARENT | ACTIVATION_LAYERS | frozenset({
    "BatchNormalization", "LayerNormalization", "UnitNormalization", "GroupNormalization",
    "Masking", "PReLU",
})

#: Layers without weights.
NO_WEIGHTS = TRANSPARENT | ACTIVATION_LAYERS | MERGES | frozenset({
    "InputLayer", "Flatten", "Reshape", "Permute", "RepeatVector", "Masking", "UnitNormalization",
})

#: Layers whose own `activation` can absorb a following activation layer.
FUSES_ACTIVATION = frozenset({
    "Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D",
    "DepthwiseConv1D", "DepthwiseConv2D", "Conv1DTranspose", "Conv2DTranspose",
})

#: Config keys worth recording for a layer (the rest are initialisers, dtypes, ...).
KEY_CONFIG = (
    "units", "activation", "use_bias", "rate", "axis", "center", "scale", "target_shape",
    "input_dim", "output_dim", "filters", "kernel_size", "strides", "padding", "max_value",
    "negative_slope", "threshold", "alpha", "batch_shape", "dtype",
)

#: The module Keras records for a `keras.ops` call in a Functional graph (`h + y`, `ops.relu`).
OPS_MODULE = "keras.src.ops"
