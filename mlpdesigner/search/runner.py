"""``mlpdesigner search``: try the spec's search ranges on Ray Tune (Optuna TPE, ASHA early stopping).

Ray and Optuna are imported inside :func:`run_search` (the ``search`` extra);
the rest of MLP Designer works without them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..errors import UserError
from ..runfolder import new_run_dir
from ..spec import Spec, SpecError, read_file
from ..spec.paths import resolve_path
from ..spec.search import Domain, domains
from . import tables

INSTALL_HINT = "pip install 'mlpdesigner[search]'"
ALGORITHMS = ("tpe", "random", "grid")
METRIC = "val_loss"
#: Tune's experiment folder inside the search folder (what --resume restores).
TUNE_DIR = "tune"
TRIALS_DIR = "trials"


@dataclass
class SearchResult:
    """How a search ended: its folder, the trials table, the best trial (None when no trial finished)."""

    folder: Path
    trials: list[dict[str, Any]]
    best: dict[str, Any] | None
    interrupted: bool
    plot: Path | None = None
    settings: dict[str, Any] = field(default_factory=dict)


def require_ray() -> None:
    """Raise a :class:`UserError` that says how to install Ray Tune and Optuna when they are missing."""
    missing = []
    for module in ("ray.tune", "optuna"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module.split(".")[0])
    if missing:
        raise UserError(f"search needs {' and '.join(missing)}, which is not installed",
                        hint=f"install the search extra: {INSTALL_HINT}")


def load_search_spec(path: str | os.PathLike[str]) -> tuple[Spec, dict[str, Domain]]:
    """The spec (without errors) and its search domains; a :class:`UserError` when it has nothing to search."""
    spec = read_file(path)
    if not spec.ok:
        raise SpecError(spec.problems, str(path))
    found = domains(spec.raw)
    if not found:
        raise UserError(f"{path}: Expected a search section with at least one range, e.g. "
                        '"search": {"/training/optimizer/learning_rate": {"log": [0.0001, 0.1]}}. Received: none')
    filled = spec.filled or {}
    if "data" not in filled:
        raise UserError(f"{path}: Expected a data section: every trial trains on the spec's data. Received: none")
    if not filled["data"]["validation_split"] > 0:
        raise UserError(f"{path}: /data/validation_split: Expected a validation split > 0: trials are compared on "
                        f"their validation loss. Received: {filled['data']['validation_split']}")
    return spec, found


def _base_spec(spec: Spec) -> dict[str, Any]:
    """The spec as written with its data path made absolute, so that trials on any node find it."""
    base = json.loads(json.dumps(spec.raw))
    base["data"]["path"] = str(resolve_path(base["data"]["path"], spec.base_dir))
    return base


def check_settings(trials: int, parallel: int, time_budget: float | None, algorithm: str) -> None:
    """Refuse bad numbers before Ray starts."""
    if trials < 1:
        raise UserError(f"--trials: Expected a number of trials >= 1. Received: {trials}")
    if parallel < 1:
        raise UserError(f"--parallel: Expected a number of parallel trials >= 1. Received: {parallel}")
    if time_budget is not None and not time_budget > 0:
        raise UserError(f"--time-budget: Expected seconds > 0. Received: {time_budget}")
    if algorithm not in ALGORITHMS:
        raise UserError(f"--algorithm: Expected one of {', '.join(ALGORITHMS)}. Received: {algorithm}")


def search_folder(out: str | os.PathLike[str] | None, name: str, *, resume: bool) -> Path:
    """The search folder: new or empty (with ``resume``: an earlier search's); default searches/<name>-<time>."""
    if out is None:
        if resume:
            raise UserError("--resume: Expected --out DIR, the folder of the search to continue. Received: none")
        return new_run_dir(Path.cwd() / "searches", name, create=True)
    folder = Path(out).expanduser().resolve()
    if resume:
        if not (folder / tables.SEARCH_JSON).is_file() or not (folder / TUNE_DIR).is_dir():
            raise UserError(f"--out {out}: Expected the folder of an earlier search to resume. "
                            f"Received: no {tables.SEARCH_JSON} and {TUNE_DIR}/ there")
        return folder
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UserError(f"--out {out}: Expected a new or empty folder. Received: an existing non-empty path "
                        "(add --resume to continue a search there)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"--out {out}: cannot create the folder: {exc.strerror or exc}") from None
    return folder


def _param_space(found: dict[str, Domain], algorithm: str) -> dict[str, Any]:
    from ray import tune

    space: dict[str, Any] = {}
    for index, domain in enumerate(found.values()):
        key = f"p{index}"
        if algorithm == "grid":
            space[key] = tune.grid_search(domain.grid())
        elif domain.kind == "choice":
            space[key] = tune.choice(list(domain.values))
        elif domain.kind == "int":
            space[key] = tune.qrandint(domain.low, domain.high, domain.step) if domain.step > 1 else \
                tune.randint(domain.low, domain.high + 1)
        elif domain.kind == "log":
            space[key] = tune.loguniform(domain.low, domain.high)
        else:
            space[key] = tune.uniform(domain.low, domain.high)
    return space


class _TrialRecorder:
    """A Tune callback that keeps the trials table up to date in the search folder as results arrive."""

    def __init__(self, folder: Path, fields: list[str], previous: list[dict[str, Any]],
                 echo: Callable[[str], None]) -> None:
        self.folder = folder
        self.fields = fields
        self.echo = echo
        self.records: dict[str, dict[str, Any]] = {t["trial"]: t for t in previous}

    def _record(self, trial: Any) -> dict[str, Any]:
        from .trial import trial_values

        record = self.records.get(trial.trial_id)
        if record is None:
            record = self.records[trial.trial_id] = {
                "trial": trial.trial_id,
                "params": trial_values(self.fields, trial.config),
                "status": tables.RUNNING,
                "history": [],
                "node_id": None,
                "run_dir": None,
            }
        return record

    def start(self, trial: Any) -> None:
        record = self._record(trial)
        record["status"] = tables.RUNNING
        self.save()

    def result(self, trial: Any, result: dict[str, Any]) -> None:
        record = self._record(trial)
        if result.get("run_dir") != record["run_dir"]:
            record["history"] = []  # a trial restarted by --resume trains again in a new folder
        record["node_id"], record["run_dir"] = result.get("node_id"), result.get("run_dir")
        record["status"] = tables.RUNNING
        epoch = {k: result[k] for k in ("epoch", "loss", "val_loss", "learning_rate") if k in result}
        if not record["history"] or record["history"][-1].get("epoch") != epoch.get("epoch"):
            record["history"].append(epoch)
        record["finished"] = bool(result.get("finished"))
        self.save()

    def complete(self, trial: Any) -> None:
        record = self._record(trial)
        record["status"] = tables.COMPLETED if record.get("finished") else tables.EARLY_STOPPED
        value = tables.best_value(record)
        self.echo(f"trial {trial.trial_id}: {record['status']}, best val_loss "
                  f"{value if value is None else f'{value:.5g}'} after {len(record['history'])} epoch(s)")
        self.save()

    def error(self, trial: Any) -> None:
        record = self._record(trial)
        record["status"] = tables.FAILED
        record["error"] = _error_text(trial)
        self.echo(f"trial {trial.trial_id}: failed: {record['error']}")
        self.save()

    def finish(self, interrupted: bool, *, at_once: bool = False) -> list[dict[str, Any]]:
        """Mark the trials still running interrupted and save the tables.

        ``at_once`` (the search was stopped without letting trials save): a trial Tune had already ended
        whose run folder was still being written (ASHA stopped it just before) is interrupted too.
        """
        for record in self.records.values():
            record.pop("finished", None)
            if record["status"] == tables.RUNNING or (at_once and record["status"] == tables.EARLY_STOPPED
                                                      and not _run_written(record.get("run_dir"))):
                record["status"] = tables.INTERRUPTED
        return self.save()

    def save(self) -> list[dict[str, Any]]:
        rows = [{k: v for k, v in r.items() if k != "finished"} for r in self.records.values()]
        tables.write_tables(self.folder, self.fields, rows)
        return rows


def _run_written(run_dir: str | None) -> bool:
    """False when the trial's run folder is here and its run.json says it did not end (True when unknown:
    the folder is on another node)."""
    from ..runfolder import INFO_FILE

    if not run_dir:
        return True
    try:
        record = json.loads((Path(run_dir) / INFO_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return not Path(run_dir).is_dir()
    return record.get("status") in ("completed", "stopped")


def _error_text(trial: Any) -> str:
    text = ""
    with contextlib.suppress(Exception):
        path = Path(trial.local_path) / "error.txt"
        text = path.read_text("utf-8") if path.is_file() else ""
    lines = [line for line in text.strip().splitlines() if "Error" in line or "error" in line]
    return (lines[-1] if lines else "the trial raised an error").strip()[:500]


class _StopSignals:
    """SIGINT and SIGTERM end the search gracefully: running trials stop after their current batch and save their
    run folders, Tune keeps its state for ``--resume``. A second signal ends the command at once."""

    def __init__(self) -> None:
        self.received: int | None = None

    def _handler(self, signum: int, frame: Any) -> None:
        first = self.received is None
        self.received = signum
        if not first:
            raise KeyboardInterrupt
        print(f"search: {signal.Signals(signum).name} received: stopping the running trials gracefully "
              "(send it again to stop at once)", file=sys.stderr)
        os.kill(os.getpid(), signal.SIGUSR1)  # Tune's own "end the experiment, keep its state" signal

    @contextlib.contextmanager
    def installed(self) -> Iterator[_StopSignals]:
        if not hasattr(signal, "SIGUSR1"):
            yield self
            return
        previous = {}
        try:
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, self._handler)
        except ValueError:  # not the main thread: no handler can be installed here
            pass
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


@contextlib.contextmanager
def _ray_session(address: str | None, parallel: int, threads: int) -> Iterator[None]:
    import ray

    from .trial import worker_env

    if ray.is_initialized():  # a caller (a test, a notebook) set Ray up: use it as it is
        yield
        return
    runtime_env = {"env_vars": worker_env()}
    options: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING,
                               "log_to_driver": False, "configure_logging": True, "runtime_env": runtime_env}
    try:
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=parallel * threads, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise UserError(f"cannot start or reach {where}: {exc}",
                        hint="start the head with `ray start --head` and pass its address" if address else None) \
            from None
    try:
        yield
    finally:
        ray.shutdown()


def run_search(
    spec_path: str | os.PathLike[str],
    *,
    trials: int = 10,
    parallel: int = 1,
    time_budget: float | None = None,
    address: str | None = None,
    out: str | os.PathLike[str] | None = None,
    algorithm: str = "tpe",
    resume: bool = False,
    threads: int = 1,
    echo: Callable[[str], None] | None = None,
) -> SearchResult:
    """Run (or with ``resume`` continue) a search; the folder holds the trials table, best.json and the plot."""
    echo = echo or (lambda line: print(line, file=sys.stderr))
    check_settings(trials, parallel, time_budget, algorithm)
    spec, found = load_search_spec(spec_path)
    require_ray()
    folder = search_folder(out, spec.name, resume=resume)
    fields = list(found)
    base = _base_spec(spec)
    domain_json = {f: d.to_json() for f, d in found.items()}
    settings: dict[str, Any] = {
        "spec": str(Path(spec_path).resolve()), "trials": trials, "parallel": parallel, "time_budget": time_budget,
        "address": address, "algorithm": algorithm, "threads": threads, "fields": fields, "domains": domain_json,
    }
    previous = tables.read_trials(folder) if resume else []
    if resume:
        recorded = json.loads((folder / tables.SEARCH_JSON).read_text("utf-8"))
        if recorded.get("fields") != fields:
            raise UserError(f"--resume: Expected the same search ranges as the search in {folder}. Received: "
                            f"{', '.join(fields)} instead of {', '.join(recorded.get('fields', []))}")
        changed = [key for key in ("trials", "algorithm", "time_budget") if recorded.get(key) != settings[key]]
        if changed:
            echo(f"search: --resume continues the search as it was started; {', '.join(changed)} kept from "
                 f"{tables.SEARCH_JSON}")
            settings.update({key: recorded.get(key) for key in changed})
    atomic_write_text(folder / tables.SEARCH_JSON, json.dumps({**settings, "status": "running"}, indent=2) + "\n")
    (folder / TRIALS_DIR).mkdir(exist_ok=True)

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"  # ours (below) handles SIGINT and SIGTERM alike
    from ray import tune

    from .trial import RECORDERS, RecorderHook, SearchTrial, cpus_for

    with contextlib.suppress(ImportError):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)

    recorder = _TrialRecorder(folder, fields, previous, echo)
    RECORDERS[str(folder)] = recorder
    stop_signals = _StopSignals()
    epochs = int((spec.filled or {})["training"]["epochs"])
    trainable = tune.with_resources(
        tune.with_parameters(SearchTrial, base=base, fields=fields, trials_dir=str(folder / TRIALS_DIR),
                             threads=threads),
        cpus_for(threads),
    )
    seed = int((spec.filled or {})["training"]["seed"])
    started = time.monotonic()
    try:
        with _ray_session(address, parallel, threads), stop_signals.installed():
            tune_log = logging.getLogger("ray.tune")
            level = tune_log.level
            # Tune's "resume with Tuner.restore(...)" (this command says --resume) and, on --resume, its warning
            # about the trials a stop interrupted before their first result.
            tune_log.setLevel(logging.ERROR)
            try:
                run_config = tune.RunConfig(name=TUNE_DIR, storage_path=str(folder), verbose=0, log_to_file=True,
                                            callbacks=[RecorderHook(str(folder))])
                if resume and tune.Tuner.can_restore(str(folder / TUNE_DIR)):
                    tuner = tune.Tuner.restore(str(folder / TUNE_DIR), trainable=trainable, resume_unfinished=True,
                                               restart_errored=False)
                else:
                    tuner = tune.Tuner(trainable, param_space=_param_space(found, algorithm), run_config=run_config,
                                       tune_config=_tune_config(algorithm, trials, parallel, time_budget, epochs, seed))
                echo(f"search: {trials if algorithm != 'grid' else 'a grid of'} trials over {', '.join(fields)} "
                     f"({parallel} at a time) in {folder}")
                tuner.fit()
            finally:
                tune_log.setLevel(level)
    except KeyboardInterrupt:  # a second Ctrl+C (or SIGTERM): stopped at once, but the record still says so
        rows = recorder.finish(True, at_once=True)
        best = tables.write_best(folder, spec.raw, rows, spec.base_dir) if tables.ranked(rows) else None
        atomic_write_text(folder / tables.SEARCH_JSON, json.dumps(
            {**settings, "status": "interrupted", "seconds": round(time.monotonic() - started, 2),
             "best_trial": best["trial"] if best else None}, indent=2) + "\n")
        echo(f"search: stopped at once; the running trials were ended without saving. Continue with "
             f"mlpdesigner search {spec_path} --out {folder} --resume")
        raise
    finally:
        RECORDERS.pop(str(folder), None)
    interrupted = stop_signals.received is not None
    rows = recorder.finish(interrupted)
    best = None
    if tables.ranked(rows):
        best = tables.write_best(folder, spec.raw, rows, spec.base_dir)
    plot = tables.write_plot(folder, domain_json, rows)
    status = "interrupted" if interrupted else "completed"
    atomic_write_text(folder / tables.SEARCH_JSON, json.dumps(
        {**settings, "status": status, "seconds": round(time.monotonic() - started, 2),
         "best_trial": best["trial"] if best else None}, indent=2) + "\n")
    return SearchResult(folder, rows, best, interrupted, plot, settings)


def _tune_config(algorithm: str, trials: int, parallel: int, time_budget: float | None, epochs: int,
                 seed: int) -> Any:
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    scheduler = ASHAScheduler(time_attr="epoch", max_t=max(epochs, 1), grace_period=1, reduction_factor=2)
    search_alg = None
    if algorithm == "tpe":
        import optuna
        from ray.tune.search import ConcurrencyLimiter
        from ray.tune.search.optuna import OptunaSearch

        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, max(2, trials // 3)))
        search_alg = ConcurrencyLimiter(OptunaSearch(sampler=sampler), max_concurrent=parallel)
    return tune.TuneConfig(
        metric=METRIC, mode="min", scheduler=scheduler, search_alg=search_alg,
        num_samples=1 if algorithm == "grid" else trials, time_budget_s=time_budget,
        max_concurrent_trials=None if search_alg is not None else parallel, reuse_actors=True,
    )
