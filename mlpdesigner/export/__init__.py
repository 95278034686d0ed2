"""Exports of a spec or a trained run: verified ONNX, ``.keras``, and standalone Python.

A spec exports with the untrained weights ``build_model`` gives it (seeded by
the spec's seed, so every format carries the same weights); a run folder
exports with its trained weights. TensorFlow, tf2onnx and onnxruntime are
imported inside the functions.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..atomic import atomic_path, atomic_write_bytes, atomic_write_text
from ..errors import UserError
from ..safeio import check_output_file
from ..spec import Spec
from .onnx_export import OnnxReport, ParityCheck, ParityError
from .settings import DEFAULT_OPSET, DEFAULT_TOLERANCE
from .source import RUN_FILES, ExportSource, load_source

__all__ = [
    "DEFAULT_OPSET",
    "DEFAULT_TOLERANCE",
    "ExportReport",
    "ExportSource",
    "OnnxReport",
    "ParityCheck",
    "ParityError",
    "export_keras",
    "export_onnx",
    "export_python",
    "generate_python",
    "load_source",
]

Source = str | os.PathLike[str] | dict[str, Any] | Spec | ExportSource


@dataclass
class ExportReport:
    """What a ``.keras`` or Python export wrote."""

    format: str
    path: Path
    trained: bool
    detail: str = ""

    def summary(self) -> str:
        kind = "trained" if self.trained else "untrained (seeded)"
        return f"wrote {self.path} ({self.format}, {kind} weights{'; ' + self.detail if self.detail else ''})"

    def to_json(self) -> dict[str, Any]:
        return {"format": self.format, "path": str(self.path), "trained": self.trained, "detail": self.detail}


def _source(source: Source) -> ExportSource:
    return source if isinstance(source, ExportSource) else load_source(source)


def check_output_path(out: str | os.PathLike[str], source: Any = None) -> Path:
    """The output path, or a :class:`UserError` naming it when it cannot or must not be written.

    Besides unwritable places, an existing device, FIFO or folder is refused,
    and so is the export's own source (a spec file, or a file of a run folder).
    """
    inputs: list[str | os.PathLike[str]] = []
    if isinstance(source, (str, os.PathLike)):
        folder = Path(source)
        inputs = [folder / name for name in RUN_FILES] if folder.is_dir() else [folder]
    elif isinstance(source, ExportSource) and source.run_dir is not None:
        inputs = [source.run_dir / name for name in RUN_FILES]
    elif isinstance(source, (ExportSource, Spec)):
        spec = source.spec if isinstance(source, ExportSource) else source
        inputs = [spec.path] if spec.path is not None else []
    return check_output_file(out, inputs, option="Cannot write")


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise UserError(f"Cannot write {path}: {exc.strerror or exc}") from None


def export_onnx(
    source: Source,
    out: str | os.PathLike[str],
    opset: int = DEFAULT_OPSET,
    tolerance: float = DEFAULT_TOLERANCE,
) -> OnnxReport:
    """Write a verified ONNX file; raises :class:`ParityError` (and writes nothing) above ``tolerance``.

    The file is checked with ``onnx.checker`` (full check) and run with
    onnxruntime against Keras on the run's real rows (when it has them) and on
    random rows at batch sizes 1 and 64.
    """
    from . import onnx_export

    onnx_export.check_opset(opset)
    if not tolerance >= 0:
        raise UserError(f"Expected a tolerance >= 0. Received: tolerance={tolerance!r}")
    path = check_output_path(out, source)
    src = _source(source)
    plan = src.spec.checked()[1]
    model = src.model()
    input_names, output_names = list(plan.inputs), list(plan.outputs)
    proto = onnx_export.convert(model, input_names, output_names, opset)
    onnx_export.add_metadata(proto, src)
    with _writing(path), atomic_path(path) as tmp:
        tmp.write_bytes(proto.SerializeToString())
        checks = onnx_export.verify(tmp, model, src, tolerance)
    return OnnxReport(
        path=path,
        opset=opset,
        tolerance=tolerance,
        trained=src.trained,
        checks=checks,
        input_names=input_names,
        output_names=output_names,
    )


def _keras_reload_check(file: Path, model: Any) -> str:
    """Reload a saved ``.keras`` file (safe mode) and compare it with the model it came from."""
    import warnings

    import keras
    import numpy as np

    with warnings.catch_warnings():
        # A compiled model that never trained has no optimizer variables to restore.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        reloaded = keras.saving.load_model(file, safe_mode=True)
    if reloaded.count_params() != model.count_params():
        raise UserError(
            f"Expected the saved model to have {model.count_params()} parameters. Received: {reloaded.count_params()}"
        )
    for a, b in zip(model.get_weights(), reloaded.get_weights(), strict=True):
        if not np.array_equal(a, b):
            raise UserError("Expected the saved model to keep its weights. Received: different weights on reload")
    return f"{model.count_params()} parameters, reload checked"


def export_keras(source: Source, out: str | os.PathLike[str]) -> ExportReport:
    """Write the model as ``.keras`` (trained for a run folder, seeded and compiled for a spec)."""
    path = check_output_path(out, source)
    if path.suffix != ".keras":
        raise UserError(f"Expected an output file ending in .keras (Keras reads no other name). Received: {path}")
    src = _source(source)
    model = src.model()
    with tempfile.TemporaryDirectory(prefix="mlpdesigner-export-") as folder:
        saved = Path(folder) / "model.keras"
        if src.model_file is not None:
            saved.write_bytes(src.model_file.read_bytes())
        else:
            model.save(saved)
        detail = _keras_reload_check(saved, model)
        with _writing(path):
            atomic_write_bytes(path, saved.read_bytes())
    return ExportReport("keras", path, src.trained, detail)


def generate_python(source: Source, *, with_training: bool = False, out: str | os.PathLike[str] | None = None) -> str:
    """The standalone Python script for a spec or run (see :mod:`mlpdesigner.export.codegen`)."""
    from .codegen import generate

    return generate(_source(source), with_training=with_training, out=Path(out) if out is not None else None)


def export_python(source: Source, out: str | os.PathLike[str], with_training: bool = False) -> ExportReport:
    """Write a readable script whose ``build_model()`` rebuilds the spec's model (and trains it)."""
    path = check_output_path(out, source)
    src = _source(source)
    code = generate_python(src, with_training=with_training, out=path)
    compile(code, str(path), "exec")
    with _writing(path):
        atomic_write_text(path, code)
    return ExportReport("python", path, src.trained, "with training" if with_training else "model only")
