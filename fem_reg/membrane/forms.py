"""The drilling energy: ``gamma_d/2 (skew(grad u) - theta)^2`` and ``alpha/2 |grad theta|^2``.

``skew(grad u) = 1/2 (du_y/dx - du_x/dy)`` is the infinitesimal rotation of the displacement;
the Hughes & Brezzi (1989) functional ties the independent rotation to it with the penalty
``gamma_d`` (the shear modulus by default). Blocks of the bilinear form
``gamma_d (skew u - theta)(skew v - eta)``:

    K_uu = gamma_d skew(u) skew(v),   K_ut = -gamma_d theta skew(v),   K_tt = gamma_d theta eta
"""

import scipy.sparse as sp
from skfem import BilinearForm

from ..fe import elasticity_form, gradient_penalty


def skew(u):
    """``1/2 (du_y/dx - du_x/dy)`` of a vector field (skfem DiscreteField or its gradient)."""
    g = u.grad
    return 0.5 * (g[1, 0] - g[0, 1])


def drilling_blocks(gamma):
    """The three bilinear forms ``(K_uu, K_ut, K_tt)`` of the drilling penalty."""

    @BilinearForm
    def uu(u, v, w):
        return gamma * skew(u) * skew(v)

    @BilinearForm
    def ut(theta, v, w):
        return -gamma * theta * skew(v)

    @BilinearForm
    def tt(theta, eta, w):
        return gamma * theta * eta

    return uu, ut, tt


def membrane_stiffness(disc, material, gamma_d=None, alpha=0.0):
    """Stiffness ``T^T K T`` of a :class:`~fem_reg.membrane.Discretization`.

    ``gamma_d`` defaults to the shear modulus; ``alpha`` weighs ``|grad theta|^2``. Both are
    multiplied by the thickness, like the strain energy.
    """
    t = material.thickness
    K_uu = elasticity_form(material).assemble(disc.u_basis)
    if not disc.has_rotation:
        return disc.reduce(K_uu)
    gamma = material.shear_modulus if gamma_d is None else gamma_d
    uu, ut, tt = drilling_blocks(t * gamma)
    K_uu = K_uu + uu.assemble(disc.u_penalty_basis)
    K_ut = ut.assemble(disc.theta_penalty_basis, disc.u_penalty_basis)
    K_tt = tt.assemble(disc.theta_penalty_basis)
    if alpha:
        K_tt = K_tt + gradient_penalty(t * alpha).assemble(disc.theta_basis)
    return disc.reduce(sp.bmat([[K_uu, K_ut], [K_ut.T, K_tt]], format="csr"))
