"""The designer window (PySide6). The only package that imports Qt; it never imports TensorFlow."""

from .qtcheck import check as _check_qt

_check_qt()
