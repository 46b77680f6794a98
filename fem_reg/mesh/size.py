"""The size of a mesh: its measure and representative cell size."""

import numpy as np
from skfem import Basis, Functional


def measure(mesh):
    """Length, area or volume of the meshed domain."""
    return float(Functional(lambda w: np.ones_like(w.x[0])).assemble(Basis(mesh, mesh.elem())))


def mesh_size(mesh):
    """Representative cell size ``(measure / ncells)^(1/dim)`` (Celik et al. 2008, eq. 1)."""
    return float((measure(mesh) / mesh.nelements) ** (1.0 / mesh.dim()))
