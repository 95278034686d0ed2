"""Hyperparameter search over a spec's ``search`` ranges on Ray Tune (the ``search`` extra).

Importing this package imports neither Ray nor Optuna nor TensorFlow; a search imports them when it starts.
"""
