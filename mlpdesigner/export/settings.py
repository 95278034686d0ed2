"""Export settings the designer offers without loading the exporters (plain constants)."""

from __future__ import annotations

#: Default ONNX opset and the range tf2onnx 1.17 can target.
DEFAULT_OPSET = 17
MIN_OPSET = 13
#: Default largest allowed |onnxruntime - Keras|.
DEFAULT_TOLERANCE = 1e-5
