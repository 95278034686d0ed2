"""Training: data loading (:mod:`.data`), the training run (:mod:`.runner`) and the CLI commands (:mod:`.cli`).

Importing this package does not import TensorFlow.
"""

from .data import Dataset, OutputInfo, Split, load_dataset, read_data, split_indices

__all__ = ["Dataset", "OutputInfo", "Split", "load_dataset", "read_data", "split_indices"]
