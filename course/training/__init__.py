"""The course's one training loop, built on Chainer's Trainer, Updater and extensions."""
from course.training.by_hand import plot_loss_curves, train_row_by_row
from course.training.checkpoints import load_model, save_model
from course.training.extensions import LivePlot, ProgressBar, StopOnNaN
from course.training.loop import History, run_trainer, train_classifier
from course.training.ranking import RankingEvaluator, train_pointwise, train_ranknet
from course.training.updater import SeededUpdater, make_converter, reseed

__all__ = [
    "History",
    "LivePlot",
    "ProgressBar",
    "RankingEvaluator",
    "SeededUpdater",
    "StopOnNaN",
    "load_model",
    "make_converter",
    "plot_loss_curves",
    "reseed",
    "run_trainer",
    "save_model",
    "train_classifier",
    "train_pointwise",
    "train_ranknet",
    "train_row_by_row",
]
