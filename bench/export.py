"""Export and inference: ONNX export time of the Fashion-MNIST-sized example; inference latency.

Export: ``mlpdesigner.export.export_onnx`` of ``fashion_mnist_classifier.json``
(784-300-100-10 with its seeded, untrained weights), conversion plus the
built-in onnxruntime-against-Keras check, as a user runs it. The first export
in the section's fresh process includes importing TensorFlow, tf2onnx and
onnxruntime ("cold", what ``mlpdesigner export`` pays); later ones are "warm".

Inference: median latency per call at batch 1 and 1,024 of the same model in
onnxruntime (``InferenceSession.run``), Keras ``model.predict(x)``, and the
direct call ``model(x, training=False)`` (converted to NumPy), side by side in
this process on the same random float32 input. Ratios are Keras time over
onnxruntime time (above 1: onnxruntime is faster).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import median_seconds

EXAMPLE = "fashion_mnist_classifier"
BATCHES = (1, 1024)


def run(quick: bool = False) -> dict[str, Any]:
    """Export seconds (cold, warm), inference milliseconds per call, and Keras-over-onnxruntime ratios."""
    from mlpdesigner import tfenv

    tfenv.quiet()
    from mlpdesigner.export import export_onnx, load_source
    from mlpdesigner.resources import example_path

    results: dict[str, Any] = {"model": f"{EXAMPLE}.json (784-300-100-10, untrained seeded weights)"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "model.onnx"
        export_times = []
        for _ in range(2 if quick else 3):
            out.unlink(missing_ok=True)
            start = time.perf_counter()
            report = export_onnx(example_path(EXAMPLE), out)
            export_times.append(time.perf_counter() - start)
        results["onnx_export_cold_s"] = round(export_times[0], 2)
        results["onnx_export_warm_s"] = round(statistics.median(export_times[1:]), 2)
        results["onnx_export_max_abs_diff"] = float(f"{report.max_abs_diff:.3g}")
        results["onnx_file_kib"] = round(out.stat().st_size / 1024)

        import onnxruntime as ort

        session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
        input_name = session.get_inputs()[0].name
        model = load_source(example_path(EXAMPLE)).model()
        rng = np.random.default_rng(0)
        for batch in BATCHES:
            x = rng.random((batch, 28, 28), dtype=np.float32)
            repeats = 5 if quick else (30 if batch == 1 else 10)
            sides = {
                "onnxruntime": lambda x=x: session.run(None, {input_name: x}),
                "keras_predict": lambda x=x: model.predict(x, batch_size=max(32, len(x)), verbose=0),
                "keras_direct_call": lambda x=x: np.asarray(model(x, training=False)),
            }
            reference = np.asarray(sides["keras_direct_call"]())
            ort_out = sides["onnxruntime"]()[0]
            results[f"batch_{batch}_onnx_vs_keras_max_abs_diff"] = float(f"{np.abs(ort_out - reference).max():.3g}")
            ms = {name: median_seconds(func, repeats=repeats, warmup=2) * 1000 for name, func in sides.items()}
            for name, value in ms.items():
                results[f"batch_{batch}_{name}_ms"] = round(value, 3)
            results[f"batch_{batch}_keras_predict_vs_onnxruntime_ratio"] = round(
                ms["keras_predict"] / ms["onnxruntime"], 1
            )
            results[f"batch_{batch}_keras_direct_call_vs_onnxruntime_ratio"] = round(
                ms["keras_direct_call"] / ms["onnxruntime"], 1
            )
    return results


if __name__ == "__main__":  # python -m bench.export [--quick]
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=1))
