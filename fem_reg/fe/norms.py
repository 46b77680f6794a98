"""Error norms against exact solutions and nodal values for output."""

import numpy as np
from skfem import FacetBasis, Functional

from .forms import tangential_gradient


def _squared(a):
    """Sum of squares over the leading (component) axes, keeping (cells, points)."""
    return np.sum(a ** 2, axis=tuple(range(a.ndim - 2))) if a.ndim > 2 else a ** 2


def error_norms(basis, u, exact, exact_grad=None, *, tangential=False):
    """``||u - u*||_L2`` and the H1 seminorm ``||grad(u - u*)||_L2``.

    Parameters
    ----------
    basis
        Basis (volume) or FacetBasis (boundary/interface) of the discrete field.
    u
        Coefficient vector.
    exact, exact_grad
        Callables of the coordinates ``x`` (shape ``(dim, ...)``) returning the exact value
        (scalar, or vector with components first) and its gradient (``(dim, ...)`` or
        ``(ncomp, dim, ...)``).
    tangential
        On a FacetBasis: compare only the tangential derivatives (for fields that live on a
        boundary or interface).

    Returns
    -------
    dict with ``l2`` and, when ``exact_grad`` is given, ``h1`` (seminorm).
    """
    uh = basis.interpolate(u)

    def value_error(w):
        return _squared(w["uh"] - exact(w.x))

    out = {"l2": float(np.sqrt(Functional(value_error).assemble(basis, uh=uh)))}
    if exact_grad is not None:
        def gradient_error(w):
            diff = w["uh"].grad - exact_grad(w.x)
            if tangential:
                diff = tangential_gradient(diff, w.n)
            return _squared(diff)

        if tangential and not isinstance(basis, FacetBasis):
            raise ValueError("tangential=True needs a FacetBasis")
        out["h1"] = float(np.sqrt(Functional(gradient_error).assemble(basis, uh=uh)))
    return out


def interpolate(basis, function):
    """Lagrange interpolant of ``function(x)`` (scalar, or vector with components first):
    its values at the DOF locations, component by component."""
    x = basis.doflocs
    values = np.asarray(function(x), dtype=np.float64)
    if values.ndim == 1:
        return values
    out = np.zeros(basis.N)
    for component, dofs in enumerate(basis.split_indices()):
        out[dofs] = values[component, dofs]
    return out


def cell_average(basis, values):
    """Average over each cell of quadrature-point values ``(..., ncells, nqp)`` of ``basis``."""
    weights = basis.dx                                        # (ncells, nqp)
    return (np.asarray(values) * weights).sum(axis=-1) / weights.sum(axis=-1)


def vertex_values(basis, u):
    """Values of a Lagrange field at the mesh vertices: ``(nvertices,)`` for a scalar field,
    ``(nvertices, ncomponents)`` for a vector field."""
    nodal = basis.nodal_dofs
    values = np.asarray(u)[nodal]
    return values[0] if values.shape[0] == 1 else values.T
