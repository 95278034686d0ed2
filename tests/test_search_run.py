"""``mlpdesigner search`` on Ray Tune: better than the base, ASHA, two nodes, stop and resume, no Ray.

Each search starts Ray and imports TensorFlow in its trial workers: these are
the slowest tests of the suite (marked ``search``), kept to tiny data (the
bundled 600-row flowers set), 3 epochs and at most 6 trials.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mlpdesigner.resources import example_path
from mlpdesigner.search import tables
from mlpdesigner.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
FLOWERS = Path(example_path("flowers_multiclass"))

pytestmark = [pytest.mark.slow, pytest.mark.search]


def _search_spec(tmp_path: Path, *, epochs: int = 3) -> Path:
    """Flowers with a clearly bad base (learning rate 1e-5, 3 epochs) and ranges that hold better designs."""
    spec = json.loads(FLOWERS.read_text("utf-8"))
    spec["data"]["path"] = str((FLOWERS.parent / spec["data"]["path"]).resolve())
    spec["training"]["epochs"] = epochs
    spec["training"]["optimizer"]["learning_rate"] = 1e-5
    spec["search"] = {
        "/training/optimizer/learning_rate": {"log": [1e-3, 1e-1]},
        "/network/layers/0/units": {"int": [4, 32]},
    }
    path = tmp_path / "flowers_search.json"
    path.write_text(json.dumps(spec, indent=2), "utf-8")
    return path


def _run_json(run_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(run_dir) / "run.json").read_text("utf-8"))


def test_six_trials_beat_the_base_and_asha_stops_one_early(tmp_path: Path) -> None:
    from mlpdesigner.search.runner import run_search
    from mlpdesigner.train.runner import train

    spec_path = _search_spec(tmp_path)
    base = json.loads(spec_path.read_text("utf-8"))
    del base["search"]
    base_run = train(base, out=tmp_path / "base")
    base_loss = min(e["val_loss"] for e in base_run.history)

    result = run_search(spec_path, trials=6, parallel=1, out=tmp_path / "search", echo=lambda line: None)

    folder = tmp_path / "search"
    trials = tables.read_trials(folder)
    assert len(trials) == 6 and not result.interrupted
    assert {t["status"] for t in trials} <= {tables.COMPLETED, tables.EARLY_STOPPED}
    assert result.best is not None and result.best["best_val_loss"] < base_loss
    early = [t for t in trials if t["status"] == tables.EARLY_STOPPED]
    assert early, "ASHA stopped no trial"
    assert all(t["epochs"] < 3 for t in early)
    for trial in trials:  # every trial is an ordinary run folder, an early-stopped one a complete "stopped" run
        record = _run_json(trial["run_dir"])
        expected = "stopped" if trial["status"] == tables.EARLY_STOPPED else "completed"
        assert record["status"] == expected and (Path(trial["run_dir"]) / "model.keras").is_file()
        assert record["epochs_completed"] == trial["epochs"]
    rows = (folder / tables.TRIALS_CSV).read_text("utf-8").splitlines()
    assert len(rows) == 7 and rows[0].startswith("trial,/training/optimizer/learning_rate,/network/layers/0/units")
    best = load_spec(folder / tables.BEST_SPEC)  # complete and valid, data path still reachable
    assert "search" not in best.raw
    assert best.raw["training"]["optimizer"]["learning_rate"] == result.best["params"][
        "/training/optimizer/learning_rate"]
    assert best.raw["network"]["layers"][0]["units"] == result.best["params"]["/network/layers/0/units"]
    assert best.data_file() == Path(base["data"]["path"])
    assert (folder / tables.PLOT).stat().st_size > 10_000


def test_a_two_node_cluster_runs_trials_on_both_nodes(tmp_path: Path) -> None:
    import ray
    from ray.cluster_utils import Cluster

    from mlpdesigner.search.runner import run_search

    spec_path = _search_spec(tmp_path, epochs=2)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
        nodes = {node["NodeID"] for node in ray.nodes() if node["Alive"]}
        assert len(nodes) == 2
        run_search(spec_path, trials=2, parallel=2, out=tmp_path / "search", algorithm="random",
                   echo=lambda line: None)
    finally:
        ray.shutdown()
        cluster.shutdown()
    trials = tables.read_trials(tmp_path / "search")
    assert len(trials) == 2
    assert {t["node_id"] for t in trials} == nodes
    assert all(_run_json(t["run_dir"])["status"] in ("completed", "stopped") for t in trials)


def test_a_grid_over_repeat_trains_networks_of_different_depths(tmp_path: Path) -> None:
    """Issue 15: the number of layers is searched through a dense layer's ``repeat``; each trial's saved model has
    that many copies, and best.json carries the chosen repeat."""
    import keras

    from mlpdesigner.search.runner import run_search

    spec_path = _search_spec(tmp_path, epochs=1)
    spec = json.loads(spec_path.read_text("utf-8"))
    spec["search"] = {"/network/layers/0/repeat": {"int": [1, 3]}}
    spec_path.write_text(json.dumps(spec, indent=2), "utf-8")

    result = run_search(spec_path, trials=3, parallel=1, out=tmp_path / "search", algorithm="grid",
                        echo=lambda line: None)

    trials = tables.read_trials(tmp_path / "search")
    assert sorted(t["params"]["/network/layers/0/repeat"] for t in trials) == [1, 2, 3]
    for trial in trials:
        repeat = trial["params"]["/network/layers/0/repeat"]
        run = Path(trial["run_dir"])
        saved = json.loads((run / "spec.json").read_text("utf-8"))
        assert saved["network"]["layers"][0]["repeat"] == repeat
        model = keras.saving.load_model(run / "model.keras", compile=False)
        dense = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        # the repeated layer's copies, the second hidden layer, the output head
        assert dense == ["dense_1", *[f"dense_1_{k}" for k in range(2, repeat + 1)], "dense_2", "species"]
    best = load_spec(tmp_path / "search" / tables.BEST_SPEC)
    assert result.best is not None
    assert best.raw["network"]["layers"][0]["repeat"] == result.best["params"]["/network/layers/0/repeat"]


def _command(spec: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "mlpdesigner", "search", str(spec), "--trials", "3", "--out", str(out), *extra]


def wait_for_a_finished_trial(child: subprocess.Popen, out: Path) -> None:
    """Wait until the search ``child`` has a trial that is no longer running; it must still be running itself."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and child.poll() is None:
        if any(t["status"] != tables.RUNNING for t in tables.read_trials(out)):
            break
        time.sleep(0.5)
    assert child.poll() is None, "the search ended before it could be stopped"


def test_sigterm_keeps_finished_trials_and_resume_completes(tmp_path: Path) -> None:
    spec_path = _search_spec(tmp_path)
    out = tmp_path / "search"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(_command(spec_path, out), env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        wait_for_a_finished_trial(child, out)
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=240)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    assert "--resume" in err and "Traceback" not in err
    stopped = tables.read_trials(out)
    finished = {t["trial"]: t for t in stopped if t["status"] in (tables.COMPLETED, tables.EARLY_STOPPED)}
    assert finished and len(finished) < 3
    assert json.loads((out / tables.SEARCH_JSON).read_text("utf-8"))["status"] == "interrupted"
    for trial in finished.values():
        assert _run_json(trial["run_dir"])["status"] in ("completed", "stopped")

    resumed = subprocess.run(_command(spec_path, out, "--resume"), env=env, cwd=tmp_path, capture_output=True,
                             text=True, timeout=400)
    assert resumed.returncode == 0, resumed.stderr
    trials = tables.read_trials(out)
    assert len(trials) == 3
    assert {t["status"] for t in trials} <= {tables.COMPLETED, tables.EARLY_STOPPED}
    for trial in trials:  # the trials finished before the stop are kept as they were
        if trial["trial"] in finished:
            before = finished[trial["trial"]]
            assert (trial["run_dir"], trial["best_val_loss"]) == (before["run_dir"], before["best_val_loss"])
    assert json.loads((out / tables.SEARCH_JSON).read_text("utf-8"))["status"] == "completed"
    load_spec(out / tables.BEST_SPEC)


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")
@pytest.mark.parametrize("presses", [1, 2], ids=["once", "twice"])
def test_ctrl_c_in_a_terminal_keeps_finished_trials_and_resume_completes(tmp_path: Path, presses: int) -> None:
    """Ctrl+C as a terminal sends it: SIGINT to the whole foreground process group, Ray's processes included.

    The search leads its own process group (as a shell's job does), and the signal goes to the group, so
    Ray's GCS, raylet and agents started by the command receive it as well as the command itself. Once: a
    stop on request, exit code 0 (the README's exit codes), the running trial saved. Twice: stopped at once,
    exit code 130 (interrupted), the running trial not saved, but the tables, search.json and the hint to
    resume still written. Either way the finished trials are kept, no process of the search is left running,
    and ``--resume`` completes the search.
    """
    spec_path = _search_spec(tmp_path)
    out = tmp_path / "search"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(_command(spec_path, out), env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    group = child.pid  # start_new_session: the child leads a new session and process group
    try:
        wait_for_a_finished_trial(child, out)
        os.killpg(group, signal.SIGINT)
        if presses == 2:
            time.sleep(0.3)  # well before the graceful stop ends (it saves the running trial, then stops Ray)
            os.killpg(group, signal.SIGINT)
        _, err = child.communicate(timeout=240)
    finally:
        if child.poll() is None:
            os.killpg(group, signal.SIGKILL)
            child.wait()
    assert child.returncode == (0 if presses == 1 else 130), err
    assert "--resume" in err and "Traceback" not in err, err
    stopped = tables.read_trials(out)
    assert (out / tables.TRIALS_CSV).is_file() and (out / tables.TRIALS_JSON).is_file()
    assert (out / tables.BEST_SPEC).is_file()
    finished = {t["trial"]: t for t in stopped if t["status"] in (tables.COMPLETED, tables.EARLY_STOPPED)}
    assert finished and len(finished) < 3
    assert {t["status"] for t in stopped} <= {tables.COMPLETED, tables.EARLY_STOPPED, tables.INTERRUPTED}
    assert json.loads((out / tables.SEARCH_JSON).read_text("utf-8"))["status"] == "interrupted"
    for trial in finished.values():
        assert _run_json(trial["run_dir"])["status"] in ("completed", "stopped")
    deadline = time.monotonic() + 30
    while _group_alive(group) and time.monotonic() < deadline:  # Ray's processes wind down after the command
        time.sleep(0.5)
    assert not _group_alive(group), "processes of the search were left running"

    resumed = subprocess.run(_command(spec_path, out, "--resume"), env=env, cwd=tmp_path, capture_output=True,
                             text=True, timeout=400)
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr and "Failed to fetch metrics" not in resumed.stderr, resumed.stderr
    trials = tables.read_trials(out)
    assert len(trials) == 3
    assert {t["status"] for t in trials} <= {tables.COMPLETED, tables.EARLY_STOPPED}
    for trial in trials:
        if trial["trial"] in finished:
            before = finished[trial["trial"]]
            assert (trial["run_dir"], trial["best_val_loss"]) == (before["run_dir"], before["best_val_loss"])
    assert json.loads((out / tables.SEARCH_JSON).read_text("utf-8"))["status"] == "completed"
    load_spec(out / tables.BEST_SPEC)


def _group_alive(group: int) -> bool:
    """Whether any process of the process group still runs (zombies aside)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == group and fields[0] != "Z":
                return True
    return False


@pytest.mark.parametrize("module", ["ray", "optuna"])
def test_without_ray_search_says_how_to_install(tmp_path: Path, module: str) -> None:
    poison = tmp_path / "poison"
    (poison / module).mkdir(parents=True)
    (poison / module / "__init__.py").write_text(f"raise ImportError(\"No module named '{module}'\")\n")
    env = {**os.environ, "PYTHONPATH": f"{poison}{os.pathsep}{ROOT}"}
    result = subprocess.run([sys.executable, "-m", "mlpdesigner", "search", str(_search_spec(tmp_path)),
                             "--out", str(tmp_path / "s")], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "pip install 'mlpdesigner[search]'" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "s").exists()
