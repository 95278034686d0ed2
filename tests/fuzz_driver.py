"""Fuzzing the commands with mutated specs, data, run folders, model archives and .npz files (issue 19).

Run as ``python tests/fuzz_driver.py --cases N --seed S --work DIR``: it sets an
address-space limit on itself, trains one tiny run, then feeds mutated inputs
to every command in-process and prints one JSON summary: cases per command,
failures (each with the command, exit code and the end of its output), peak
RSS and seconds. A failure is an exit code other than 0, 1, 2; a refusal
whose message does not name the mutated file; a case over the time limit; or
any file outside the output path changed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import resource
import shutil
import signal
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SPEC: dict[str, Any] = {
    "format": "mlpdesigner/1",
    "name": "fuzz",
    "description": "A tiny binary classifier for fuzzing.",
    "inputs": [{"name": "x", "shape": [2]}],
    "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 3, "activation": "relu"}]},
    "outputs": [{"name": "label", "task": "binary", "units": 1}],
    "training": {"epochs": 1, "batch_size": 8, "seed": 1},
    "data": {
        "path": "data.csv",
        "columns": {"x": ["a", "b"], "label": ["label"]},
        "validation_split": 0.25,
        "test_split": 0.25,
    },
}
CSV = "a,b,label\n" + "".join(f"{i % 5},{(i * 7) % 3},{'no' if i % 2 else 'yes'}\n" for i in range(32))

#: Values a JSON mutation may put anywhere.
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    16.0,
    1e2,
    1e308,
    -1e308,
    2**63,
    "",
    "x" * 5000,
    "../../etc/passwd",
    '=HYPERLINK("x")',
    "NaN",
    [],
    [1, 2],
    {},
    {"a": {"b": {"c": [[[[]]]]}}},
    "dense",
    "relu",
    "\u0000",
]
ODD_TEXT = [
    b"\x00",
    b"\xff\xfe",
    b'"',
    b",",
    b"\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b"1e39",
    b"-",
    b"=cmd|x",
    b"NA",
    b"\t",
    b"\r",
    b"\xef\xbb\xbf",
    b"9" * 400,
    b"\\u0000",
    b"null",
    b",,,,",
]


# --------------------------------------------------------------------------- mutations


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """Flip, drop, duplicate or insert a few bytes or tokens."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(5)
        at = rng.randrange(len(out) + 1)
        if kind == 0 and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
        elif kind == 1 and out:
            del out[at : at + rng.randint(1, 16)]
        elif kind == 2:
            out[at:at] = rng.choice(ODD_TEXT)
        elif kind == 3 and out:
            piece = out[at : at + rng.randint(1, 64)]
            out[at:at] = piece * rng.randint(1, 50)
        else:
            out = out[: rng.randrange(len(out) + 1)]
    return bytes(out)


def _nodes(doc: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _nodes(value, (*path, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += _nodes(value, (*path, index))
    return found


def mutate_json(doc: Any, rng: random.Random) -> Any:
    """Replace, delete or add a value somewhere in a JSON document."""
    doc = json.loads(json.dumps(doc))
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _nodes(doc) if p]
        if not paths:
            return rng.choice(ODD_VALUES)
        path = rng.choice(paths)
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        kind = rng.randrange(4)
        if kind == 0 and isinstance(parent, dict):
            del parent[path[-1]]
        elif kind == 1 and isinstance(parent, dict):
            parent[rng.choice(["extra", "units", "type", "path", "shape", "seed"])] = rng.choice(ODD_VALUES)
        elif kind == 2 and isinstance(parent[path[-1]], (int, float)) and not isinstance(parent[path[-1]], bool):
            parent[path[-1]] = rng.choice([float(parent[path[-1]]), -parent[path[-1]], parent[path[-1]] * 10**6])
        else:
            parent[path[-1]] = rng.choice(ODD_VALUES)
    return doc


def mutate_text_json(doc: Any, rng: random.Random) -> bytes:
    if rng.random() < 0.6:
        return json.dumps(mutate_json(doc, rng)).encode()
    return mutate_bytes(json.dumps(doc, indent=rng.choice([None, 2])).encode(), rng)


def mutate_zip(source: Path, target: Path, rng: random.Random) -> None:
    """A model archive with one member mutated, added, dropped, or the archive's bytes damaged."""
    kind = rng.randrange(4)
    if kind == 3:
        target.write_bytes(mutate_bytes(source.read_bytes(), rng))
        return
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        names = old.namelist()
        victim = rng.choice(names)
        for info in old.infolist():
            data = old.read(info)
            if info.filename == victim and kind == 0:
                if victim.endswith(".json"):
                    data = mutate_text_json(json.loads(data), rng)
                else:
                    data = mutate_bytes(data, rng)
            if info.filename == victim and kind == 1:
                continue
            new.writestr(info, data)
        if kind == 2:
            new.writestr(rng.choice(["assets/a.bin", "evil.py", "config.json.bak"]), b"\0" * rng.randint(0, 4096))


def mutate_npz(arrays: dict[str, Any], target: Path, rng: random.Random) -> None:
    """An .npz with a forged header, damaged bytes, odd dtypes, or missing/extra arrays."""
    import numpy as np

    kind = rng.randrange(4)
    if kind == 0:
        with zipfile.ZipFile(target, "w") as archive:
            for name, array in arrays.items():
                buffer = io.BytesIO()
                shape = tuple(rng.choice([n, n * 10**6, 2**40]) for n in array.shape)
                np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False, "shape": shape})
                archive.writestr(f"{name}.npy", buffer.getvalue() + array.astype("<f4").tobytes())
        return
    changed = dict(arrays)
    if kind == 1:
        name = rng.choice(list(changed))
        changed[name] = rng.choice(
            [
                changed[name].astype("U3"),
                changed[name][:1],
                np.zeros((0, 2)),
                np.full(changed[name].shape, np.inf),
                changed[name].T,
            ]
        )
    elif kind == 2:
        changed.pop(rng.choice(list(changed)))
        changed["other"] = np.arange(3)
    np.savez(target, **changed)
    if kind == 3:
        target.write_bytes(mutate_bytes(target.read_bytes(), rng))


# --------------------------------------------------------------------------- running one case


class CaseTimeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout


def snapshot(folder: Path, skip: Path | None) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` (except ``skip``) with its size and mtime."""
    found = {}
    for path in folder.rglob("*"):
        if skip is not None and (path == skip or skip in path.parents):
            continue
        if path.is_file() or path.is_symlink():
            stat = path.lstat()
            found[str(path.relative_to(folder))] = (stat.st_size, stat.st_mtime_ns)
    return found


def run_case(argv: list[str], folder: Path, named: str, output: Path | None, limit_s: int) -> dict[str, Any] | None:
    """Run ``mlpdesigner argv`` in-process in ``folder``; a failure record, or None when it behaved."""
    from mlpdesigner.cli import main

    before = snapshot(folder, output)
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(folder)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit_s)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
    except CaseTimeout:
        code = "timeout"
    except MemoryError:
        code = "MemoryError"
    except BaseException as exc:  # noqa: BLE001 - anything escaping main() is a failure to record
        code = f"escaped {type(exc).__name__}: {exc}"
    finally:
        signal.alarm(0)
        os.chdir(cwd)
    text = out.getvalue() + err.getvalue()
    problem = None
    if code not in (0, 1, 2):
        problem = f"exit {code}"
    elif code != 0 and named not in text:
        problem = f"exit {code} without naming {named}"
    elif snapshot(folder, output) != before:
        problem = "a file outside the output path changed"
    if problem is None:
        return None
    return {"argv": argv, "problem": problem, "output": text[-1500:]}


# --------------------------------------------------------------------------- the campaign


def prepare(work: Path) -> Path:
    """A spec, its data and one trained run under ``work``; returns the run folder."""
    from mlpdesigner.cli import main

    (work / "spec.json").write_text(json.dumps(SPEC), "utf-8")
    (work / "data.csv").write_text(CSV, "utf-8")
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(["train", str(work / "spec.json"), "--out", str(work / "run")])
    if code != 0:
        raise SystemExit(f"could not train the fuzzing run (exit {code}): {err.getvalue()[-2000:]}")
    return work / "run"


def campaign(work: Path, cases: int, seed: int, limit_s: int) -> dict[str, Any]:
    import numpy as np

    rng = random.Random(seed)
    run = prepare(work)
    run_json = json.loads((run / "run.json").read_text("utf-8"))
    arrays = {
        "x": np.asarray([[i % 5, (i * 7) % 3] for i in range(32)], dtype="float32"),
        "label": np.asarray([i % 2 for i in range(32)]),
    }
    counts: dict[str, int] = {}
    failures: list[dict[str, Any]] = []

    def case(name: str) -> Path:
        counts[name] = counts.get(name, 0) + 1
        folder = work / "cases" / f"{name}-{counts[name]}"
        folder.mkdir(parents=True)
        return folder

    def check(name: str, argv: list[str], folder: Path, named: str, output: Path | None = None) -> None:
        found = run_case(argv, folder, named, output, limit_s)
        if found is not None:
            found["command"] = name
            failures.append(found)
        shutil.rmtree(folder, ignore_errors=True)

    for _ in range(cases):
        # specs: validate, summary, export python
        for command in ("validate", "summary", "export-python"):
            folder = case(command)
            (folder / "data.csv").write_text(CSV, "utf-8")
            spec = folder / "s.json"
            spec.write_bytes(mutate_text_json(SPEC, rng))
            argv = {
                "validate": ["validate", "s.json"],
                "summary": ["summary", "s.json"],
                "export-python": ["export", "s.json", "--format", "python", "-o", "out.py"],
            }[command]
            check(command, argv, folder, "s.json", folder / "out.py")
        # CSV data: predict on mutated rows
        folder = case("predict-csv")
        data = folder / "d.csv"
        data.write_bytes(mutate_bytes(CSV.encode(), rng))
        check("predict-csv", ["predict", str(run), "--data", "d.csv", "-o", "p.csv"], folder, "d.csv", folder / "p.csv")
        # .npz data: evaluate on it
        folder = case("evaluate-npz")
        mutate_npz(arrays, folder / "d.npz", rng)
        check("evaluate-npz", ["evaluate", str(run), "--data", "d.npz"], folder, "d.npz")
        # run folders: a mutated run.json or spec.json, exported as Python
        folder = case("export-run")
        copy = folder / "r"
        shutil.copytree(run, copy)
        victim = rng.choice(["run.json", "spec.json"])
        source = run_json if victim == "run.json" else json.loads((run / "spec.json").read_text("utf-8"))
        (copy / victim).write_bytes(mutate_text_json(source, rng))
        check("export-run", ["export", "r", "--format", "python", "-o", "out.py"], folder, victim, folder / "out.py")
        # model archives: evaluate a run whose model.keras is mutated
        folder = case("evaluate-model")
        copy = folder / "r"
        shutil.copytree(run, copy)
        mutate_zip(run / "model.keras", copy / "model.keras", rng)
        check("evaluate-model", ["evaluate", "r", "--data", str(work / "data.csv")], folder, "model.keras")
        # sample rows of a run: ONNX export (which verifies on them) with a mutated sample_inputs.npz
        folder = case("export-onnx-samples")
        copy = folder / "r"
        shutil.copytree(run, copy)
        mutate_npz({"x": arrays["x"][:8]}, copy / "sample_inputs.npz", rng)
        check(
            "export-onnx-samples",
            ["export", "r", "--format", "onnx", "-o", "m.onnx"],
            folder,
            "sample_inputs.npz",
            folder / "m.onnx",
        )
        # a mutated model archive exported as .keras (reloaded and compared)
        folder = case("export-keras-model")
        copy = folder / "r"
        shutil.copytree(run, copy)
        mutate_zip(run / "model.keras", copy / "model.keras", rng)
        check(
            "export-keras-model",
            ["export", "r", "--format", "keras", "-o", "m.keras"],
            folder,
            "model.keras",
            folder / "m.keras",
        )
    return {
        "cases": counts,
        "total": sum(counts.values()),
        "failures": failures,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10, help="rounds; each round runs every command once")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--memory-gib", type=float, default=4.0, help="address-space limit")
    parser.add_argument("--case-seconds", type=int, default=60)
    args = parser.parse_args(argv)
    limit = int(args.memory_gib * (1 << 30))
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    report = campaign(args.work, args.cases, args.seed, args.case_seconds)
    report["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
