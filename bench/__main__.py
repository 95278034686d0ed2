"""``python -m bench [--quick] [--only SECTION ...]``: run the benchmarks and write the results.

Writes ``bench/results/latest.json`` (figures, machine, versions) and
``bench/results/latest.md`` (the table the README quotes). Each section runs
in its own fresh Python process (:func:`run_section`), one after the other.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import machine

RESULTS = Path(__file__).resolve().parent / "results"

#: section name -> (module, title)
SECTIONS = {
    "editing": ("bench.editing", "Editing latency (load + validate + summarize + lint)"),
    "training": ("bench.training", "Training throughput"),
    "startup": ("bench.startup", "Designer start"),
    "warm_worker": ("bench.warm_worker", "Train in the designer: fresh child vs warm worker"),
    "export": ("bench.export", "Export and inference"),
    "memory": ("bench.memory", "Memory"),
    "step_cost": ("bench.step_cost", "Per-step cost of training (ops per step; metrics and XLA variants)"),
    "pipeline": ("bench.pipeline", "Input pipeline at 200k and 2M rows (per-epoch time and peak RSS vs NumPy-fed fit)"),
    "scale": ("bench.scale", "Scale: streamed data vs in memory (samples/s, peak RSS)"),
    "quality": ("bench.quality", "Quality on real data (starter designs vs scikit-learn's MLP and a constant)"),
    "e2e": ("bench.e2e", "End to end: mlpdesigner train vs scikit-learn's MLPRegressor (housing starter)"),
    "predict": ("bench.predict", "Prediction: mlpdesigner predict vs a pandas + onnxruntime script (100k rows)"),
    "script": ("bench.script_speed", "Generated training script vs mlpdesigner train (wall time)"),
    "search": ("bench.search", "Hyperparameter search (mlpdesigner search on a local Ray)"),
}


def _table(caption: str, rows: list[dict[str, Any]]) -> list[str]:
    """A section's side-by-side table (``section["tables"][caption]``) as Markdown lines."""
    if not rows:
        return []
    columns = list(rows[0])
    lines = [f"**{caption}**", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows]
    return [*lines, ""]


def _markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Measured {results['date']} on {results['machine']['platform']} "
        f"({results['machine']['cpu_count']} CPUs), Python {results['machine']['python']}, "
        f"TensorFlow {results['machine'].get('tensorflow')}, Keras {results['machine'].get('keras')}, "
        f"torch {results['machine'].get('torch') or 'not installed'}.",
        "Ratios compare side-by-side runs in the same process; absolute times are context only.",
        "",
    ]
    dates = results.get("section_dates", {})
    if len(set(dates.values())) > 1:
        lines.insert(
            -1, "Sections measured at different times: " + ", ".join(f"{k} {dates[k]}" for k in SECTIONS if k in dates)
        )
    for name, (_, title) in SECTIONS.items():
        section = results["sections"].get(name)
        if section is None:
            continue
        lines += [f"## {title}", ""]
        for caption, rows in section.get("tables", {}).items():
            lines += _table(caption, rows)
        lines += ["| measure | value |", "|---|---|"]
        for key, value in section.items():
            if key == "tables":
                continue
            shown = f"**{value}**" if "ratio" in key else value
            lines.append(f"| `{key}` | {shown} |")
        lines.append("")
    return "\n".join(lines)


#: Runs one section in a fresh interpreter and writes its figures (or its error) as JSON to argv[3].
_SECTION_CHILD = """
import importlib, json, sys, traceback
module_name, quick, out = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
try:
    section = importlib.import_module(module_name).run(quick=quick)
except Exception as exc:
    traceback.print_exc()
    section = {"error": f"{type(exc).__name__}: {exc}"}
with open(out, "w", encoding="utf-8") as handle:
    json.dump(section, handle)
"""


def run_section(module_name: str, quick: bool) -> dict[str, Any]:
    """One section's figures, measured in its own fresh Python process.

    A fresh process per section keeps them independent: no thread pools left
    by another library (PyTorch, onnxruntime, TensorFlow) compete with the
    next section, "cold" means cold, and children started by a section do not
    inherit a large parent's memory high-water mark.
    """
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    with tempfile.TemporaryDirectory(prefix="mlpdesigner-bench-") as tmp:
        out = Path(tmp) / "section.json"
        proc = subprocess.run(
            [sys.executable, "-c", _SECTION_CHILD, module_name, "1" if quick else "0", str(out)],
            cwd=root,
            env=env,
            check=False,
        )
        if not out.exists():
            return {"error": f"the section's process exited {proc.returncode} without results (see its output)"}
        return json.loads(out.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (for a smoke run)")
    parser.add_argument("--only", nargs="+", choices=sorted(SECTIONS), help="run only these sections")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for latest.json and latest.md")
    parser.add_argument(
        "--keep-others",
        action="store_true",
        help="with --only: keep the other sections' figures from the existing latest.json (their dates are listed)",
    )
    args = parser.parse_args(argv)
    date = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    results: dict[str, Any] = {"date": date, "machine": machine(), "sections": {}, "section_dates": {}}
    previous_file = args.out / "latest.json"
    if args.keep_others and args.only and previous_file.exists():
        previous = json.loads(previous_file.read_text(encoding="utf-8"))
        for name, section in previous.get("sections", {}).items():
            if name in SECTIONS and name not in args.only:
                results["sections"][name] = section
                results["section_dates"][name] = previous.get("section_dates", {}).get(name, previous.get("date"))
    started = time.perf_counter()
    for name in args.only or SECTIONS:
        module_name, title = SECTIONS[name]
        print(f"== {title}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        section = run_section(module_name, args.quick)
        section["section_seconds"] = round(time.perf_counter() - t0, 1)
        results["sections"][name] = section
        results["section_dates"][name] = date
        print(json.dumps(section, indent=1), file=sys.stderr, flush=True)
    results["sections"] = {name: results["sections"][name] for name in SECTIONS if name in results["sections"]}
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    results["machine"] = machine()  # versions of what the sections imported
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (args.out / "latest.md").write_text(_markdown(results), encoding="utf-8")
    print(f"wrote {args.out / 'latest.md'} and {args.out / 'latest.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
