"""What works without a display: the message the CLI and the designer print when no window can open.

Kept apart from :mod:`mlpdesigner.cli` so that the designer can print it
without importing the commands (and, through them, TensorFlow).
"""

from __future__ import annotations

import shlex

from .spec import read_file


def headless_help(file: str) -> str:
    """What works without a display, with ``file`` filled in so that each line runs as shown.

    Training (and exporting its run) is offered only for a design whose data file exists.
    """
    shown = shlex.quote(file)
    lines = [
        "Without a display, these work:",
        f"  mlpdesigner summary {shown}   # layers, shapes and parameter counts",
        f"  mlpdesigner validate {shown}   # problems and design advice",
    ]
    spec = read_file(file)
    data_file = spec.data_file() if spec.ok else None
    if data_file is not None and data_file.is_file():
        lines += [
            f"  mlpdesigner train {shown} --out run1   # train on the design's data",
            "  mlpdesigner export run1 --format onnx -o model.onnx   # a verified ONNX file of that run",
        ]
    else:
        lines.append(f"  mlpdesigner export {shown} --format onnx -o model.onnx   # a verified ONNX file (untrained)")
    lines.append(f"  mlpdesigner gui {shown} --screenshot window.png   # the designer window as a picture")
    return "\n".join(lines)
