"""MLP Designer: design, train and export multilayer perceptrons.

Importing this package does not import TensorFlow; ``build_model`` does, when
it is called.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# pandas imports pyarrow when it is installed (the parquet extra), and pyarrow's own allocator reserves
# gigabytes of address space: under a memory limit (RLIMIT_AS, as memory checks and tests use) TensorFlow
# then fails to start threads. The system allocator is what the rest of the process uses anyway.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

from .spec import Problem, Spec, SpecError, load_spec, summarize, validate_spec

if TYPE_CHECKING:  # pragma: no cover
    import keras

__version__ = "0.1.0"


def build_model(spec: Any, *, compile: bool = True, **options: Any) -> keras.Model:
    """Build (and by default compile) the Keras model of a spec.

    ``options`` go to :func:`mlpdesigner.compile.build_model` (seed, normalization,
    steps_per_execution, jit_compile).
    """
    from .compile import build_model as _build

    return _build(spec, compile=compile, **options)


__all__ = [
    "Problem",
    "Spec",
    "SpecError",
    "__version__",
    "build_model",
    "load_spec",
    "summarize",
    "validate_spec",
]
