"""The window's questions to the user, in one replaceable object (tests swap in answers)."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from .data_tab import choose_data_file
from .export_dialog import choose_output
from .gallery import TemplateGallery
from .recovery import Recovery

SPEC_FILTER = "MLP Designer specs (*.json);;All files (*)"


class Dialogs:
    """Modal dialogs used by the main window. Each method returns the user's answer."""

    def open_path(self, parent: QWidget, folder: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(parent, "Open design", folder, SPEC_FILTER)
        return path or None

    def open_model_path(self, parent: QWidget, folder: str) -> str | None:
        """A .keras or .onnx model to bring in as a design."""
        from .import_model import MODEL_FILTER

        path, _ = QFileDialog.getOpenFileName(parent, "Open model", folder, MODEL_FILTER)
        return path or None

    def save_path(self, parent: QWidget, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(parent, "Save design as", suggested, SPEC_FILTER)
        return path or None

    def export_path(self, parent: QWidget, suggested: str, file_filter: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(parent, "Export diagram", suggested, file_filter)
        return path or None

    def data_path(self, parent: QWidget, folder: str) -> str | None:
        """A CSV file to train on."""
        return choose_data_file(parent, folder)

    def export_model_path(self, parent: QWidget, suggested: str, file_filter: str) -> str | None:
        """Where to write an exported model or script."""
        return choose_output(parent, suggested, file_filter)

    def open_url(self, url: QUrl) -> bool:
        """Open a folder or file in the desktop's file manager."""
        return bool(QDesktopServices.openUrl(url))

    def confirm_discard(self, parent: QWidget, name: str) -> str:
        """'save', 'discard' or 'cancel'."""
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Unsaved changes")
        box.setText(f"{name} has unsaved changes.")
        box.setInformativeText("Save them before closing?")
        box.setStandardButtons(
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Save:
            return "save"
        if answer == QMessageBox.StandardButton.Discard:
            return "discard"
        return "cancel"

    def confirm_stop_run(self, parent: QWidget, what: str) -> str:
        """'stop' (stop it, then close) or 'cancel' (keep the window and the run)."""
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Still running")
        box.setText(f"{what} is still running.")
        box.setInformativeText("Stop it and close the window? A stopped training run still writes its folder.")
        stop = box.addButton("Stop and close", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return "stop" if box.clickedButton() is stop else "cancel"

    def error(self, parent: QWidget, title: str, message: str) -> None:
        QMessageBox.critical(parent, title, message)

    def offer_recovery(self, parent: QWidget, item: Recovery) -> str:
        """'restore', 'discard' or 'keep' (ask again next time)."""
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Recover unsaved work")
        box.setText("MLP Designer did not close normally last time.")
        box.setInformativeText(f"Restore {item.label}?")
        restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() is restore:
            return "restore"
        if box.clickedButton() is discard:
            return "discard"
        return "keep"

    def choose_template(self, parent: QWidget) -> str | None:
        gallery = TemplateGallery(parent)
        if gallery.exec() and gallery.chosen() is not None:
            return gallery.chosen().name
        return None
