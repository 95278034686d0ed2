"""Pure-Python model summary: layers, output shapes and parameter counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .loader import Spec, load_spec


@dataclass(frozen=True)
class LayerRow:
    """One row of the summary table."""

    name: str
    keras_class: str
    output_shape: tuple[int | None, ...]
    params: int
    trainable_params: int
    inputs: tuple[str, ...]
    spec_path: str
    role: str


@dataclass(frozen=True)
class Summary:
    """What Keras' ``model.summary()`` says, computed without TensorFlow."""

    name: str
    layers: tuple[LayerRow, ...]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "layers": [
                {
                    "name": row.name,
                    "class": row.keras_class,
                    "output_shape": list(row.output_shape),
                    "params": row.params,
                    "trainable_params": row.trainable_params,
                    "inputs": list(row.inputs),
                    "path": row.spec_path,
                    "role": row.role,
                }
                for row in self.layers
            ],
        }

    def format_table(self) -> str:
        """A fixed-width table like Keras' summary."""
        header = ("Layer (type)", "Output shape", "Param #", "Connected to")
        rows = [
            (
                f"{row.name} ({row.keras_class})",
                "(" + ", ".join("None" if d is None else str(d) for d in row.output_shape) + ")",
                f"{row.params:,}",
                ", ".join(row.inputs),
            )
            for row in self.layers
        ]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
        line = "  ".join(f"{{:<{w}}}" for w in widths)
        out = [f'Model: "{self.name}"', line.format(*header).rstrip(), "-" * (sum(widths) + 6)]
        out += [line.format(*r).rstrip() for r in rows]
        out += [
            "-" * (sum(widths) + 6),
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
        ]
        return "\n".join(out)


def summarize(source: Any) -> Summary:
    """Summarize a spec (path, dict or :class:`Spec`); raises SpecError when invalid."""
    spec: Spec = load_spec(source)
    plan = spec.checked()[1]
    rows = tuple(
        LayerRow(
            n.name,
            n.keras_class,
            (None, *n.shape),
            n.params,
            n.trainable_params,
            tuple(n.inputs),
            n.spec_path,
            n.role,
        )
        for n in plan.nodes
    )
    return Summary(
        plan.name,
        rows,
        plan.total_params,
        plan.trainable_params,
        plan.non_trainable_params,
        tuple(plan.inputs),
        tuple(plan.outputs),
    )
