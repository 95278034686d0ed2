"""The designer window (PySide6). The only package that imports Qt; it never imports TensorFlow."""
