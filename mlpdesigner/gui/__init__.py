"""The designer window (PySide6). The only package that imports Qt; it never imports TensorFlow."""

from ._refcount_guard import install as _install_refcount_guard

_install_refcount_guard()
