"""Training throughput: MLP Designer's training path against plain Keras `fit`, scikit-learn's MLP and PyTorch.

Three networks, each on 20,000 synthetic rows, batch 32, Adam (learning rate
0.001), on the CPU:

- ``small``: 8-30-30-1 regression (two ReLU layers of 30, one linear unit, MSE);
- ``binary``: 30-64-BN-32-1 binary classifier (ReLU, batch normalization,
  dropout 0.2 as in the ``binary_batchnorm_dropout`` starter design, one
  logistic unit, binary cross-entropy);
- ``multiclass``: 784-300-100-10 classifier (ReLU, 10-way softmax, sparse
  categorical cross-entropy), the Fashion-MNIST-sized network.

Sides, all in this process, alternating within each repeat:

- ``mlpdesigner``: the training runner's own path (``resolve_settings`` /
  ``build_for_training`` / ``fit_model`` with the run's callbacks and monitor);
- ``keras``: the same compiled model as ``build_model(spec)`` gives (Keras's
  defaults: ``steps_per_execution=1``, ``jit_compile`` "auto", i.e. off on the
  CPU) trained by the plain ``model.fit(x, y, batch_size=32)`` a user would
  write by hand;
- ``keras_same_spe``: plain Keras with the one setting that makes the
  difference: the same model compiled with MLP Designer's
  ``steps_per_execution``, fed the NumPy arrays by ``model.fit``;
- ``sklearn``: scikit-learn's ``MLPRegressor`` / ``MLPClassifier`` (same hidden
  widths, ReLU, Adam at the same learning rate, batch 32, no L2 penalty, inputs
  standardized beforehand as the other sides do in the model), one
  ``partial_fit`` pass per epoch (one shuffled pass, ``ceil(rows / 32)``
  updates). It has no batch normalization or dropout: on the ``binary`` network
  it trains 30-64-32-1 without them (less work than the other sides);
- ``torch_dataloader``: the tutorial PyTorch loop: ``nn.Sequential``,
  ``DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)``,
  ``zero_grad / loss.backward() / step``;
- ``torch_indexed``: the same loop over a fresh ``torch.randperm`` each epoch,
  slicing the tensors 32 rows at a time (no ``DataLoader`` per-row collation);
- ``torch_indexed_1thread``: the same with ``torch.set_num_threads(1)``: on a
  busy 2-core machine PyTorch's default (one intra-op thread per core) can be
  several times slower for a tiny network, so the best PyTorch side is the bar.

Every side makes ``ceil(rows / 32)`` optimizer updates per epoch (checked for
the Keras sides and scikit-learn). Each side first trains one epoch from a
freshly built model: its time is the *first epoch* (graph tracing included);
then each repeat times ``epochs`` epochs of every side; the figure is the
median over repeats. Ratios are MLP Designer's speed over the other side's
(above 1: MLP Designer is faster).

Achieved GFLOP/s counts ``6 * W`` floating-point operations per training
sample, where ``W`` is the number of dense-layer weights (multiply-adds of the
forward pass; 2 FLOPs per multiply-add; forward + backward ~ 3x forward).
Biases, activations, normalization and the optimizer update are not counted,
so this slightly understates the work. It is quoted as a fraction of a NumPy
float32 1024x1024 matrix multiply measured in the same run (``2 * n**3`` FLOPs,
fastest of 20 runs, before and after the cases: the machine's peak).
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROWS = 20_000
BATCH_SIZE = 32
LEARNING_RATE = 0.001
#: PyTorch sides: (name, DataLoader or randperm slicing, intra-op threads; None = PyTorch's default).
TORCH_SIDES = (("torch_dataloader", True, None), ("torch_indexed", False, None), ("torch_indexed_1thread", False, 1))


@dataclass
class Case:
    """One network of the benchmark: its spec, data and PyTorch twin."""

    key: str
    title: str
    input_size: int
    hidden: list[dict[str, Any]]
    output: dict[str, Any]
    make_data: Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]]

    def dense_sizes(self) -> list[tuple[int, int]]:
        """(inputs, units) of every dense layer, the output layer included."""
        sizes, width = [], self.input_size
        for layer in self.hidden:
            if layer["type"] == "dense":
                sizes.append((width, layer["units"]))
                width = layer["units"]
        sizes.append((width, self.output["units"]))
        return sizes

    def dense_weights(self) -> int:
        """W: the dense layers' weights (multiply-adds per sample in the forward pass)."""
        return sum(a * b for a, b in self.dense_sizes())

    def spec(self, data_file: Path, epochs: int) -> dict[str, Any]:
        """The MLP Designer spec of this network; all rows train (no validation or test split)."""
        return {
            "format": "mlpdesigner/1",
            "name": f"bench_{self.key}",
            "inputs": [{"name": "features", "shape": [self.input_size]}],
            "network": {"topology": "sequential", "layers": self.hidden},
            "outputs": [self.output],
            "training": {
                "optimizer": {"name": "adam", "learning_rate": LEARNING_RATE},
                "epochs": epochs,
                "batch_size": BATCH_SIZE,
                "seed": 42,
            },
            "data": {
                "path": str(data_file),
                # The .npz file holds one block per input and output name; the columns only name what is in it.
                "columns": {
                    "features": [f"x{i}" for i in range(self.input_size)],
                    "target": [
                        f"y{i}" for i in range(self.output["units"] if self.output["task"] == "regression" else 1)
                    ],
                },
                "validation_split": 0.0,
                "test_split": 0.0,
            },
        }


def _regression_data(rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(rows, 8)).astype(np.float32)
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] * x[:, 2] + 0.3 * x[:, 3:].sum(axis=1) + rng.normal(0, 0.1, rows)
    return x, y.astype(np.float32).reshape(-1, 1)


def _binary_data(rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(rows, 30)).astype(np.float32)
    score = x @ rng.normal(size=30) + 0.5 * np.sin(3 * x[:, 0]) + rng.normal(0, 0.5, rows)
    return x, (score > 0).astype(np.int64)


def _multiclass_data(rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.random(size=(rows, 784), dtype=np.float32)
    labels = np.argmax(x @ rng.normal(size=(784, 10)).astype(np.float32), axis=1)
    return x, labels.astype(np.int64)


def _dense(units: int) -> dict[str, Any]:
    return {"type": "dense", "units": units, "activation": "relu", "kernel_initializer": "he_normal"}


CASES = (
    Case(
        "small",
        "8-30-30-1 regression",
        8,
        [_dense(30), _dense(30)],
        {"name": "target", "task": "regression", "units": 1},
        _regression_data,
    ),
    Case(
        "binary",
        "30-64-BN-32-1 binary",
        30,
        [_dense(64), {"type": "batch_normalization"}, {"type": "dropout", "rate": 0.2}, _dense(32)],
        {"name": "target", "task": "binary", "units": 1},
        _binary_data,
    ),
    Case(
        "multiclass",
        "784-300-100-10 multiclass",
        784,
        [_dense(300), _dense(100)],
        {"name": "target", "task": "multiclass", "units": 10},
        _multiclass_data,
    ),
)


# --------------------------------------------------------------------------- reference: NumPy matmul


def numpy_matmul_gflops(n: int = 1024, repeats: int = 20) -> float:
    """Peak GFLOP/s of a float32 ``n x n`` NumPy matrix multiply (``2 * n**3`` FLOPs, fastest of ``repeats``).

    The fastest run is the one least disturbed by other work: the machine's capability.
    """
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    a @ b  # warm-up
    fastest = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        fastest = min(fastest, time.perf_counter() - start)
    return 2 * n**3 / fastest / 1e9


# --------------------------------------------------------------------------- PyTorch


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _torch_network(case: Case) -> Any:
    """The case's network in PyTorch (Keras's batch-normalization epsilon and momentum)."""
    from torch import nn

    layers: list[Any] = []
    width = case.input_size
    for layer in case.hidden:
        if layer["type"] == "dense":
            layers += [nn.Linear(width, layer["units"]), nn.ReLU()]
            width = layer["units"]
        elif layer["type"] == "batch_normalization":
            layers.append(nn.BatchNorm1d(width, eps=1e-3, momentum=0.01))
        elif layer["type"] == "dropout":
            layers.append(nn.Dropout(layer["rate"]))
        else:  # pragma: no cover - the cases above use only these
            raise ValueError(f"Expected dense, batch_normalization or dropout. Received: {layer['type']}")
    layers.append(nn.Linear(width, case.output["units"]))
    for module in layers:
        if isinstance(module, nn.Linear):  # he_normal, as the spec asks
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            nn.init.zeros_(module.bias)
    return nn.Sequential(*layers)


def _torch_loss(case: Case) -> Any:
    from torch import nn

    task = case.output["task"]
    if task == "regression":
        return nn.MSELoss()
    if task == "binary":
        return nn.BCEWithLogitsLoss()  # the logistic unit folded into the loss, as PyTorch users write it
    return nn.CrossEntropyLoss()  # softmax folded into the loss


def _torch_tensors(case: Case, x: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    import torch

    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    if case.output["task"] == "multiclass":
        yt = torch.from_numpy(y.reshape(-1).astype(np.int64))
    else:
        yt = torch.from_numpy(y.reshape(-1, 1).astype(np.float32))
    return xt, yt


class TorchTrainer:
    """An idiomatic PyTorch training loop; ``fit(epochs)`` returns the number of optimizer updates."""

    def __init__(
        self, case: Case, x: np.ndarray, y: np.ndarray, use_dataloader: bool, threads: int | None = None
    ) -> None:
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        torch.manual_seed(42)
        self.threads = threads
        self.x, self.y = _torch_tensors(case, x, y)
        self.model = _torch_network(case)
        self.loss_fn = _torch_loss(case)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LEARNING_RATE)
        self.loader = (
            DataLoader(TensorDataset(self.x, self.y), batch_size=BATCH_SIZE, shuffle=True) if use_dataloader else None
        )

    def _batches(self) -> Any:
        import torch

        if self.loader is not None:
            yield from self.loader
            return
        order = torch.randperm(len(self.x))
        for start in range(0, len(order), BATCH_SIZE):
            index = order[start : start + BATCH_SIZE]
            yield self.x[index], self.y[index]

    def fit(self, epochs: int) -> int:
        import torch

        if self.threads is None:
            return self._fit(epochs)
        previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            return self._fit(epochs)
        finally:
            torch.set_num_threads(previous)

    def _fit(self, epochs: int) -> int:
        updates = 0
        self.model.train()
        for _ in range(epochs):
            for xb, yb in self._batches():
                self.optimizer.zero_grad()
                loss = self.loss_fn(self.model(xb), yb)
                loss.backward()
                self.optimizer.step()
                updates += 1
        return updates

    def train_loss(self) -> float:
        import torch

        self.model.eval()
        with torch.no_grad():
            return float(self.loss_fn(self.model(self.x), self.y))


# --------------------------------------------------------------------------- scikit-learn


def sklearn_available() -> bool:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return False
    return True


class SklearnTrainer:
    """scikit-learn's MLP on the case's dense widths; ``fit(epochs)`` returns the optimizer updates made."""

    def __init__(self, case: Case, x: np.ndarray, y: np.ndarray) -> None:
        from sklearn.neural_network import MLPClassifier, MLPRegressor
        from sklearn.preprocessing import StandardScaler

        widths = tuple(layer["units"] for layer in case.hidden if layer["type"] == "dense")
        options = dict(hidden_layer_sizes=widths, activation="relu", solver="adam", alpha=0.0,
                       batch_size=BATCH_SIZE, learning_rate_init=LEARNING_RATE, shuffle=True, random_state=42)
        self.task = case.output["task"]
        self.model = MLPRegressor(**options) if self.task == "regression" else MLPClassifier(**options)
        self.x = StandardScaler().fit_transform(x).astype(np.float32)
        self.y = y.reshape(-1) if self.task != "regression" else y.reshape(-1)
        self.classes = np.unique(self.y) if self.task != "regression" else None

    def fit(self, epochs: int) -> int:
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        updates = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for _ in range(epochs):
                seen = getattr(self.model, "t_", 0)
                if self.classes is not None:
                    self.model.partial_fit(self.x, self.y, classes=self.classes)
                else:
                    self.model.partial_fit(self.x, self.y)
                if self.model.t_ - seen != len(self.x):
                    raise AssertionError(f"sklearn: Expected one pass of {len(self.x)} rows per partial_fit")
                updates += math.ceil(len(self.x) / BATCH_SIZE)
        return updates

    def train_loss(self) -> float:
        if self.task == "regression":
            return float(np.mean((self.model.predict(self.x) - self.y) ** 2))
        from sklearn.metrics import log_loss

        return float(log_loss(self.y, self.model.predict_proba(self.x), labels=self.classes))


# --------------------------------------------------------------------------- Keras sides


class KerasSides:
    """The MLP Designer path and the plain ``fit`` path of one case, on the same data."""

    def __init__(self, case: Case, x: np.ndarray, y: np.ndarray, epochs: int) -> None:
        from mlpdesigner.compile import build_model
        from mlpdesigner.spec import load_spec
        from mlpdesigner.train.callbacks import RunMonitor
        from mlpdesigner.train.data import load_dataset
        from mlpdesigner.train.progress import Reporter, StopRequest
        from mlpdesigner.train.runner import build_for_training, make_callbacks, resolve_settings

        with tempfile.TemporaryDirectory() as tmp:
            data_file = Path(tmp) / "bench.npz"
            target = y.reshape(-1) if case.output["task"] != "regression" else y
            np.savez(data_file, features=x, target=target)
            spec = load_spec(case.spec(data_file, epochs))
            self.dataset = load_dataset(spec)
        self.x = self.dataset.train.x["features"]
        self.y = self.dataset.train.y["target"]
        self.plain = build_model(spec)  # Keras's defaults: steps_per_execution=1, jit_compile "auto"
        self.settings = resolve_settings(spec, self.dataset, "cpu", "cpu")
        self.ours = build_for_training(spec, self.dataset, self.settings)
        # Plain Keras with MLP Designer's steps_per_execution (and jit_compile), fed NumPy arrays.
        self.same_spe = build_model(spec, steps_per_execution=self.settings.steps_per_execution,
                                    jit_compile=self.settings.jit_compile)
        self.callbacks = [
            *make_callbacks(spec, self.dataset, self.settings),
            RunMonitor(Reporter(), StopRequest(), epochs=self.settings.epochs, steps=self.settings.steps_per_epoch),
        ]

    def fit_plain(self, epochs: int) -> int:
        before = int(self.plain.optimizer.iterations.numpy())
        self.plain.fit(self.x, self.y, batch_size=BATCH_SIZE, epochs=epochs, verbose=0)
        return int(self.plain.optimizer.iterations.numpy()) - before

    def fit_same_spe(self, epochs: int) -> int:
        before = int(self.same_spe.optimizer.iterations.numpy())
        self.same_spe.fit(self.x, self.y, batch_size=BATCH_SIZE, epochs=epochs, verbose=0)
        return int(self.same_spe.optimizer.iterations.numpy()) - before

    def fit_ours(self, epochs: int) -> int:
        from mlpdesigner.train.runner import fit_model

        before = int(self.ours.optimizer.iterations.numpy())
        self.settings.epochs = epochs
        fit_model(self.ours, self.dataset, self.settings, self.callbacks)
        return int(self.ours.optimizer.iterations.numpy()) - before

    def train_loss(self, model: Any) -> float:
        return float(model.evaluate(self.x, self.y, batch_size=1024, verbose=0, return_dict=True)["loss"])


# --------------------------------------------------------------------------- the measurement


def measure_case(
    case: Case, rows: int, epochs: int, repeats: int, with_torch: bool, with_sklearn: bool = True
) -> dict[str, Any]:
    """Samples per second of every side of one case (median of ``repeats``), updates and losses."""
    x, y = case.make_data(rows, np.random.default_rng(0))
    keras_sides = KerasSides(case, x, y, epochs)
    fits: dict[str, Callable[[int], int]] = {
        "mlpdesigner": keras_sides.fit_ours,
        "keras": keras_sides.fit_plain,
        "keras_same_spe": keras_sides.fit_same_spe,
    }
    losses: dict[str, Callable[[], float]] = {
        "mlpdesigner": lambda: keras_sides.train_loss(keras_sides.ours),
        "keras": lambda: keras_sides.train_loss(keras_sides.plain),
        "keras_same_spe": lambda: keras_sides.train_loss(keras_sides.same_spe),
    }
    if with_sklearn:
        sklearn_side = SklearnTrainer(case, x, y)
        fits["sklearn"] = sklearn_side.fit
        losses["sklearn"] = sklearn_side.train_loss
    if with_torch:
        for name, use_dataloader, threads in TORCH_SIDES:
            trainer = TorchTrainer(case, x, y, use_dataloader, threads)
            fits[name] = trainer.fit
            losses[name] = trainer.train_loss
    expected = math.ceil(rows / BATCH_SIZE) * epochs
    first_epoch: dict[str, float] = {}
    for name, fit in fits.items():  # the first epoch of a fresh model: tracing, graph building, allocator
        start = time.perf_counter()
        fit(1)
        first_epoch[name] = time.perf_counter() - start
    times: dict[str, list[float]] = {name: [] for name in fits}
    for _ in range(repeats):
        for name, fit in fits.items():
            start = time.perf_counter()
            updates = fit(epochs)
            times[name].append(time.perf_counter() - start)
            if updates != expected:
                raise AssertionError(f"{case.key}/{name}: Expected {expected} updates per repeat. Received: {updates}")
    return {
        "samples_per_second": {name: rows * epochs / statistics.median(t) for name, t in times.items()},
        "epoch_seconds": {name: statistics.median(t) / epochs for name, t in times.items()},
        "first_epoch_seconds": first_epoch,
        "seconds": {name: [round(s, 3) for s in t] for name, t in times.items()},
        "train_loss_after": {name: round(loss(), 4) for name, loss in losses.items()},
        "steps_per_execution": keras_sides.settings.steps_per_execution,
        "updates_per_repeat": expected,
    }


def _epochs_repeats(case: Case, quick: bool) -> tuple[int, int]:
    """Epochs per timed repeat and repeats: more epochs for the fast small network, fewer when quick."""
    return (2 if case.key == "small" and not quick else 1), (3 if quick else 5)


def _warm_up_runtime() -> None:
    """One tiny Keras fit, so that TensorFlow's one-time start-up is not billed to the first side's first epoch."""
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    keras.utils.set_random_seed(0)  # op determinism (setup_device) wants seeded random ops
    model.fit(np.zeros((64, 2), np.float32), np.zeros((64, 1), np.float32), batch_size=32, epochs=1, shuffle=False,
              verbose=0)


def run(quick: bool = False) -> dict[str, Any]:
    """Flat figures of the training benchmark for ``python -m bench``."""
    from mlpdesigner import tfenv

    tfenv.quiet()
    from mlpdesigner.train.runner import setup_device

    setup_device("cpu")
    with_torch = torch_available()
    with_sklearn = sklearn_available()
    _warm_up_runtime()
    matmul = numpy_matmul_gflops()  # measured again after the cases; the best of both is the reference
    results: dict[str, Any] = {
        "rows": ROWS,
        "batch_size": BATCH_SIZE,
        "optimizer": f"adam lr={LEARNING_RATE}",
        "numpy_matmul_float32_1024_gflops": round(matmul, 1),
        "flops_per_sample_formula": "6 * dense weights (2 per multiply-add, forward + backward = 3x forward)",
        "torch": "measured" if with_torch else "skipped: torch is not installed (pip install torch to compare)",
        "sklearn": "measured" if with_sklearn else "skipped: scikit-learn is not installed",
    }
    tables: dict[str, list[dict[str, Any]]] = {}
    measured = {}
    for case in CASES:
        measured[case.key] = measure_case(case, ROWS, *_epochs_repeats(case, quick), with_torch, with_sklearn)
    matmul = max(matmul, numpy_matmul_gflops())
    results["numpy_matmul_float32_1024_gflops"] = round(matmul, 1)
    for case in CASES:
        epochs, repeats = _epochs_repeats(case, quick)
        figures = measured[case.key]
        sps = figures["samples_per_second"]
        flops_per_sample = 6 * case.dense_weights()
        prefix = case.key
        results[f"{prefix}_model"] = case.title
        results[f"{prefix}_epochs_per_repeat"] = epochs
        results[f"{prefix}_repeats"] = repeats
        results[f"{prefix}_mlpdesigner_steps_per_execution"] = figures["steps_per_execution"]
        rows_out = []
        for side, value in sps.items():
            gflops = value * flops_per_sample / 1e9
            results[f"{prefix}_{side}_samples_per_second"] = round(value)
            results[f"{prefix}_{side}_gflops"] = round(gflops, 3)
            results[f"{prefix}_{side}_gflops_to_numpy_matmul_ratio"] = round(gflops / matmul, 4)
            results[f"{prefix}_{side}_train_loss_after"] = figures["train_loss_after"][side]
            first = figures["first_epoch_seconds"][side]
            results[f"{prefix}_{side}_epoch_seconds"] = round(figures["epoch_seconds"][side], 3)
            results[f"{prefix}_{side}_first_epoch_seconds"] = round(first, 3)
            rows_out.append(
                {
                    "side": side,
                    "samples/s": round(value),
                    "epoch s": round(figures["epoch_seconds"][side], 3),
                    "mlpdesigner ratio": round(sps["mlpdesigner"] / value, 2),
                    "first epoch s": round(first, 2),
                    "mlpdesigner first-epoch ratio": round(first / figures["first_epoch_seconds"]["mlpdesigner"], 2),
                    "GFLOP/s": round(gflops, 2),
                    "of NumPy matmul": f"{100 * gflops / matmul:.1f}%",
                    "train loss after": figures["train_loss_after"][side],
                }
            )
        results[f"{prefix}_mlpdesigner_vs_keras_ratio"] = round(sps["mlpdesigner"] / sps["keras"], 2)
        results[f"{prefix}_mlpdesigner_vs_keras_same_spe_ratio"] = round(sps["mlpdesigner"] / sps["keras_same_spe"], 2)
        firsts = figures["first_epoch_seconds"]
        if with_sklearn:
            results[f"{prefix}_mlpdesigner_vs_sklearn_ratio"] = round(sps["mlpdesigner"] / sps["sklearn"], 2)
            results[f"{prefix}_mlpdesigner_vs_sklearn_first_epoch_ratio"] = round(
                firsts["sklearn"] / firsts["mlpdesigner"], 2
            )
        results[f"{prefix}_mlpdesigner_vs_keras_same_spe_first_epoch_ratio"] = round(
            firsts["keras_same_spe"] / firsts["mlpdesigner"], 2
        )
        if with_torch:
            for name, _, _ in TORCH_SIDES:
                results[f"{prefix}_mlpdesigner_vs_{name}_ratio"] = round(sps["mlpdesigner"] / sps[name], 2)
            best_torch = max(sps[name] for name, _, _ in TORCH_SIDES)
            results[f"{prefix}_mlpdesigner_vs_best_torch_ratio"] = round(sps["mlpdesigner"] / best_torch, 2)
        results[f"{prefix}_seconds_per_repeat"] = figures["seconds"]
        tables[f"{case.title}: {ROWS:,} rows, {epochs} epoch(s) per repeat, median of {repeats}"] = rows_out
    results["goal_small_vs_keras_ratio"] = 3
    results["goal_small_vs_torch_ratio"] = 1
    results["goal_small_vs_sklearn_ratio"] = 1
    results["goal_every_vs_keras_ratio"] = 1
    results["tables"] = tables
    return results


if __name__ == "__main__":  # python -m bench.training [--quick]
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=1))
