"""Loading model files safely.

A ``.keras`` file is a zip whose ``config.json`` names the classes Keras will
build. Before Keras sees a file, :func:`check_keras_file` reads that config and
refuses anything outside the closed set of classes MLP Designer itself creates
(no ``Lambda``, no custom or foreign modules). Legacy ``.h5`` models (which
can carry pickled code) are refused outright. Loading then uses Keras' own
``safe_mode=True`` as a second wall.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UserError
from .safeio import check_input_file
from .spec.registry import keras_targets

if TYPE_CHECKING:  # pragma: no cover
    import keras

#: Modules a serialized object may come from.
ALLOWED_MODULES = {
    None,
    "builtins",
    "keras",
    "keras.layers",
    "keras.initializers",
    "keras.regularizers",
    "keras.constraints",
    "keras.optimizers",
    "keras.optimizers.schedules",
    "keras.metrics",
    "keras.losses",
    "keras.activations",
    "keras.src.models.functional",
    "keras.src.models.sequential",
}

#: Classes a model file may name: what the compiler builds (every class of the registry), and Keras' own plumbing.
ALLOWED_CLASSES = {target.rsplit(".", 1)[-1] for target in keras_targets() if not target.startswith("callbacks.")} | {
    "Functional",
    "Sequential",
    "InputLayer",
    "Dense",
    "Activation",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "BatchNormalization",
    "Dropout",
    "AlphaDropout",
    "Flatten",
    "Concatenate",
    "Rescaling",
    "Normalization",
    "DTypePolicy",
    "FloatDTypePolicy",
    "GlorotUniform",
    "GlorotNormal",
    "HeUniform",
    "HeNormal",
    "LecunUniform",
    "LecunNormal",
    "Zeros",
    "Ones",
    "L1",
    "L2",
    "L1L2",
    "MaxNorm",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Nadam",
    "ExponentialDecay",
    "CosineDecay",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "RootMeanSquaredError",
    "AUC",
    "Precision",
    "Recall",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "Accuracy",
    "Mean",
    "MeanMetricWrapper",
    "LossFunctionWrapper",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "Huber",
    "LogCosh",
    "function",
    "__keras_tensor__",
    "__tuple__",
    "__numpy__",
    "__bytes__",
    "__typespec__",
    "__tensor__",
}

#: Functions a model file may name (``{"class_name": "function", "config": NAME}``) and the modules they
#: may come from: the activations, losses and metrics MLP Designer's schema offers, nothing else (not,
#: for example, ``keras.layers.deserialize``, which would build arbitrary objects at inference).
ALLOWED_FUNCTIONS = {
    "linear", "relu", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "tanh", "sigmoid", "softplus",
    "softmax", "mean_squared_error", "mse", "mean_absolute_error", "mae", "huber", "log_cosh",
    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy", "accuracy",
}
FUNCTION_MODULES = {"keras.activations", "keras.losses", "keras.metrics"}
#: Keys whose string values Keras resolves to functions; only ALLOWED_FUNCTIONS may appear there.
FUNCTION_KEYS = {"activation"}

#: What a .keras zip may contain.
ALLOWED_MEMBERS = {"metadata.json", "config.json", "model.weights.h5", "assets/"}
MAX_CONFIG_BYTES = 64 * 1024 * 1024
#: Slack for HDF5 bookkeeping when comparing declared tensor sizes with the bytes stored.
_H5_SLACK = 1024 * 1024


def _check_weights_h5(file: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse weights whose declared tensors hold more bytes than the archive stores for them.

    HDF5 can declare a dataset with no storage (read back as its fill value),
    so a few MB could otherwise make Keras allocate gigabytes. MLP Designer
    writes plain contiguous tensors: declared bytes never exceed stored ones.
    """
    import h5py

    declared = 0
    biggest = ("", 0)
    try:
        with archive.open(info) as handle, h5py.File(handle, "r") as h5:
            stack = [h5]
            while stack:
                group = stack.pop()
                for key in group:
                    item = group.get(key, getlink=False)
                    if isinstance(item, h5py.Group):
                        stack.append(item)
                    elif isinstance(item, h5py.Dataset):
                        size = int(item.size) * item.dtype.itemsize
                        declared += size
                        if size > biggest[1]:
                            biggest = (item.name, size)
                        if item.dtype.hasobject or item.dtype.kind not in "biufc":
                            raise UserError(
                                f"{file}: model.weights.h5 holds {item.name!r} of type {item.dtype}. Expected "
                                "numeric tensors only"
                            )
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - h5py raises many kinds of errors for a damaged file
        raise UserError(f"{file}: model.weights.h5 is not a readable HDF5 file: {type(exc).__name__}: {exc}") from None
    if declared > info.file_size + _H5_SLACK:
        raise UserError(
            f"{file}: model.weights.h5 declares {declared:,} bytes of tensors (the largest, {biggest[0]!r}, "
            f"{biggest[1]:,} bytes) but stores only {info.file_size:,} bytes. Expected the weights to be in the "
            "file (it is damaged or forged)"
        )


def _walk(node: Any, where: str, path: Path) -> None:
    stack: list[tuple[Any, str]] = [(node, where)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, dict):
            if "class_name" in item:
                name, module = item.get("class_name"), item.get("module")
                if name not in ALLOWED_CLASSES:
                    raise UserError(
                        f"{path}: refusing to load a model that uses {name!r} (at {at or '/'} in config.json). "
                        "Expected only the layers MLP Designer builds; Lambda layers and custom objects can run code",
                    )
                if module not in ALLOWED_MODULES:
                    raise UserError(
                        f"{path}: refusing to load a model that references module {module!r} "
                        f"(at {at or '/'} in config.json). Expected Keras' own modules only",
                    )
                if name == "function" and (
                    module not in FUNCTION_MODULES or not isinstance(item.get("config"), str)
                    or item["config"] not in ALLOWED_FUNCTIONS
                ):
                    raise UserError(
                        f"{path}: refusing to load a model that calls the function "
                        f"{str(module)[:80]}.{str(item.get('config'))[:80]} (at {at or '/'} in config.json). "
                        "Expected only the activations, losses and metrics MLP Designer builds",
                    )
                registered = item.get("registered_name")
                if registered not in (None, name) and not str(registered).startswith(("keras", "Functional")):
                    raise UserError(
                        f"{path}: refusing to load a model with the custom object {registered!r} "
                        f"(at {at or '/'} in config.json)",
                    )
            for key in FUNCTION_KEYS:
                value = item.get(key)
                if isinstance(value, str) and value not in ALLOWED_FUNCTIONS:
                    raise UserError(
                        f"{path}: refusing to load a model with the {key} {value[:80]!r} (at {at or '/'}/{key} in "
                        "config.json). Expected one of the activations MLP Designer builds",
                    )
            stack.extend((v, f"{at}/{k}") for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{at}/{i}") for i, v in enumerate(item))


def check_keras_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Refuse model files that could run code; return the parsed config of a safe one."""
    file = Path(path)
    if file.suffix.lower() in (".h5", ".hdf5"):
        raise UserError(
            f"{file}: legacy HDF5 models are not loaded (they can carry code). Expected a .keras file",
        )
    if file.suffix.lower() != ".keras":
        raise UserError(f"{file}: expected a .keras model file. Received: {file.suffix or 'no extension'!r}")
    check_input_file(file, "a .keras model file")
    try:
        archive = zipfile.ZipFile(file)
    except FileNotFoundError:
        raise UserError(f"{file}: no such model file") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise UserError(f"{file}: not a .keras model (expected a zip archive): {exc}") from None
    with archive:
        for info in archive.infolist():
            top = info.filename.split("/", 1)[0] + ("/" if "/" in info.filename else "")
            if info.filename not in ALLOWED_MEMBERS and top not in ALLOWED_MEMBERS:
                raise UserError(f"{file}: unexpected member {info.filename!r} in the model archive")
            if top == "assets/" and not info.is_dir():
                # Keras extracts assets to a temporary folder; no layer MLP Designer builds has any.
                raise UserError(
                    f"{file}: unexpected asset {info.filename!r} ({info.file_size:,} bytes) in the model archive. "
                    "Expected no assets: the layers MLP Designer builds have none"
                )
        if "model.weights.h5" in archive.namelist():
            _check_weights_h5(file, archive, archive.getinfo("model.weights.h5"))
        try:
            info = archive.getinfo("config.json")
        except KeyError:
            raise UserError(f"{file}: the model archive has no config.json") from None
        if info.file_size > MAX_CONFIG_BYTES:
            raise UserError(f"{file}: config.json is {info.file_size:,} bytes; expected at most {MAX_CONFIG_BYTES:,}")
        try:
            config = json.loads(archive.read("config.json"))
        except ValueError as exc:
            raise UserError(f"{file}: config.json is not valid JSON: {exc}") from None
        except RecursionError:
            raise UserError(f"{file}: config.json is nested too deeply. Expected a Keras model config") from None
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise UserError(f"{file}: config.json cannot be read from the archive: {exc}") from None
    _walk(config, "", file)
    return config


def load_keras_model(path: str | os.PathLike[str], *, compile: bool = True) -> keras.Model:
    """Check a .keras file, then load it with Keras' safe mode."""
    check_keras_file(path)
    from . import tfenv

    tfenv.quiet()
    import keras

    return keras.saving.load_model(str(path), compile=compile, safe_mode=True)


def check_model_matches_spec(model: Any, plan: Any, model_path: Path, spec_path: Path | None) -> None:
    """Refuse a run whose ``model.keras`` does not have the inputs and outputs its ``spec.json`` describes.

    A run folder assembled from different runs would otherwise fail deep inside Keras at prediction time.
    """
    def shapes(tensors: Any) -> list[tuple]:
        return [tuple(tensor.shape[1:]) for tensor in tensors]

    expected_in = [tuple(plan.node(name).shape) for name in plan.inputs]
    expected_out = [tuple(plan.node(name).shape) for name in plan.outputs]
    got_in, got_out = shapes(model.inputs), shapes(model.outputs)
    if got_in != expected_in or got_out != expected_out:
        raise UserError(
            f"{model_path}: the model does not match {spec_path or 'the spec'}: it takes inputs of shape "
            f"{got_in} and gives outputs of shape {got_out}. Expected inputs {expected_in} and outputs "
            f"{expected_out} (inputs {plan.inputs}, outputs {plan.outputs}). The run folder mixes files of "
            "different runs: train again."
        )
