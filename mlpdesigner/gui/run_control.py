"""When and how the designer starts its child processes, and how it ends them (one controller per window).

The training view, the main window and the export dialog all go through
:class:`RunController`: it decides whether the design can train (no errors,
data mapped, saved), writes a temporary copy of unsaved edits for a child to
read, names the run folder, and hands the children's jobs to the warm worker
(:mod:`mlpdesigner.gui.warm_worker`) when one is ready. The views only show
what happens.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..runevents import train_command
from ..runfolder import new_run_dir, runs_folder
from ..spec import dumps
from ..spec.paths import resolve_path
from .document import Document
from .training import ExportRun, TrainingRun
from .warm_worker import WarmWorker


class RunController(QObject):
    """The designer's start policy for training and export children, and its warm worker."""

    #: Emitted when a training child has started (the TrainingRun).
    run_started = Signal(object)

    def __init__(self, document: Document, *, save_first: Callable[[], bool] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.save_first = save_first or (lambda: False)
        #: Where runs go instead of ``<spec folder>/runs`` (the screenshot command uses a scratch folder).
        self.runs_root_override: Path | None = None
        self.run: TrainingRun | None = None
        #: The folder the latest training child writes (``train --out``).
        self.run_dir: Path | None = None
        self.export: ExportRun | None = None
        #: The warm worker the children's jobs go to when it is ready (started by :meth:`warm_up_soon`).
        self.worker = WarmWorker(busy=lambda: self.busy, parent=self)

    @property
    def busy(self) -> bool:
        """True while a training or export child runs."""
        return self.training or (self.export is not None and self.export.running)

    def warm_up_soon(self) -> None:
        """Start the warm worker in the background (the window is up); nothing when it runs or is turned off."""
        self.worker.start_soon()

    def shutdown(self) -> None:
        """The window closes: end the idle warm worker, start no other (returns at once)."""
        self.worker.shutdown()

    @property
    def training(self) -> bool:
        """True while a training child runs."""
        return self.run is not None and self.run.running

    def runs_root(self) -> Path | None:
        """The folder the design's runs go to (None for a design never saved)."""
        if self.runs_root_override is not None:
            return self.runs_root_override
        return runs_folder(self.document.path) if self.document.path else None

    def spec_for_child(self) -> tuple[Path, list[Path]] | None:
        """The spec file a child process should read, and temporary files to delete after it.

        A saved design without unsaved changes: its own file. Otherwise a
        temporary copy of what the editor shows, its data path made absolute
        (it is resolved against the design's folder). None when the design was
        never saved and the user did not save it now.
        """
        doc = self.document
        if doc.path is None and not self.save_first():
            return None
        if doc.path is None:
            return None
        doc.flush()
        if not doc.dirty:
            return doc.path, []
        raw = copy.deepcopy(doc.raw)
        data = raw.get("data") if isinstance(raw, dict) else None
        if isinstance(data, dict) and isinstance(data.get("path"), str):
            data["path"] = resolve_path(data["path"], doc.path.parent).as_posix()
        handle = tempfile.NamedTemporaryFile("w", suffix=".json", prefix=f"{doc.spec.name or 'design'}-unsaved-",
                                             delete=False, encoding="utf-8")
        with handle:
            handle.write(dumps(raw))
        return Path(handle.name), [Path(handle.name)]

    def refusal(self) -> str | None:
        """Why the design cannot train as it stands (errors, no data), or None."""
        doc = self.document
        if not doc.editable or not doc.spec.ok:
            errors = [p for p in doc.spec.problems if p.is_error]
            detail = errors[0].message if errors else "the text is not a valid design"
            return (f"Cannot train: the design has {len(errors) or 'an'} error{'s' * (len(errors) != 1)} "
                    f"({detail}). Fix them first.")
        if not isinstance(doc.raw.get("data"), dict):
            return "Cannot train: the design has no data. Choose a CSV file and map its columns in the Data tab."
        return None

    def prepare_training(self, epochs: int | None = None, init_from: Path | None = None) -> TrainingRun | str:
        """A training child for what the editor shows, not started yet; or the message why there is none.

        ``init_from``: a run folder whose weights the child starts from (``train --init-from``).

        The caller connects to the run's signals, then calls :meth:`launch`.
        """
        if self.training:
            return "A training run is in progress: stop it first."
        self.document.flush()  # what is typed but not yet applied is part of the design to train
        refused = self.refusal()
        if refused:
            return refused
        source = self.spec_for_child()
        if source is None:
            return "Cannot train an unsaved design: save it first (its runs go next to it, in runs/)."
        spec_path, cleanup = source
        root = self.runs_root()
        if root is None:  # pragma: no cover - a design with a file has a runs folder
            return "Cannot train an unsaved design: save it first."
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return f"Cannot create the runs folder {root}: {exc.strerror or exc}"
        doc = self.document
        run_dir = new_run_dir(root, doc.spec.name or "design")
        argv = train_command(spec_path, run_dir, epochs, init_from)
        self.run = TrainingRun(argv, cwd=doc.path.parent if doc.path else None, cleanup=cleanup, parent=self,
                               worker=self.worker)
        self.run_dir = run_dir
        return self.run

    def launch(self, run: TrainingRun) -> None:
        """Start a run from :meth:`prepare_training` (returns at once)."""
        run.start()
        self.run_started.emit(run)

    def stop_training(self) -> bool:
        """Ask the running training to stop after its current batch; False when none runs."""
        if not self.training or self.run is None:
            return False
        self.run.stop()
        return True

    def prepare_export(self, argv_for: Callable[[Path], list[str]], run_dir: Path | None) -> ExportRun | str:
        """An export child of a run folder, or of the design (saved, or a temporary copy); not started yet."""
        if self.export is not None and self.export.running:
            return "An export is in progress."
        cleanup: list[Path] = []
        if run_dir is not None:
            source = run_dir
        else:
            prepared = self.spec_for_child()
            if prepared is None:
                return "Save the design first: the untrained export reads it from its file."
            source, cleanup = prepared
        self.export = ExportRun(argv_for(source), cleanup=cleanup, parent=self, worker=self.worker)
        return self.export
