"""``python -m bench.minified_specs``: seconds to open and paint minified specs in the designer (issue 19).

One-line specs with 300 or 1,000 unknown keys, and with 3,000 layers, plus the
3,000-layer spec indented, are opened in an offscreen window with the JSON view
shown and painted once. Run it on two trees (PYTHONPATH=...) to compare.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

BASE = {
    "format": "mlpdesigner/1",
    "name": "minified",
    "inputs": [{"name": "x", "shape": [2]}],
    "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 3, "activation": "relu"}]},
    "outputs": [{"name": "label", "task": "binary", "units": 1}],
}


def specs(folder: Path) -> dict[str, Path]:
    """The benchmark's spec files, written into ``folder``."""
    made = {}
    for keys in (300, 1000):
        doc = json.loads(json.dumps(BASE)) | {f"unknown_key_{i}": i for i in range(keys)}
        made[f"{keys} unknown keys, one line"] = _write(folder / f"keys{keys}.json", json.dumps(doc))
    layers = json.loads(json.dumps(BASE))
    layers["network"]["layers"] = [{"type": "dense", "units": 4, "activation": "relu"} for _ in range(3000)]
    made["3,000 layers, one line"] = _write(folder / "layers.json", json.dumps(layers))
    made["3,000 layers, indented"] = _write(folder / "layers_indented.json", json.dumps(layers, indent=2))
    return made


def _write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


def main() -> int:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from mlpdesigner.gui.main_window import MainWindow

    folder = Path(tempfile.mkdtemp(prefix="bench-minified-"))
    warm = MainWindow(settings=QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat),
                      recovery_dir=folder / "r")
    warm.close()
    for label, path in specs(folder).items():
        window = MainWindow(settings=QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat),
                            recovery_dir=folder / "r")
        window.autosave_timer.stop()
        start = time.perf_counter()
        window.open_file(path)
        window.tabs.setCurrentWidget(window.json_view)
        window.resize(1280, 800)
        window.grab()
        app.processEvents()
        print(f"{label:<28s} {time.perf_counter() - start:8.2f} s  ({len(window.document.spec.problems)} problems)",
              flush=True)
        window.document.undo_stack.setClean()
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
