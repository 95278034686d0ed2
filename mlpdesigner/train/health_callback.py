"""The Keras callback that records layer health once per epoch (format: :mod:`mlpdesigner.train.health`).

This module imports Keras and TensorFlow at its top: import it only inside
training code (:func:`mlpdesigner.train.runner.make_callbacks` does).

Cost: one forward and backward pass over a fixed batch of at most
:data:`~mlpdesigner.train.health.BATCH_ROWS` rows per epoch (and one before
the first epoch), in one ``tf.function`` that returns every figure at once;
the function and the probe model are built once per model and reused when
``fit`` is called again.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from .. import tfenv

tfenv.quiet()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from ..spec.plan import Plan  # noqa: E402
from .health import (  # noqa: E402
    BATCH_ROWS,
    SATURATED_SHARE,
    HealthLayer,
    epoch_record,
    health_document,
    health_layers,
    write_health,
)
from .progress import Reporter  # noqa: E402


class LayerHealth(keras.callbacks.Callback):
    """Records gradient, weight, update and activation figures per dense layer, before training and per epoch.

    ``layers`` says which Keras layers to watch (by name) and which output
    carries each one's activation; ``x`` / ``y`` are the fixed batch, in the
    form the model takes. :meth:`attach` gives it the run's reporter (a
    ``health`` event per record) and folder (``health.json``, rewritten after
    every record so that a stopped or failed run keeps what was measured).
    """

    def __init__(self, layers: list[HealthLayer], x: Any, y: Any, *, split: str, rows: int) -> None:
        super().__init__()
        self.layers = layers
        self.x = x
        self.y = y
        self.split = split
        self.rows = rows
        self.reporter: Reporter | None = None
        self.run_dir: Path | None = None
        self.records: list[dict[str, Any]] = []
        self._built_for: Any = None
        self._measure: Any = None
        self._previous: list[list[Any]] = []
        self._has_previous: Any = None

    def attach(self, reporter: Reporter | None, run_dir: Path | None) -> None:
        """Send each record to ``reporter`` and keep ``health.json`` in ``run_dir``."""
        self.reporter = reporter
        self.run_dir = run_dir

    # ----- the measurement -------------------------------------------------------------------------
    def _build(self) -> None:
        model = self.model
        watched = [model.get_layer(layer.name) for layer in self.layers]
        activations = [model.get_layer(layer.activation_layer).output for layer in self.layers]
        probe = keras.Model(inputs=model.inputs, outputs=[*activations, *model.outputs])
        variables = [list(layer.trainable_variables) for layer in watched]
        self._previous = [[tf.Variable(tf.zeros_like(v), trainable=False) for v in group] for group in variables]
        self._has_previous = tf.Variable(False, trainable=False)
        dead_mask = [layer.can_die for layer in self.layers]
        saturation = [layer.saturation_limits for layer in self.layers]
        count = len(self.layers)
        single_output = len(model.outputs) == 1
        previous, has_previous = self._previous, self._has_previous

        def norm(tensors: list[Any]) -> Any:
            if not tensors:
                return tf.constant(0.0)
            return tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(tf.cast(t, tf.float32))) for t in tensors]))

        # No autograph: the loops and branches here are over Python lists and flags, and Keras marks its own
        # steps do_not_convert; converting the probe's layers cost the first record about a second (issue 18).
        @tf.function(reduce_retracing=True, autograph=False)
        def measure(x: Any, y: Any) -> dict[str, Any]:
            flat = [v for group in variables for v in group]
            with tf.GradientTape() as tape:
                outputs = probe(x, training=False)
                predictions = outputs[count:]
                y_pred = predictions[0] if single_output else list(predictions)  # as model(x) returns them
                loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
            gradients = tape.gradient(loss, flat)
            gradients = [tf.zeros_like(v) if g is None else g for v, g in zip(flat, gradients)]
            result: dict[str, Any] = {"loss": tf.cast(loss, tf.float32), "global_grad_norm": norm(gradients)}
            at = 0
            for index, group in enumerate(variables):
                grads = gradients[at:at + len(group)]
                at += len(group)
                weight_norm = norm(group)
                delta = norm([w - p for w, p in zip(group, previous[index])])
                act = tf.cast(outputs[index], tf.float32)
                act = tf.reshape(act, [tf.shape(act)[0], -1])
                figures = {
                    "grad_norm": norm(grads),
                    "weight_norm": weight_norm,
                    "update_norm": delta,
                    "act_mean": tf.reduce_mean(act),
                    "act_std": tf.math.reduce_std(act),
                }
                if dead_mask[index]:
                    figures["dead"] = tf.reduce_mean(tf.cast(tf.reduce_all(act <= 0.0, axis=0), tf.float32))
                limits = saturation[index]
                if limits is not None:
                    low, high, epsilon = limits
                    near = tf.logical_or(act <= low + epsilon, act >= high - epsilon)
                    share = tf.reduce_mean(tf.cast(near, tf.float32), axis=0)
                    figures["saturated"] = tf.reduce_mean(tf.cast(share >= SATURATED_SHARE, tf.float32))
                result[f"layer{index}"] = figures
                for w, p in zip(group, previous[index]):
                    p.assign(w)
            figures_ready = tf.identity(has_previous)
            has_previous.assign(True)
            result["has_previous"] = figures_ready
            return result

        self._measure = measure
        self._built_for = model

    def record(self, epoch: int) -> dict[str, Any] | None:
        """Measure now and keep the record (``epoch`` 0 is before training); None when it cannot be measured."""
        if self._built_for is not self.model:
            try:
                self._build()
            except Exception as exc:  # noqa: BLE001 - health is an aid: a model it cannot probe trains without it
                self._measure = None
                self._built_for = self.model
                print(f"warning: layer health is not recorded: {type(exc).__name__}: {exc}", file=sys.stderr)
        if self._measure is None:
            return None
        try:
            values = {key: _to_python(value) for key, value in self._measure(self.x, self.y).items()}
        except Exception as exc:  # noqa: BLE001 - e.g. tracing fails on a model it cannot probe: train on without
            self._measure = None
            print(f"warning: layer health is not recorded: {type(exc).__name__}: {exc}", file=sys.stderr)
            return None
        record = epoch_record(epoch, self.layers, values)
        self.records.append(record)
        if self.reporter is not None:
            self.reporter.health(record)
        if self.run_dir is not None and self.run_dir.is_dir():
            try:
                write_health(self.run_dir, health_document(self.layers, self.records, self.split, self.rows))
            except OSError as exc:
                print(f"warning: cannot write the layer health file: {exc.strerror or exc}", file=sys.stderr)
        return record

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if not self.records:
            self.record(0)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        last = self.records[-1]["epoch"] if self.records else 0
        self.record(max(epoch + 1, last + 1))  # fit called again on the same model (benchmarks): keep counting


def callbacks_for(plan: Plan, dataset: Any) -> list[Any]:
    """The health-recording callback for a run: its fixed batch comes from ``dataset``."""
    layers = health_layers(plan)
    if not layers:
        return []
    split_name = "validation" if dataset.validation.rows else "train"
    split = dataset.splits[split_name]
    if getattr(dataset, "streaming", False):  # streamed splits hold no rows: read the first ones
        split = dataset.first_rows(split_name, BATCH_ROWS)
    rows = min(BATCH_ROWS, split.rows)
    x = {name: values[:rows] for name, values in split.x.items()}
    y = {name: values[:rows] for name, values in split.y.items()}
    x_in = x[next(iter(x))] if len(x) == 1 else x
    y_in = y[next(iter(y))] if len(y) == 1 else y
    return [LayerHealth(layers, x_in, y_in, split=split_name, rows=rows)]


def attach(callbacks: list[Any], reporter: Any, run_dir: Path) -> None:
    """Give the run's health callback its reporter (``health`` events) and folder (``health.json``)."""
    for callback in callbacks:
        if isinstance(callback, LayerHealth):
            callback.attach(reporter, run_dir)


def _to_python(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _to_python(item) for key, item in value.items()}
    array = np.asarray(value)
    return array.item()
