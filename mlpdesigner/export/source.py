"""What an export starts from: a spec (untrained, seeded weights) or a run folder (trained)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..runfolder import (
    INFO_FILE,
    MODEL_FILE,
    SAMPLES_FILE,
    SPEC_FILE,
    RunInfo,
    read_json,
    remove_leftovers,
    unfinished_run_message,
)
from ..safeio import load_npz_arrays
from ..spec import Spec, load_spec

RUN_SPEC, RUN_MODEL, RUN_INFO, RUN_SAMPLES = SPEC_FILE, MODEL_FILE, INFO_FILE, SAMPLES_FILE
#: Every file of a run folder an export may read (never written over by an export).
RUN_FILES = (RUN_SPEC, RUN_MODEL, RUN_INFO, RUN_SAMPLES)


@dataclass
class ExportSource:
    """A loaded export source: the spec, and for a run folder what training left there."""

    spec: Spec
    run_dir: Path | None = None
    #: Input name -> data column names (run.json, else the spec's data section).
    columns: dict[str, list[str]] = field(default_factory=dict)
    #: Output name -> class names (run.json, else the spec's ``classes``).
    classes: dict[str, list[str]] = field(default_factory=dict)
    _model: Any = None
    _samples: Any = field(default=None, repr=False)
    _samples_loaded: bool = field(default=False, repr=False)

    @property
    def samples(self) -> dict[str, Any] | None:
        """Input name -> real rows (a run's validation sample), or None; read on first use only.

        Only the ONNX check needs them, so other exports never open the file.
        """
        if not self._samples_loaded:
            self._samples_loaded = True
            if self.run_dir is not None:
                self._samples = _load_samples(self.run_dir / RUN_SAMPLES, self.spec)
        return self._samples

    @property
    def trained(self) -> bool:
        """True for a run folder (its weights were trained)."""
        return self.run_dir is not None

    @property
    def model_file(self) -> Path | None:
        return self.run_dir / RUN_MODEL if self.run_dir else None

    def model(self) -> Any:
        """The Keras model: the run's trained model, or the spec's model seeded by its seed."""
        if self._model is None:
            if self.run_dir is None:
                from ..compile import build_model
                from ..train.memory import check_build_fits

                assert self.spec.plan is not None
                too_big = check_build_fits(self.spec.plan, f"exporting {self.spec.path or self.spec.name}")
                if too_big:
                    raise UserError(too_big)
                self._model = build_model(self.spec)
            else:
                from ..modelfile import check_model_matches_spec

                model = _load_keras(self.run_dir / RUN_MODEL)
                check_model_matches_spec(model, self.spec.plan, self.run_dir / RUN_MODEL, self.run_dir / RUN_SPEC)
                self._model = model
        return self._model


def _load_keras(path: Path) -> Any:
    from ..modelfile import check_keras_file, load_keras_model

    check_keras_file(path)  # refusals are UserErrors already, with their own message
    try:
        return load_keras_model(path)
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure here means an unreadable model file
        raise UserError(f"Cannot load the trained model {path}: {type(exc).__name__}: {exc}") from None


def _spec_columns(spec: Spec) -> dict[str, list[str]]:
    data = spec.checked()[0].get("data") or {}
    return {k: list(v) for k, v in data.get("columns", {}).items()}


def _spec_classes(spec: Spec) -> dict[str, list[str]]:
    outputs = spec.checked()[0]["outputs"]
    return {o["name"]: list(o["classes"]) for o in outputs if o.get("classes")}


def _load_samples(path: Path, spec: Spec) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    import numpy as np

    filled = spec.checked()[0]
    names = [inp["name"] for inp in filled["inputs"]]
    loaded = load_npz_arrays(path, names, "the run's sample rows")
    try:
        arrays = {name: np.asarray(array, dtype="float32") for name, array in loaded.items()}
    except (TypeError, ValueError) as exc:
        raise UserError(f"Cannot read the sample rows {path}: expected numbers: {exc}") from None
    samples = {}
    for inp in filled["inputs"]:
        name, shape = inp["name"], tuple(inp["shape"])
        if name not in arrays:
            raise UserError(f"Expected an array named {name!r} in {path}. Received: {sorted(arrays)[:20]}")
        array = arrays[name]
        if array.shape[1:] != shape or len(array) == 0:
            raise UserError(
                f"Expected the sample rows of {name!r} in {path} to have shape (rows, "
                f"{', '.join(map(str, shape))}). Received: {array.shape}"
            )
        samples[name] = array
    return samples


def load_source(source: str | os.PathLike[str] | dict[str, Any] | Spec) -> ExportSource:
    """Resolve an export source: a spec (path, dict or Spec) or a run folder.

    Raises :class:`~mlpdesigner.spec.SpecError` for an invalid spec and
    :class:`~mlpdesigner.errors.UserError` for a missing or broken run folder.
    """
    if isinstance(source, (dict, Spec)):
        spec = load_spec(source)
        return ExportSource(spec, columns=_spec_columns(spec), classes=_spec_classes(spec))
    path = Path(source)
    if not path.exists():
        raise UserError(f"Cannot export {path}: no such file or folder. Expected a spec file or a run folder")
    if not path.is_dir():
        spec = load_spec(path)
        return ExportSource(spec, columns=_spec_columns(spec), classes=_spec_classes(spec))
    for required in (RUN_SPEC, RUN_MODEL):
        if not (path / required).is_file():
            raise UserError(
                f"Expected a run folder with {RUN_SPEC} and {RUN_MODEL}. Received: {path} has no {required}",
                hint="export a spec file, or a folder written by `mlpdesigner train`",
            )
    spec = load_spec(path / RUN_SPEC)
    columns = _spec_columns(spec)
    classes = _spec_classes(spec)
    if (path / RUN_INFO).is_file():
        # Only the column and class names matter here: a run.json of any status (or none) will do.
        info = RunInfo.from_json(read_json(path / RUN_INFO), str(path / RUN_INFO), status_required=False)
        remove_leftovers(path, info)
        unfinished = unfinished_run_message(path, info)
        if unfinished:  # killed after the last epoch, model.keras may exist while run.json says "running"
            raise UserError(unfinished)
        columns.update(info.columns)
        classes.update(info.classes)
    return ExportSource(spec, run_dir=path, columns=columns, classes=classes)
