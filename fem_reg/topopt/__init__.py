"""Density-filtered topology optimization: SIMP with element matrices computed once, the
Helmholtz (PDE) or classic cone filter, Heaviside projection, OC and MMA, checkpoints."""

from .filters import DensityFilter, HelmholtzFilter, cell_volumes, heaviside, helmholtz_radius
from .optimizers import MMA, oc_update
from .problem import TopOpt, TopOptParameters
from .stiffness import SimpStiffness, StiffnessSolver

__all__ = ["DensityFilter", "HelmholtzFilter", "cell_volumes", "heaviside", "helmholtz_radius",
           "MMA", "oc_update", "TopOpt", "TopOptParameters", "SimpStiffness",
           "StiffnessSolver"]
