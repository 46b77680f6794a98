"""Plane-stress membranes with drilling (in-plane rotation) degrees of freedom.

The Hughes & Brezzi (1989) functional
``1/2 ∫ eps(u):C:eps(u) + 1/2 ∫ gamma_d (skew(grad u) - theta)^2 [+ alpha/2 |grad theta|^2] - W``
discretized with the Allman-type triangle and quadrilateral, the mixed pairs P1/P1, P2/P1,
Q1/Q1, and plain CST/P2/Q4/Q8 for reference. See ``docs/membranes.md``.
"""

from .discretization import ELEMENTS, Discretization, element_spec, one_point_quadrature
from .forms import drilling_blocks, membrane_stiffness, skew
from .problem import Membrane, MembraneParameters

__all__ = ["ELEMENTS", "Discretization", "element_spec", "one_point_quadrature",
           "drilling_blocks", "membrane_stiffness", "skew", "Membrane",
           "MembraneParameters"]
