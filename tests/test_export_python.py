"""Generated Python: golden files, safety of user strings, formatting, and a rebuild in a fresh interpreter."""

from __future__ import annotations

import ast
import copy
import io
import json
import os
import subprocess
import sys
import textwrap
import tokenize
from pathlib import Path

import pytest

from mlpdesigner.export import export_python, generate_python
from mlpdesigner.export.codegen import RESERVED, _Variables
from mlpdesigner.export.pyformat import LINE_LENGTH, UnsafeNameError, identifier, literal
from tests._export_support import all_examples, example, kitchen_sink, set_statistics, with_data

GOLDEN = Path(__file__).parent / "golden"
#: Set to 1 to rewrite the golden files from the current generator.
UPDATE_ENV = "MLPDESIGNER_UPDATE_GOLDEN"
ROOT = Path(__file__).resolve().parent.parent


def golden_specs() -> dict[str, tuple[dict, bool]]:
    """Representative designs: sequential regression, Wide & Deep with aux output, SELU multiclass, multilabel."""
    housing = with_data(example("housing_regression"), path="housing.csv")
    wide_deep = with_data(example("wide_deep_aux_output"), path="data/housing.csv")
    wide_deep["inputs"][1]["normalize"] = True
    wide_deep["training"]["reduce_lr_on_plateau"] = {"factor": 0.2}
    wide_deep["training"]["learning_rate_schedule"] = {"type": "cosine", "decay_steps": 500}
    selu = example("selu_self_normalizing")
    multilabel = with_data(example("multilabel_elu_l2"), path="tags.csv")
    return {
        "multilabel_elu_l2": (multilabel, True),
        "housing_regression": (housing, True),
        "wide_deep_aux_output": (wide_deep, True),
        "selu_self_normalizing": (selu, False),
    }


@pytest.mark.parametrize("name", sorted(golden_specs()))
def test_golden_files(name: str) -> None:
    """The generated code matches the golden files (rewritten for issue 18: the script's ``pipeline()`` feeds whole
    batches by a seeded permutation per epoch, as the app's input pipeline now does)."""
    spec, with_training = golden_specs()[name]
    code = generate_python(spec, with_training=with_training)
    path = GOLDEN / f"{name}.py"
    if os.environ.get(UPDATE_ENV):
        path.write_text(code, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path}; run with {UPDATE_ENV}=1"
    assert code == path.read_text(encoding="utf-8"), f"generated code changed; rerun with {UPDATE_ENV}=1 if intended"


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ruff", *args], capture_output=True, text=True)


def _exported(tmp_path: Path, name: str, spec: dict, with_training: bool) -> Path:
    out = tmp_path / f"{name}{'_train' if with_training else ''}.py"
    export_python(spec, out, with_training=with_training)
    return out


def test_generated_code_passes_ruff_and_keeps_its_layout(tmp_path: Path) -> None:
    files = []
    for name in all_examples():
        files.append(_exported(tmp_path, name, example(name), False))
        files.append(_exported(tmp_path, name, with_data(example(name)), True))
    files.append(_exported(tmp_path, "kitchen_sink", with_data(kitchen_sink()), True))
    for file in files:
        lines = file.read_text("utf-8").splitlines()
        assert max(len(line) for line in lines) <= LINE_LENGTH, file
    check = _ruff("check", "--isolated", "--no-cache", *map(str, files))
    assert check.returncode == 0, check.stdout + check.stderr
    # The generator lays code out itself; ruff's formatter finds nothing to change.
    fmt = _ruff("format", "--isolated", "--no-cache", "--check", "--line-length", str(LINE_LENGTH), *map(str, files))
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def _imports(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    return names


def test_imports_only_keras_numpy_pandas_and_tensorflow_for_training() -> None:
    """The training part feeds batches through tf.data exactly as the app does (issue 13: the script reruns
    the app's training), so it imports TensorFlow, the Keras backend it already needs; the model part needs Keras only.
    """
    spec = with_data(example("wide_deep_aux_output"))
    assert _imports(ast.parse(generate_python(spec))) == {"keras"}
    assert _imports(ast.parse(generate_python(spec, with_training=True))) == {"keras", "numpy", "pandas", "tensorflow"}


INJECTIONS = [
    "plain",
    "it's",
    'say "hi"',
    '"""',
    "'''",
    'end """ + __import__("os").system("echo pwned") + """',
    "line\nbreak",
    "carriage\rreturn",
    "back\\slash",
    "\\",
    "trailing backslash \\",
    "__import__('os').system('echo pwned')",
    "'); import os; os.system('echo pwned'); ('",
    '"); import os; os.system("echo pwned"); ("',
    "\n__import__('os').system('echo pwned')\n#",
    "# comment",
    "import",
    "class",
    "None",
    "lambda: 0",
    "ünïcødé 漢字 🙂",
    "\u2028line separator\u2029",
    "tab\tand\x00nul",
    "{{ jinja }} {% raw %}",
    "x" * 150 + " \" ' \\ " + "y" * 30,
]


def _string_constants(tree: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_injection_corpus_stays_inside_literals(tmp_path: Path) -> None:
    spec = with_data(example("binary_batchnorm_dropout"), path="d\"a'ta\n.csv")
    spec["description"] = "\n".join(INJECTIONS)
    spec["outputs"][0]["classes"] = INJECTIONS[:2]
    columns = spec["data"]["columns"]
    columns["features"] = (INJECTIONS * 2)[:30]
    columns["malignant"] = [INJECTIONS[5]]
    multi = with_data(example("fashion_mnist_classifier"))
    multi["description"] = INJECTIONS[12]
    multi["outputs"][0]["classes"] = INJECTIONS[:10]
    for index, (source, training) in enumerate([(spec, True), (spec, False), (multi, True)]):
        out = tmp_path / f"injected_{index}.py"
        export_python(source, out, with_training=training)
        code = out.read_text("utf-8")
        compile(code, str(out), "exec")
        tree = ast.parse(code)
        assert _imports(tree) <= {"keras", "numpy", "pandas", "tensorflow"}
        constants = _string_constants(tree)
        assert source["description"] in constants
        for column_list in source["data"]["columns"].values():
            if training:
                assert all(c in constants for c in column_list)
        calls = {
            n.func.id if isinstance(n.func, ast.Name) else n.func.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute))
        }
        assert not calls & {"__import__", "system", "exec", "eval", "popen"}
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        assert "os" not in names and "__import__" not in names
        # The injected text appears only inside string tokens: not in code, comments or docstrings.
        documented = [n for n in ast.walk(tree) if isinstance(n, (ast.Module, ast.FunctionDef))]
        docstrings = [ast.get_docstring(n) or "" for n in documented]
        assert not any("pwned" in doc or "jinja" in doc for doc in docstrings)
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type != tokenize.STRING:
                assert "pwned" not in token.string and "jinja" not in token.string, token
        if training:
            assert "CLASSES" in names
            namespace: dict = {}
            assignments = ast.Module([s for s in tree.body if isinstance(s, ast.Assign)], [])
            exec(compile(assignments, "constants", "exec"), namespace)
            assert namespace["COLUMNS"] == source["data"]["columns"]
            assert namespace["CLASSES"] == {source["outputs"][0]["name"]: source["outputs"][0]["classes"]}
            assert namespace["DESCRIPTION"] == source["description"]
    check = _ruff("check", "--isolated", "--no-cache", str(tmp_path))
    assert check.returncode == 0, check.stdout


def test_identifier_filter_rejects_unsafe_names() -> None:
    for bad in ["import", "class", "match", "a-b", "1a", "_x", "a b", "a\n", "a\nimport os", "é", "", None, 3]:
        with pytest.raises(UnsafeNameError):
            identifier(bad)
    assert identifier("dense_1") == "dense_1"
    with pytest.raises(UnsafeNameError):
        identifier("keras", RESERVED)
    names = _Variables()
    assert names.add("keras") == "keras_tensor"
    assert names.add("main") == "main_tensor"
    assert names.add("dense_1") == "dense_1"
    assert names.add("not valid!") == "t"
    assert names.add("also bad") == "t2"


def test_literal_reads_back_and_prefers_double_quotes() -> None:
    for value in INJECTIONS + [1, 2.5, 1e-05, True, None, [1, "a"], {"k": ["v"]}, (3,), (2, 3)]:
        assert ast.literal_eval(literal(value)) == value
    assert literal("abc") == '"abc"'
    assert literal('say "hi"') == "'say \"hi\"'"
    with pytest.raises(ValueError):
        literal(float("nan"))
    with pytest.raises(TypeError):
        literal(object())


def test_training_part_needs_a_data_section() -> None:
    from mlpdesigner.errors import UserError

    spec = example("housing_regression")
    spec.pop("data", None)  # the starter design has one (it trains on bundled data)
    with pytest.raises(UserError, match="no data section"):
        generate_python(spec, with_training=True)


def test_data_path_is_relative_to_the_script(tmp_path: Path) -> None:
    spec_dir = tmp_path / "designs"
    spec_dir.mkdir()
    spec_file = spec_dir / "housing.json"
    spec_file.write_text(json.dumps(with_data(example("housing_regression"), path="data/housing.csv")), "utf-8")
    out_dir = tmp_path / "code"
    out_dir.mkdir()
    export_python(spec_file, out_dir / "train.py", with_training=True)
    assert 'DATA_PATH = "../designs/data/housing.csv"' in (out_dir / "train.py").read_text("utf-8")


# --------------------------------------------------------------------------- fresh interpreter

CHILD = textwrap.dedent(
    """
    import importlib.util, json, sys
    import numpy as np

    cases = json.loads(open(sys.argv[1]).read())
    report = {}
    for case in cases:
        spec = importlib.util.spec_from_file_location(case["module"], case["script"])
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        model = module.build_model()
        seeded = [w.copy() for w in model.get_weights()]
        with np.load(case["weights"]) as saved:
            for layer in model.layers:
                count = len(layer.get_weights())
                if count:
                    layer.set_weights([saved[f"{layer.name}/{i}"] for i in range(count)])
                    if hasattr(layer, "finalize_state"):  # Normalization: derive mean and variance
                        layer.finalize_state()
        with np.load(case["inputs"]) as data:
            feeds = [data[name] for name in module.INPUT_NAMES]
        single = model.__class__.__name__ == "Sequential"
        outputs = model(feeds[0] if single else feeds, training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        np.savez(case["outputs"], *[np.asarray(o) for o in outputs])
        np.savez(case["seeded"], *seeded)
        report[case["module"]] = {
            "params": model.count_params(),
            "trainable": sum(int(np.prod(w.shape)) for w in model.trainable_weights),
            "class": model.__class__.__name__,
            "config": json.dumps(model.get_config(), sort_keys=True),
            "modules": sorted({m.split(".")[0] for m in sys.modules} & {"mlpdesigner", "tensorflow_addons"}),
        }
    open(sys.argv[2], "w").write(json.dumps(report))
    """
)


@pytest.mark.slow
def test_generated_scripts_rebuild_the_same_models_in_a_fresh_interpreter(tmp_path: Path) -> None:
    import numpy as np

    from mlpdesigner.compile import build_model
    from tests._export_support import random_inputs

    designs = {name: example(name) for name in all_examples()}
    designs["kitchen_sink"] = kitchen_sink()
    normalized = copy.deepcopy(designs["wide_deep_aux_output"])
    normalized["inputs"][1]["normalize"] = True
    normalized["name"] = "wide_deep_normalized"
    designs["wide_deep_normalized"] = normalized
    # Issue 15: a dense layer with repeat n is n layers in the script too, named as the app names them.
    repeated = example("flowers_multiclass")
    repeated["network"]["layers"][0]["repeat"] = 3
    repeated["name"] = "flowers_repeated"
    designs["flowers_repeated"] = repeated
    deep_repeated = copy.deepcopy(designs["wide_deep_aux_output"])
    deep_repeated["network"]["deep"]["layers"][0]["repeat"] = 2
    deep_repeated["name"] = "wide_deep_repeated"
    designs["wide_deep_repeated"] = deep_repeated
    cases, models = [], {}
    for name, spec in designs.items():
        script = tmp_path / f"gen_{name}.py"
        export_python(spec, script)
        model = build_model(spec, compile=False)
        seeded = [w.copy() for w in model.get_weights()]
        set_statistics(model, spec)
        # Non-trivial weights: perturb every trainable weight so a wrong mapping shows.
        rng = np.random.default_rng(11)
        for w in model.trainable_weights:
            w.assign(w.numpy() + rng.normal(scale=0.1, size=w.shape).astype("float32"))
        weights = {f"{layer.name}/{i}": v for layer in model.layers for i, v in enumerate(layer.get_weights())}
        np.savez(tmp_path / f"{name}_weights.npz", **weights)
        feeds = random_inputs(spec, 64)
        np.savez(tmp_path / f"{name}_inputs.npz", **feeds)
        models[name] = (model, feeds, seeded, spec)
        cases.append(
            {
                "module": f"gen_{name}",
                "script": str(script),
                "weights": str(tmp_path / f"{name}_weights.npz"),
                "inputs": str(tmp_path / f"{name}_inputs.npz"),
                "outputs": str(tmp_path / f"{name}_outputs.npz"),
                "seeded": str(tmp_path / f"{name}_seeded.npz"),
            }
        )
    (tmp_path / "cases.json").write_text(json.dumps(cases), "utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "cases.json"), str(tmp_path / "report.json")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    for name, (model, feeds, seeded, spec) in models.items():
        child = report[f"gen_{name}"]
        assert child["modules"] == [], "the generated script must not need MLP Designer"
        assert child["params"] == model.count_params(), name
        assert child["trainable"] == sum(int(np.prod(w.shape)) for w in model.trainable_weights), name
        assert child["class"] == model.__class__.__name__, name
        assert child["config"] == json.dumps(model.get_config(), sort_keys=True), name
        if name.endswith("_repeated"):
            assert '"dense_1_2"' in child["config"], name
        expected = model([feeds[i["name"]] for i in spec["inputs"]] if child["class"] != "Sequential"
                         else feeds[spec["inputs"][0]["name"]], training=False)
        expected = expected if isinstance(expected, (list, tuple)) else [expected]
        with np.load(tmp_path / f"{name}_outputs.npz") as got:
            diffs = [float(np.max(np.abs(got[f"arr_{i}"] - np.asarray(e)))) for i, e in enumerate(expected)]
        assert max(diffs) <= 1e-6, (name, diffs)
        # Same spec, same seed: the script's initial weights equal build_model's.
        with np.load(tmp_path / f"{name}_seeded.npz") as got:
            assert all(np.array_equal(got[f"arr_{i}"], w) for i, w in enumerate(seeded)), name


@pytest.mark.slow
def test_generated_training_script_trains_and_saves(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    spec = with_data(example("binary_batchnorm_dropout"), path="rows.csv")
    spec["inputs"][0]["normalize"] = True
    spec["outputs"][0]["classes"] = ["benign", "malignant"]
    spec["training"].update({"epochs": 2, "batch_size": 16, "class_weight": "balanced"})
    spec["training"]["early_stopping"] = {"patience": 1}
    rng = np.random.default_rng(0)
    table = {c: rng.normal(size=60) for c in spec["data"]["columns"]["features"]}
    table["malignant_0"] = rng.choice(["benign", "malignant"], size=60)
    pd.DataFrame(table).to_csv(tmp_path / "rows.csv", index=False)
    script = tmp_path / "train_binary.py"
    export_python(spec, script, with_training=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "test metrics:" in result.stdout
    assert (tmp_path / "binary_batchnorm_dropout.keras").is_file()


def test_generated_split_is_the_apps_split(tmp_path: Path) -> None:
    """The script trains on the same rows as MLP Designer: same seeded, stratified split."""
    import importlib.util

    import numpy as np
    import pandas as pd

    from mlpdesigner.train.data import load_dataset, split_indices

    spec = with_data(example("binary_batchnorm_dropout"), path="rows.csv")
    spec["outputs"][0]["classes"] = ["benign", "malignant"]
    rng = np.random.default_rng(3)
    table = {c: rng.normal(size=97) for c in spec["data"]["columns"]["features"]}
    table["malignant_0"] = rng.choice(["benign", "malignant"], size=97, p=[0.8, 0.2])
    pd.DataFrame(table).to_csv(tmp_path / "rows.csv", index=False)
    (tmp_path / "design.json").write_text(json.dumps(spec))
    script = tmp_path / "train_binary.py"
    export_python(tmp_path / "design.json", script, with_training=True)
    module_spec = importlib.util.spec_from_file_location("generated_split", script)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)

    _, targets = module.load_data(tmp_path / "rows.csv")
    dataset = load_dataset(tmp_path / "design.json")
    strata = module.class_strata(targets)
    np.testing.assert_array_equal(strata, dataset.strata)
    ours = module.split_rows(len(strata), strata)
    # The split follows data.split_seed (default 0), not the training seed (issue 13).
    app = split_indices(97, validation_split=0.2, test_split=0.1, seed=0, shuffle=True, strata=dataset.strata)
    for got, name in zip(ours, ("train", "validation", "test"), strict=True):
        np.testing.assert_array_equal(got, app[name])
        np.testing.assert_array_equal(got, dataset.splits[name].indices)
    assert len(ours[2]) == dataset.test.rows
    module.STRATIFY_BY, module.SHUFFLE = None, False
    plain = module.split_rows(10)
    np.testing.assert_array_equal(np.concatenate(plain), np.sort(np.concatenate(plain)))
