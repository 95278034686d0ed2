"""Environment settings applied before TensorFlow is first imported."""

from __future__ import annotations

import os


def quiet() -> None:
    """Silence TensorFlow's C++ start-up logging unless the user asked for it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
