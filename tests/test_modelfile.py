"""Model files from users are checked before Keras sees them."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mlpdesigner import build_model
from mlpdesigner.errors import UserError
from mlpdesigner.modelfile import check_keras_file, load_keras_model
from mlpdesigner.resources import example_names, example_path

keras = pytest.importorskip("keras")


@pytest.fixture
def no_keras_load(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("Keras was asked to load a file that should have been refused")

    monkeypatch.setattr(keras.saving, "load_model", forbidden)


@pytest.mark.slow
@pytest.mark.parametrize("name", example_names())
def test_every_designer_model_round_trips(name: str, tmp_path: Path) -> None:
    model = build_model(example_path(name))
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = load_keras_model(path)
    x = [np.ones((2, *t.shape[1:]), dtype="float32") for t in model.inputs]
    x = x[0] if isinstance(model, keras.Sequential) else x
    for a, b in zip(np.atleast_1d(model(x)), np.atleast_1d(loaded(x))):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


def _rewrite_config(src: Path, dst: Path, change) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                change(config)
                data = json.dumps(config).encode()
            zout.writestr(item, data)


def test_lambda_layer_is_refused_before_keras_loads(tmp_path: Path, no_keras_load: None) -> None:
    inp = keras.Input((3,), name="x")
    out = keras.layers.Lambda(lambda t: t * 2, name="evil")(inp)
    path = tmp_path / "lambda.keras"
    keras.Model(inp, out).save(path)
    with pytest.raises(UserError, match="'Lambda'"):
        load_keras_model(path)


@pytest.mark.parametrize(
    "key, value, match",
    [("module", "os", "module 'os'"), ("registered_name", "MyPackage>Evil", "custom object")],
    ids=["foreign-module", "custom-registered-object"],
)
def test_poisoned_layer_config_is_refused(
    tmp_path: Path, no_keras_load: None, key: str, value: str, match: str
) -> None:
    good = tmp_path / "good.keras"
    build_model(example_path("housing_regression"), compile=False).save(good)
    bad = tmp_path / "bad.keras"

    def poison(config: dict) -> None:
        config["config"]["layers"][1][key] = value

    _rewrite_config(good, bad, poison)
    with pytest.raises(UserError, match=match):
        check_keras_file(bad)


def test_extra_archive_member_is_refused(tmp_path: Path) -> None:
    good = tmp_path / "good.keras"
    build_model(example_path("housing_regression"), compile=False).save(good)
    with zipfile.ZipFile(good, "a") as archive:
        archive.writestr("payload.py", "import os")
    with pytest.raises(UserError, match="payload.py"):
        check_keras_file(good)


@pytest.mark.parametrize(
    "name, content, match",
    [
        ("model.h5", b"\x89HDF\r\n", "HDF5"),
        ("model.keras", b"not a zip", "zip"),
        ("model.pkl", b"", "expected a .keras"),
    ],
)
def test_other_files_are_refused(tmp_path: Path, name: str, content: bytes, match: str, no_keras_load: None) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UserError, match=match):
        load_keras_model(path)
