"""Training engine (Lightning), typed configs, losses and cross-validation training.

    >>> from oocyteseg.training import load_config, train
    >>> result = train(load_config("configs/fast-cpu.yaml", ["optim.max_steps=300"]), "runs/fast")
"""

from oocyteseg.training.config import TrainConfig, load_config
from oocyteseg.training.cv import train_folds
from oocyteseg.training.engine import TrainResult, train
from oocyteseg.training.losses import create_loss, median_frequency_weights

__all__ = ["TrainConfig", "TrainResult", "create_loss", "load_config", "median_frequency_weights", "train",
           "train_folds"]
