"""Shared weak forms (elasticity, gradient penalty, Helmholtz, tangential penalty), error
norms, the supports vocabulary and linear solvers."""

from .elements import lagrange
from .elasticity import (KINDS, Material, cell_stress, elasticity_form, load_form,
                         dofs_rigid_body_modes, rigid_body_modes, von_mises)
from .forms import gradient_penalty, helmholtz, mass, tangential_gradient, tangential_penalty
from .norms import cell_average, error_norms, interpolate, vertex_values
from .supports import SUPPORTS, check_supports, support_components
from .solvers import DIRECT_LIMIT, has_pardiso, skfem_solver, solve_constrained, solve_linear

__all__ = ["lagrange", "KINDS", "Material", "cell_stress", "elasticity_form", "load_form",
           "dofs_rigid_body_modes", "rigid_body_modes", "von_mises", "gradient_penalty",
           "helmholtz", "mass",
           "tangential_gradient", "tangential_penalty", "cell_average", "error_norms",
           "interpolate", "vertex_values",
           "SUPPORTS", "check_supports", "support_components",
           "DIRECT_LIMIT", "has_pardiso", "skfem_solver", "solve_constrained", "solve_linear"]
