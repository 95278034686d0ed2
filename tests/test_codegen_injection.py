"""Generated-code injection (issue 8, item 3).

Every user string that can reach a generated script (description, data path,
data column names, class names) carries each entry of an injection corpus —
quotes, newlines, triple quotes, backslashes, ``__import__``, Unicode
look-alikes that NFKC-normalize to an identifier, bidi controls, keywords. The
output must compile, keep each string as an equal literal, and import under an
audit hook (``sys.addaudithook``, in a fresh interpreter) without a subprocess,
``os.system``, ``exec``/``compile`` of anything but the script itself, an import
beyond keras/numpy/pandas, or a write-mode ``open``.

The strings that become identifiers or Keras names (design, input, output and
layer names, early-stopping and plateau monitors) are restricted by the schema
to ASCII letters, digits and ``_``: the corpus is refused there, at the field's
path. What the schema does allow there — keywords, soft keywords, builtins, the
generated module's own names, names that differ only by case — gets a distinct
Python variable, deterministically, and the script rebuilds the designed layers.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from mlpdesigner.export import generate_python
from mlpdesigner.export.codegen import RESERVED, _Variables
from mlpdesigner.spec import SpecError, load_spec
from tests.test_export_python import INJECTIONS

#: More of the corpus: look-alikes (NFKC folds them onto ASCII identifiers), escapes and controls.
LOOKALIKES = [
    "ｅｘｅｃ",  # fullwidth "exec"
    "ｉｍｐｏｒｔ ｏｓ",  # fullwidth "import os"
    "ﬁle",  # the "fi" ligature: NFKC gives "file"
    "𝐞𝐯𝐚𝐥",  # mathematical bold "eval"
    "ᵢmport",  # modifier letter
    "__ｉｍｐｏｒｔ__('os')",
    "Ⅸ",  # roman numeral nine (NFKC "IX")
]
EXTRA = [
    "__import__",
    "__import__('subprocess').Popen(['true'])",
    "exec('import os')",
    "eval(compile('1', 'x', 'eval'))",
    "open('pwned.txt', 'w').write('x')",
    "\\N{BULLET}",
    "\\u0041\\x41\\101",
    "\\",
    "\\\\",
    "x\\",
    "'''\"\"\"'''",
    '"""\n__import__("os").system("true")\n"""',
    "f'{__import__(\"os\").system(\"true\")}'",
    "{0.__class__}",
    "%s%r",
    "\u202eevil\u202c",  # right-to-left override (Trojan Source)
    "\u2066isolate\u2069",
    "\ufeffBOM",
    "\x0cform feed\x0b",
    "\ud800 lone surrogate",
    "def",
    "return",
    "match",
    "case",
    "type",
    "True",
    "print",
]
CORPUS = list(dict.fromkeys(INJECTIONS + LOOKALIKES + EXTRA))
#: Bidi controls that could make code read differently from how it runs.
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def injected_spec(text: str) -> dict[str, Any]:
    """A Wide & Deep design with binary, multiclass and regression heads; ``text`` in every free string."""
    unique = [f"{text}{i}" for i in range(6)]
    return {
        "format": "mlpdesigner/1",
        "name": "injected",
        "description": text,
        "inputs": [
            {"name": "wide", "shape": [2], "description": text},
            {"name": "deep", "shape": [3], "normalize": True, "description": text},
        ],
        "network": {
            "topology": "wide_deep",
            "wide": {"inputs": ["wide"]},
            "deep": {"inputs": ["deep"], "layers": [{"type": "dense", "units": 4, "activation": "relu"}]},
        },
        "outputs": [
            {"name": "answer", "task": "binary", "units": 1, "classes": [text, f"not {text}"]},
            {"name": "kind", "task": "multiclass", "units": 3, "classes": unique[:3], "source": "deep"},
            {"name": "level", "task": "regression", "units": 1, "source": "deep"},
        ],
        "training": {
            "epochs": 1,
            "early_stopping": {"patience": 2, "monitor": "val_loss"},
            "reduce_lr_on_plateau": {"patience": 1, "monitor": "loss"},
        },
        "data": {
            "path": f"{text}.csv",
            "columns": {
                "wide": unique[:2],
                "deep": unique[2:5],
                "answer": [text],
                "kind": [unique[5]],
                "level": [f"level {text}"],
            },
        },
    }


def _user_strings(spec: dict[str, Any]) -> list[str]:
    """The strings of ``spec`` that the generated script must carry as literals."""
    strings = [spec["description"], spec["data"]["path"]]
    for columns in spec["data"]["columns"].values():
        strings += columns
    for out in spec["outputs"]:
        if out["task"] in ("binary", "multiclass"):
            strings += out["classes"]
    return strings


def _write_scripts(folder: Path) -> list[tuple[Path, dict[str, Any], bool]]:
    scripts = []
    for index, text in enumerate(CORPUS):
        spec = injected_spec(text)
        for with_training in (True, False):
            code = generate_python(spec, with_training=with_training)
            path = folder / f"injected_{index}_{int(with_training)}.py"
            path.write_text(code, encoding="utf-8")
            scripts.append((path, spec, with_training))
    return scripts


def test_corpus_specs_are_valid_so_the_strings_reach_the_generator() -> None:
    for text in CORPUS:
        assert load_spec(injected_spec(text)).ok, text


def test_every_corpus_string_stays_an_equal_literal(tmp_path: Path) -> None:
    scripts = _write_scripts(tmp_path)
    assert len(scripts) == 2 * len(CORPUS)
    for path, spec, with_training in scripts:
        code = path.read_text("utf-8")
        tree = ast.parse(code)  # compiles
        compile(code, str(path), "exec")
        assert not BIDI & set(code), f"{path.name}: a raw bidi control in the generated code"
        assert code.isascii() or all(unicodedata.category(c)[0] != "C" or c == "\n" for c in code), path.name
        constants = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        expected = _user_strings(spec) if with_training else [spec["description"]]
        missing = [s for s in expected if s not in constants]
        assert not missing, (path.name, missing)
        # Only the generator's own names: nothing a user string could have introduced.
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert all(n.isascii() and unicodedata.normalize("NFKC", n) == n for n in names), path.name
        assert not names & {"__import__", "exec", "eval", "compile", "open", "os", "subprocess", "file"}, path.name
        imports = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert imports <= {"keras", "numpy", "pandas", "tensorflow"}  # tf.data batches as in the app (issue 13)
        assert not any(isinstance(n, ast.ImportFrom) for n in ast.walk(tree))
        if with_training:
            namespace: dict[str, Any] = {}
            constants_only = ast.Module([s for s in tree.body if isinstance(s, ast.Assign)], [])
            exec(compile(constants_only, "constants", "exec"), namespace)  # literals only: checked above
            assert namespace["DESCRIPTION"] == spec["description"]
            assert namespace["DATA_PATH"] == spec["data"]["path"]
            assert namespace["COLUMNS"] == spec["data"]["columns"]
            assert namespace["CLASSES"] == {o["name"]: o["classes"] for o in spec["outputs"][:2]}


AUDIT_CHILD = textwrap.dedent(
    """
    import importlib.util, json, os, sys
    sys.dont_write_bytecode = True
    import keras, numpy, pandas, tensorflow  # the scripts' own imports, loaded before the hook watches

    scripts = json.loads(open(sys.argv[1], encoding="utf-8").read())
    out = sys.argv[2]
    current = {"path": None}
    events = []
    WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    WATCHED = ("subprocess.", "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "pty.",
               "socket.", "ctypes.", "shutil.", "os.remove", "os.rename", "os.unlink", "os.mkdir", "webbrowser")
    ALLOWED_IMPORTS = {"keras", "numpy", "pandas", "tensorflow"}

    def hook(event, args):
        path = current["path"]
        if path is None:
            return
        if event == "compile":
            if args[1] != path:
                events.append([path, event, repr(args[1])])
        elif event == "exec":
            code = args[0]
            if getattr(code, "co_filename", None) != path:
                events.append([path, event, repr(getattr(code, "co_filename", code))])
        elif event == "open":
            name, mode, flags = args
            if (mode and any(c in str(mode) for c in "wax+")) or (flags and flags & WRITE_FLAGS):
                events.append([path, event, repr(args)])
        elif event == "import":
            if args[0].split(".")[0] not in ALLOWED_IMPORTS:
                events.append([path, event, args[0]])
        elif event.startswith(WATCHED):
            events.append([path, event, repr(args)[:200]])

    sys.addaudithook(hook)
    loaded = []
    for index, path in enumerate(scripts):
        name = f"generated_{index}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        current["path"] = path
        spec.loader.exec_module(module)  # the top level: constants and function definitions
        current["path"] = None
        loaded.append([path, getattr(module, "NAME", None), getattr(module, "DESCRIPTION", None)])
    with open(out, "w", encoding="utf-8") as handle:  # after the hook stops watching
        json.dump({"events": events, "loaded": loaded}, handle)
    """
)


@pytest.mark.slow
def test_generated_scripts_import_cleanly_under_an_audit_hook(tmp_path: Path) -> None:
    scripts = _write_scripts(tmp_path)
    listing = tmp_path / "scripts.json"
    listing.write_text(json.dumps([str(p) for p, _, _ in scripts]), "utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the scripts need no MLP Designer
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    result = subprocess.run(
        [sys.executable, "-c", AUDIT_CHILD, str(listing), str(tmp_path / "report.json")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert report["events"] == [], report["events"][:10]
    assert len(report["loaded"]) == len(scripts)
    for (path, spec, _), (loaded_path, name, description) in zip(scripts, report["loaded"]):
        assert loaded_path == str(path) and name == spec["name"] and description == spec["description"]
    assert not list(tmp_path.glob("pwned*")) and not list(tmp_path.glob("**/__pycache__"))


def test_the_audit_hook_would_see_an_injection(tmp_path: Path) -> None:
    """The watcher is not blind: a script that does what the corpus attempts is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import keras\n"
        "exec('X = 1')\n"
        "open('pwned.txt', 'w').close()\n"
        "__import__('os').system('true')\n"
        "import wave\n",
        encoding="utf-8",
    )
    listing = tmp_path / "scripts.json"
    listing.write_text(json.dumps([str(bad)]), "utf-8")
    # Stand-ins for the four libraries keep this child fast; "import wave" is the foreign import.
    preload = "import keras, numpy, pandas, tensorflow"
    assert preload in AUDIT_CHILD
    child = AUDIT_CHILD.replace(preload, "sys.modules.update(keras=sys, numpy=sys, pandas=sys, tensorflow=sys)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", child, str(listing), str(tmp_path / "report.json")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    kinds = {event for _, event, _ in json.loads((tmp_path / "report.json").read_text("utf-8"))["events"]}
    assert {"compile", "exec", "open", "os.system", "import"} <= kinds, kinds


# --------------------------------------------------------------------------- names the schema restricts

RESTRICTED = [
    ("/name", lambda s, v: s.__setitem__("name", v)),
    ("/inputs/0/name", lambda s, v: s["inputs"][0].__setitem__("name", v)),
    ("/outputs/0/name", lambda s, v: s["outputs"][0].__setitem__("name", v)),
    ("/network/deep/layers/0/name", lambda s, v: s["network"]["deep"]["layers"][0].__setitem__("name", v)),
    ("/training/early_stopping/monitor", lambda s, v: s["training"]["early_stopping"].__setitem__("monitor", v)),
    (
        "/training/reduce_lr_on_plateau/monitor",
        lambda s, v: s["training"]["reduce_lr_on_plateau"].__setitem__("monitor", v),
    ),
]
#: Corpus entries that are not plain ASCII identifiers (the schema's pattern), so must be refused.
NOT_IDENTIFIERS = [t for t in CORPUS if not (t.isascii() and t[:1].isalpha() and t.replace("_", "a").isalnum())]


def test_restricted_fields_refuse_the_corpus_at_their_path() -> None:
    assert len(NOT_IDENTIFIERS) > 40 and all(t in NOT_IDENTIFIERS for t in LOOKALIKES)
    tried = 0
    for pointer, place in RESTRICTED:
        for text in NOT_IDENTIFIERS + ["x" * 65, "dense\n"]:
            spec = injected_spec("plain")
            place(spec, text)
            with pytest.raises(SpecError) as caught:
                load_spec(spec)
            paths = [p.path for p in caught.value.problems if p.is_error]
            assert pointer in paths, (pointer, text, paths)
            tried += 1
    assert tried == len(RESTRICTED) * (len(NOT_IDENTIFIERS) + 2)


def test_lookalike_of_an_existing_name_is_refused_not_merged() -> None:
    """'ｄｅｅｐ' would NFKC-normalize onto the input 'deep' in Python source: the schema refuses it."""
    spec = injected_spec("plain")
    spec["network"]["deep"]["layers"].append({"type": "dense", "units": 2, "name": "ｄｅｅｐ"})
    with pytest.raises(SpecError) as caught:
        load_spec(spec)
    assert "/network/deep/layers/1/name" in [p.path for p in caught.value.problems]
    spec["network"]["deep"]["layers"][1]["name"] = "deep"  # the exact duplicate: refused as a duplicate name
    with pytest.raises(SpecError) as caught:
        load_spec(spec)
    assert any(p.code == "E301" or "unique" in p.message for p in caught.value.problems)


# --------------------------------------------------------------------------- names the schema allows

#: Allowed by the schema but unusable as they stand for a Python variable, or differing only by case.
AWKWARD = ["class", "match", "print", "keras", "model", "None", "True", "type", "main", "np", "CLASS", "Class"]


def awkward_spec() -> dict[str, Any]:
    """Inputs, outputs and layers named after keywords, builtins and the script's own names."""
    layers = [{"type": "dense", "units": 3 + i, "activation": "relu", "name": n} for i, n in enumerate(AWKWARD)]
    layers += [
        {"type": "dense", "units": 2, "name": "keras_tensor"},  # what "keras" becomes
        {"type": "dense", "units": 2, "name": "keras_tensor2"},  # what the clash would become next
        {"type": "dropout", "rate": 0.1, "name": "t"},
    ]
    return {
        "format": "mlpdesigner/1",
        "name": "lambda",
        "inputs": [{"name": "import", "shape": [2]}, {"name": "def", "shape": [3], "normalize": True}],
        "network": {
            "topology": "wide_deep",
            "wide": {"inputs": ["import"]},
            "deep": {"inputs": ["def"], "layers": layers},
        },
        "outputs": [
            {"name": "return", "task": "regression", "units": 1},
            {"name": "case", "task": "binary", "units": 1, "source": "deep"},
        ],
    }


def _assigned(code: str) -> list[str]:
    tree = ast.parse(code)
    build = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "build_model")
    return [t.id for n in build.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)]


def test_awkward_names_get_distinct_variables_deterministically() -> None:
    spec = awkward_spec()
    plan = load_spec(spec).plan
    code = generate_python(spec)
    assert code == generate_python(copy.deepcopy(spec)), "the renaming is deterministic"
    variables = _assigned(code)
    assert len(variables) == len(plan.nodes) == len(set(variables)), "one distinct variable per layer"
    assert all(v.isascii() and v.isidentifier() and v not in RESERVED for v in variables)
    import keyword

    assert not any(keyword.iskeyword(v) or keyword.issoftkeyword(v) for v in variables)
    assert {"CLASS", "Class", "class_tensor"} <= set(variables), "case differences stay apart; keywords get a suffix"
    assert {"keras_tensor", "keras_tensor2", "keras_tensor22"} <= set(variables)
    names = _Variables()
    assert [names.add(n) for n in ["keras", "keras_tensor", "keras_tensor2"]] == [
        "keras_tensor",
        "keras_tensor2",
        "keras_tensor22",
    ]


REBUILD_CHILD = textwrap.dedent(
    """
    import importlib.util, json, sys
    spec = importlib.util.spec_from_file_location("awkward", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.build_model()
    layers = {layer.name: [layer.__class__.__name__, layer.count_params()] for layer in model.layers}
    print(json.dumps({"layers": layers, "inputs": [t.name for t in model.inputs], "name": model.name}))
    """
)


@pytest.mark.slow
def test_awkward_names_rebuild_the_designed_layers(tmp_path: Path) -> None:
    spec = awkward_spec()
    plan = load_spec(spec).plan
    script = tmp_path / "awkward.py"
    script.write_text(generate_python(spec), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    result = subprocess.run(
        [sys.executable, "-c", REBUILD_CHILD, str(script)], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    built = json.loads(result.stdout.strip().splitlines()[-1])
    assert built["name"] == "lambda"
    assert {name: params for name, (_, params) in built["layers"].items()} == {n.name: n.params for n in plan.nodes}
