"""fem_reg: gradient-regularized finite-element problems on unstructured meshes, built on
scikit-fem, with a mesh-refinement study harness.

Subpackages: :mod:`fem_reg.mesh` (load/save, geometries, refinement),
:mod:`fem_reg.fe` (weak forms, solvers), :mod:`fem_reg.io` (results, VTU/PVD, pictures, case
files), :mod:`fem_reg.study` (grid convergence, refinement studies), :mod:`fem_reg.mms`
(manufactured-solution problems).
"""

__version__ = "0.1.0"

from .errors import (CaseError, FemRegError, MeshError, MeshFileError,  # noqa: E402
                     ParameterError, SingularSystemError, SolverError, UnknownNameError)

__all__ = ["__version__", "CaseError", "FemRegError", "MeshError", "MeshFileError",
           "ParameterError", "SingularSystemError", "SolverError", "UnknownNameError"]
