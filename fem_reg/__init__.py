"""fem_reg: gradient-regularized finite-element problems on unstructured meshes, built on
scikit-fem, with a mesh-refinement study harness.

Subpackages: :mod:`fem_reg.mesh` (load/save, geometries, refinement),
:mod:`fem_reg.fe` (weak forms, solvers), :mod:`fem_reg.io` (results, VTU/PVD, pictures, case
files), :mod:`fem_reg.study` (grid convergence, refinement studies), :mod:`fem_reg.mms`
(manufactured-solution problems).
"""

__version__ = "0.1.0"

from .errors import (CaseError, CheckpointError, FemRegError, MeshError,  # noqa: E402
                     MeshFileError, ParameterError, ResourceError, SingularSystemError,
                     SolverError, UnknownNameError, WriteError)

__all__ = ["__version__", "CaseError", "CheckpointError", "FemRegError", "MeshError",
           "MeshFileError", "ParameterError", "ResourceError", "SingularSystemError",
           "SolverError", "UnknownNameError", "WriteError"]
