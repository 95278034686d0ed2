"""Test configuration shared by every test module."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# The designer's warm worker (a background process that loads TensorFlow) is off unless a test turns it on:
# other tests must not share the machine with a TensorFlow import they did not ask for.
os.environ.setdefault("MLPDESIGNER_WARM_WORKER", "0")
