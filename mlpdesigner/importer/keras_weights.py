"""The trained weights of a checked ``.keras`` file (loaded with Keras' safe mode)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from .graph import GNode, ImportRefused

if TYPE_CHECKING:  # pragma: no cover
    from . import ImportResult


def keras_readers(result: ImportResult) -> tuple[Callable[[GNode], list[Any]], Callable[[list[Any]], list[Any]]]:
    """(weights of a file node, the file model's predictions for a list of input arrays)."""
    import numpy as np

    from ..modelfile import load_keras_model

    try:
        source = load_keras_model(result.path, compile=False)
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged file is the user's input
        raise ImportRefused(f"{result.path}: cannot read the weights: {type(exc).__name__}: {exc}") from None

    def weights(node: GNode) -> list[Any]:
        layer = source.get_layer(node.name)
        arrays = [np.asarray(a) for a in layer.get_weights()]
        if node.kind == "normalization":
            if len(arrays) >= 2:
                return arrays[:2]
            return [np.asarray(layer.mean), np.asarray(layer.variance)]
        return arrays

    def reference(feeds: list[Any]) -> list[Any]:
        from . import call_model

        return call_model(source, result.graph.inputs, feeds)

    return weights, reference
