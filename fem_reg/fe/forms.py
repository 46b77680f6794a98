"""The gradient-penalty family of weak forms, shared by every physics.

* volume gradient penalty ``kappa grad u . grad v`` (the energy ``kappa/2 |grad u|^2``);
* Helmholtz operator ``r^2 grad u . grad v + u v`` (the PDE density filter
  ``-r^2 lap u + u = f`` with zero normal flux, Lazarov & Sigmund 2011, IJNME 86);
* tangential penalty ``gamma (P grad u) . (P grad v)`` on facets, ``P = I - n n^T``: the
  derivative along a boundary or interface (``gamma/2 (du/dt)^2`` for a field living there).
"""

from skfem import BilinearForm
from skfem.helpers import dot, grad

from ..checks import non_negative, positive


def gradient_penalty(kappa=1.0):
    """``kappa grad u . grad v``."""
    kappa = non_negative("kappa", kappa)

    @BilinearForm
    def penalty(u, v, w):
        return kappa * dot(grad(u), grad(v))

    return penalty


def mass(coefficient=1.0):
    """``c u v`` (on a Basis, or a FacetBasis for a boundary mass)."""
    coefficient = non_negative("coefficient", coefficient)

    @BilinearForm
    def mass_form(u, v, w):
        return coefficient * u * v

    return mass_form


def helmholtz(radius):
    """``r^2 grad u . grad v + u v``: the operator of the PDE filter with radius ``r``."""
    r2 = positive("radius", radius) ** 2

    @BilinearForm
    def operator(u, v, w):
        return r2 * dot(grad(u), grad(v)) + u * v

    return operator


def tangential_gradient(gradient, normal):
    """``(I - n n^T) g``: the part of a gradient along a facet."""
    return gradient - dot(gradient, normal) * normal


def tangential_penalty(gamma):
    """``gamma (P grad u) . (P grad v)`` for a FacetBasis: the derivative along the facets.

    In 2D this is ``gamma du/dt dv/dt``; for a field living on an interface it is the energy
    ``gamma/2 (ds/dt)^2``. Only the values on the facets matter (the trace of a continuous
    Lagrange field determines its tangential derivative), so for a field living on the
    interface assemble on ``FacetBasis(mesh, element, facets=...)`` and keep the rows and
    columns of ``basis.get_dofs(facets)``.
    """
    gamma = non_negative("gamma", gamma)

    @BilinearForm
    def penalty(u, v, w):
        return gamma * dot(tangential_gradient(grad(u), w.n), tangential_gradient(grad(v), w.n))

    return penalty
