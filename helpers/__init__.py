"""Companion package of the course "How the batch size shapes training"."""

from ._backend import quiet_tensorflow_logs

# Only environment defaults, so that a later `import keras` in a notebook is quiet too.
quiet_tensorflow_logs()

from .data import Dataset, load_blobs, load_digits
from .models import build_mlp
from .plots import (plot_batch_loss, plot_curves, plot_dataset, plot_learning_curves, plot_panels,
                    plot_side_by_side, plot_spread)
from .tables import results_table
from .training import TrainResult, train, updates_per_epoch
from .widgets import Explorer, explore

__all__ = ["Dataset", "load_blobs", "load_digits", "build_mlp", "TrainResult", "train",
           "updates_per_epoch", "plot_curves", "plot_learning_curves", "plot_side_by_side",
           "plot_spread", "plot_panels", "plot_batch_loss", "plot_dataset", "results_table",
           "Explorer", "explore"]
