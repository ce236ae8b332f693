"""The course's one training loop, built on Chainer's Trainer, Updater and extensions.

Lesson 1 writes the loop out by hand (:func:`train_row_by_row`); every later lesson hands the same
steps to Chainer's ``Trainer`` through :func:`fit`, which any model can use: one or several
optimizers, labeled or unlabeled batches, any reported losses.
"""
from course.training.by_hand import plot_loss_curves, train_row_by_row
from course.training.extensions import LivePlot, ProgressBar, SampleGrid, StopOnNaN
from course.training.gan import GAN_PANELS, train_gan, uniform_z
from course.training.loop import History, fit, run_trainer, train_classifier
from course.training.plots import CLASSIFIER_PANELS, plot_history
from course.training.ranking import RankingEvaluator, train_pointwise, train_ranknet
from course.training.updater import DecayingUpdater, GANUpdater, SeededUpdater, make_converter, reseed

__all__ = [
    "CLASSIFIER_PANELS",
    "DecayingUpdater",
    "GAN_PANELS",
    "GANUpdater",
    "History",
    "LivePlot",
    "ProgressBar",
    "RankingEvaluator",
    "SampleGrid",
    "SeededUpdater",
    "StopOnNaN",
    "fit",
    "make_converter",
    "plot_history",
    "plot_loss_curves",
    "reseed",
    "run_trainer",
    "train_classifier",
    "train_gan",
    "train_pointwise",
    "train_ranknet",
    "train_row_by_row",
    "uniform_z",
]
