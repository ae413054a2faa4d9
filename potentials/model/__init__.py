"""The equivariant potential, its config, the autograd site for forces/stress, model files."""

from potentials.model.config import ModelConfig
from potentials.model.io import ModelFileError, load_model, save_model
from potentials.model.lennard_jones import LennardJones
from potentials.model.network import EquivariantPotential
from potentials.model.predict import predict
from potentials.model.statistics import DataStatistics

__all__ = [
    "DataStatistics",
    "EquivariantPotential",
    "LennardJones",
    "ModelConfig",
    "ModelFileError",
    "load_model",
    "predict",
    "save_model",
]
