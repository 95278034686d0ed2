"""Reference networks the spec compiler is measured against.

The project's own copy of the conformance yardstick: hand-written Keras 3
models, one per starter design in ``resources/examples/``. The tests compare
each compiled spec with its reference.
"""

from __future__ import annotations

import keras
from keras import constraints, layers, regularizers

# name -> (total params, trainable params)
EXPECTED: dict[str, tuple[int, int]] = {
    "housing_regression": (301, 301),
    "fashion_mnist_classifier": (266_610, 266_610),
    "wide_deep_single_input": (1_239, 1_239),
    "wide_deep_two_inputs": (1_176, 1_176),
    "wide_deep_aux_output": (1_207, 1_207),
    "binary_batchnorm_dropout": (4_353, 4_225),
    "multilabel_elu_l2": (12_705, 12_705),
    "selu_self_normalizing": (10_590, 10_590),
    "leaky_relu_he_maxnorm": (2_731, 2_731),
    "positive_and_bounded_regression": (1_732, 1_732),
}

# name -> loss per output, in output order
LOSSES: dict[str, list[str]] = {
    "housing_regression": ["mse"],
    "fashion_mnist_classifier": ["sparse_categorical_crossentropy"],
    "wide_deep_single_input": ["mse"],
    "wide_deep_two_inputs": ["mse"],
    "wide_deep_aux_output": ["mse", "mse"],
    "binary_batchnorm_dropout": ["binary_crossentropy"],
    "multilabel_elu_l2": ["binary_crossentropy"],
    "selu_self_normalizing": ["categorical_crossentropy"],
    "leaky_relu_he_maxnorm": ["huber"],
    "positive_and_bounded_regression": ["mae", "mse"],
}


def housing_regression() -> keras.Model:
    """Regression MLP: 8 features, one hidden layer of 30 ReLU units, 1 linear output."""
    return keras.Sequential(
        [
            keras.Input(shape=(8,), name="features"),
            layers.Dense(30, activation="relu", kernel_initializer="he_normal"),
            layers.Dense(1, name="price"),
        ],
        name="housing_regression",
    )


def fashion_mnist_classifier() -> keras.Model:
    """Multiclass MLP on 28x28 images: Flatten, 300 and 100 ReLU units, 10-way softmax."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28), name="pixels"),
            layers.Flatten(),
            layers.Dense(300, activation="relu"),
            layers.Dense(100, activation="relu"),
            layers.Dense(10, activation="softmax", name="label"),
        ],
        name="fashion_mnist_classifier",
    )


def wide_deep_single_input() -> keras.Model:
    """Wide & Deep: the input goes both through two hidden layers and straight to the output."""
    inp = keras.Input(shape=(8,), name="features")
    h1 = layers.Dense(30, activation="relu")(inp)
    h2 = layers.Dense(30, activation="relu")(h1)
    concat = layers.Concatenate()([inp, h2])
    out = layers.Dense(1, name="price")(concat)
    return keras.Model(inputs=[inp], outputs=[out], name="wide_deep_single_input")


def wide_deep_two_inputs() -> keras.Model:
    """Wide & Deep with 5 features on the wide path and 6 on the deep path."""
    wide = keras.Input(shape=(5,), name="wide")
    deep = keras.Input(shape=(6,), name="deep")
    h1 = layers.Dense(30, activation="relu")(deep)
    h2 = layers.Dense(30, activation="relu")(h1)
    concat = layers.Concatenate()([wide, h2])
    out = layers.Dense(1, name="price")(concat)
    return keras.Model(inputs=[wide, deep], outputs=[out], name="wide_deep_two_inputs")


def wide_deep_aux_output() -> keras.Model:
    """Wide & Deep with an auxiliary output on the deep path (loss weights 0.9 / 0.1)."""
    wide = keras.Input(shape=(5,), name="wide")
    deep = keras.Input(shape=(6,), name="deep")
    h1 = layers.Dense(30, activation="relu")(deep)
    h2 = layers.Dense(30, activation="relu")(h1)
    concat = layers.Concatenate()([wide, h2])
    main = layers.Dense(1, name="main")(concat)
    aux = layers.Dense(1, name="aux")(h2)
    return keras.Model(inputs=[wide, deep], outputs=[main, aux], name="wide_deep_aux_output")


def binary_batchnorm_dropout() -> keras.Model:
    """Binary classifier, 30 features: Dense 64 ReLU, BatchNorm, Dropout 0.2, Dense 32 ReLU, sigmoid."""
    return keras.Sequential(
        [
            keras.Input(shape=(30,), name="features"),
            layers.Dense(64, activation="relu", kernel_initializer="he_normal"),
            layers.BatchNormalization(),
            layers.Dropout(0.2),
            layers.Dense(32, activation="relu", kernel_initializer="he_normal"),
            layers.Dense(1, activation="sigmoid", name="malignant"),
        ],
        name="binary_batchnorm_dropout",
    )


def multilabel_elu_l2() -> keras.Model:
    """Multilabel classifier: 20 features, two ELU layers of 100 with L2(0.01), 5 sigmoid labels."""
    reg = regularizers.l2(0.01)
    return keras.Sequential(
        [
            keras.Input(shape=(20,), name="features"),
            layers.Dense(100, activation="elu", kernel_initializer="he_normal", kernel_regularizer=reg),
            layers.Dense(100, activation="elu", kernel_initializer="he_normal", kernel_regularizer=reg),
            layers.Dense(5, activation="sigmoid", name="labels"),
        ],
        name="multilabel_elu_l2",
    )


def selu_self_normalizing() -> keras.Model:
    """Self-normalizing net: SELU with LeCun normal init and AlphaDropout; one-hot multiclass targets."""
    return keras.Sequential(
        [
            keras.Input(shape=(16,), name="features"),
            layers.Dense(100, activation="selu", kernel_initializer="lecun_normal"),
            layers.AlphaDropout(0.1),
            layers.Dense(80, activation="selu", kernel_initializer="lecun_normal"),
            layers.AlphaDropout(0.1),
            layers.Dense(10, activation="softmax", name="label"),
        ],
        name="selu_self_normalizing",
    )


def leaky_relu_he_maxnorm() -> keras.Model:
    """Regression with outliers: He init, LeakyReLU(0.2) as its own layer, max-norm(1.0), Huber loss."""
    return keras.Sequential(
        [
            keras.Input(shape=(12,), name="features"),
            layers.Dense(50, kernel_initializer="he_normal", kernel_constraint=constraints.MaxNorm(1.0)),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dense(40, kernel_initializer="he_normal", kernel_constraint=constraints.MaxNorm(1.0)),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dense(1, name="target"),
        ],
        name="leaky_relu_he_maxnorm",
    )


def positive_and_bounded_regression() -> keras.Model:
    """Two regression heads: one kept > 0 by softplus (MAE), one kept in (0, 1) by a logistic output (MSE)."""
    inp = keras.Input(shape=(10,), name="features")
    h = layers.Dense(
        40, activation="relu", kernel_initializer="he_normal", kernel_regularizer=regularizers.l1_l2(l1=1e-5, l2=1e-4)
    )(inp)
    h = layers.Dense(
        30, activation="relu", kernel_initializer="he_normal", kernel_regularizer=regularizers.l1_l2(l1=1e-5, l2=1e-4)
    )(h)
    positive = layers.Dense(1, activation="softplus", name="duration")(h)
    bounded = layers.Dense(1, activation="sigmoid", name="share")(h)
    return keras.Model(inputs=[inp], outputs=[positive, bounded], name="positive_and_bounded_regression")


REFERENCES = {name: globals()[name] for name in EXPECTED}
