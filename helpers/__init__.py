"""Companion package of the course "How the batch size shapes training"."""

from ._backend import quiet_tensorflow_logs

# Only environment defaults, so that a later `import keras` in a notebook is quiet too.
quiet_tensorflow_logs()

from .data import Dataset, load_blobs, load_digits
from .models import build_mlp
from .plots import (plot_curves, plot_dataset, plot_decision_regions, plot_epoch_split,
                    plot_learning_curves, plot_loss_paths, plot_panels, plot_side_by_side, plot_spread,
                    plot_step_costs, plot_update_losses)
from .style import batch_color
from .timing import measure_step_costs
from .trace import loss_after_each_update
from .training import TrainResult, train, updates_per_epoch
from .quiz import Quiz
from .widgets import Explorer, explore
from .gradients import (batch_gradient, fit_steps_to_batch, gradient_noise, minibatch_gradient_error,
                        per_example_gradients)
from .plots import plain_log_ticks, plot_divergence, plot_explorer
from .sweep_plots import plot_gradient_error, plot_heatmap, plot_rate_search, plot_steps_to_target
from .replicas import train_replicas
from .schedules import BatchGrowth, StepDecay, scale_learning_rate
from .sweep import SweepResult, steps_to_target, sweep

__all__ = ["Dataset", "load_blobs", "load_digits", "build_mlp", "TrainResult", "train",
           "updates_per_epoch", "plot_curves", "plot_learning_curves", "plot_side_by_side",
           "plot_spread", "plot_panels", "plot_dataset",
           "Explorer", "explore", "Quiz",
           "train_replicas", "sweep", "SweepResult", "steps_to_target", "StepDecay", "BatchGrowth",
           "scale_learning_rate", "per_example_gradients", "batch_gradient", "gradient_noise",
           "minibatch_gradient_error", "fit_steps_to_batch", "plot_heatmap", "plot_gradient_error",
           "plot_steps_to_target", "plot_decision_regions", "plot_epoch_split", "plot_loss_paths",
           "plot_step_costs", "plot_update_losses", "batch_color", "measure_step_costs",
           "loss_after_each_update", "plain_log_ticks", "plot_explorer",
           "plot_divergence", "plot_rate_search"]
