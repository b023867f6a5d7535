"""The course's data: scikit-learn's bundled 8x8 digits, as flat images or as two half-views."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: Pixels in each half of an 8x8 digit: the `top` view is rows 0-3, the `bottom` view rows 4-7.
VIEW_DIM = 32
NUM_CLASSES = 10


class Split(NamedTuple):
    """Training and validation parts of a data set."""

    x_train: np.ndarray | dict
    y_train: np.ndarray | dict
    x_val: np.ndarray | dict
    y_val: np.ndarray | dict


def load_digits_split(validation_fraction: float = 0.2, seed: int = 42) -> Split:
    """The 1797 digits as flat 64-pixel rows scaled to [0, 1], split into training and validation.

    The data ships inside scikit-learn: nothing is downloaded.
    """
    return Split(*_digits_arrays(validation_fraction, seed))


def _digits_arrays(
    validation_fraction: float, seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`x_train, y_train, x_val, y_val` of `load_digits_split`, as arrays."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target.astype("int64")
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = int(round(len(x) * validation_fraction))
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], x[val], y[val]


def two_views(x: np.ndarray) -> dict[str, np.ndarray]:
    """Split flat 8x8 images into the `top` (rows 0-3) and `bottom` (rows 4-7) views."""
    return {"top": x[:, :VIEW_DIM], "bottom": x[:, VIEW_DIM:]}


def two_targets(y: np.ndarray) -> dict[str, np.ndarray]:
    """The two targets of the two-view task: the `digit` class and its `parity` (1 when odd)."""
    return {"digit": y, "parity": (y % 2).astype("float32").reshape(-1, 1)}


def load_two_view(validation_fraction: float = 0.2, seed: int = 42) -> Split:
    """The digits as dicts keyed by input (`top`, `bottom`) and output (`digit`, `parity`)."""
    x_train, y_train, x_val, y_val = _digits_arrays(validation_fraction, seed)
    return Split(two_views(x_train), two_targets(y_train), two_views(x_val), two_targets(y_val))
