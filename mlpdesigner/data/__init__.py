"""Qt-free, TensorFlow-free work on a design's data: reading tables and checking them.

The designer's Data tab and the command line use the same functions.
"""
