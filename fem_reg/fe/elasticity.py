"""Isotropic linear elasticity: plane stress, plane strain and 3D.

``sigma = lambda tr(eps) I + 2 mu eps`` with the Lame parameters of ``E, nu``; in plane stress
``lambda`` is replaced by ``lambda* = 2 lambda mu / (lambda + 2 mu) = E nu / (1 - nu^2)``
(e.g. Hughes, The Finite Element Method, 2000, sec. 2.7).
"""

from dataclasses import dataclass

import numpy as np
from skfem import BilinearForm, LinearForm
from skfem.helpers import ddot, dot, eye, sym_grad, trace
from skfem.models.elasticity import lame_parameters, plane_stress

from ..checks import number, one_of, positive
from ..errors import ParameterError
from .norms import cell_average

KINDS = ("plane_stress", "plane_strain", "3d")


@dataclass(frozen=True)
class Material:
    """Isotropic linear elastic material.

    Parameters
    ----------
    E
        Young's modulus, > 0.
    nu
        Poisson's ratio, in (-1, 0.5); 0.5 (incompressible) only in plane stress, where the
        in-plane response stays finite.
    kind
        ``"plane_stress"``, ``"plane_strain"`` or ``"3d"``.
    thickness
        Out-of-plane thickness of 2D models (multiplies stiffness and loads per unit area).
    """

    E: float
    nu: float
    kind: str = "plane_stress"
    thickness: float = 1.0

    def __post_init__(self):
        one_of("kind", self.kind, KINDS)
        positive("E", self.E)
        positive("thickness", self.thickness)
        if self.nu == 0.5 and self.kind != "plane_stress":
            raise ParameterError(f"nu = 0.5 (incompressible) makes {self.kind} elasticity "
                                 f"singular (lambda infinite); use nu < 0.5, e.g. 0.499, or a "
                                 f"mixed formulation")
        number(f"nu ({self.kind})", self.nu, low=-1.0, low_open=True, high=0.5,
               high_open=self.kind != "plane_stress")

    @property
    def dim(self):
        return 3 if self.kind == "3d" else 2

    @property
    def shear_modulus(self):
        return self.E / (2.0 * (1.0 + self.nu))

    @property
    def lame(self):
        """Effective ``(lambda, mu)`` of the model (plane stress: ``lambda*``), from
        scikit-fem's ``plane_stress`` / ``lame_parameters``; fem_reg's stricter part is the
        validation of E and nu per kind in the constructor (nu < 1/2 for plane strain and
        3D, where skfem would return an infinite lambda)."""
        convert = plane_stress if self.kind == "plane_stress" else lame_parameters
        return convert(self.E, self.nu)

    def stress(self, strain):
        """``sigma = lambda tr(eps) I + 2 mu eps`` on skfem-shaped arrays ``(dim, dim, ...)``."""
        lam, mu = self.lame
        return lam * eye(trace(strain), strain.shape[0]) + 2.0 * mu * strain


def elasticity_form(material):
    """Stiffness ``t * sigma(u) : eps(v) = t (lambda div u div v + 2 mu eps(u) : eps(v))``
    (``t`` the thickness in 2D); written out rather than through ``stress`` because the
    kernel runs once per pair of local DOFs."""
    scale = material.thickness if material.dim == 2 else 1.0
    lam, mu = material.lame

    @BilinearForm
    def stiffness(u, v, w):
        eps_u, eps_v = sym_grad(u), sym_grad(v)
        return scale * (lam * trace(eps_u) * trace(eps_v) + 2.0 * mu * ddot(eps_u, eps_v))

    return stiffness


def load_form(load, thickness=1.0):
    """``t * f . v`` for a body force (on a Basis) or a traction (on a FacetBasis).

    ``load`` is a constant vector or a callable of the coordinates ``x`` (shape
    ``(dim, ...)``) returning the vector field.
    """
    constant = None if callable(load) else np.asarray(load, dtype=np.float64)

    @LinearForm
    def work(v, w):
        f = load(w.x) if constant is None else \
            constant.reshape((-1,) + (1,) * (w.x.ndim - 1)) + 0.0 * w.x
        return thickness * dot(f, v)

    return work


def rigid_body_modes(basis):
    """Rigid-body modes of a vector Lagrange basis and their names.

    Returns
    -------
    modes : ndarray, shape ``(ndofs, 3)`` in 2D or ``(ndofs, 6)`` in 3D
        Translations, then rotations, evaluated at the DOF locations.
    names : list of str
    """
    return _modes(basis.doflocs, basis.split_indices(), basis.N)


def dofs_rigid_body_modes(mesh, dofs):
    """Rigid-body modes of a vector Lagrange field of order 1 or 2 from its
    ``skfem.assembly.Dofs`` (no basis, no quadrature); returns ``(modes, names)``.

    The DOFs sit at the vertices, the edge and facet midpoints and the cell centres (the
    images of the reference DOF points under the affine, bilinear or trilinear map), where
    a rigid motion, being linear, is interpolated exactly.
    """
    dim = mesh.dim()
    x = np.zeros((dim, dofs.N))
    places = [(dofs.nodal_dofs, lambda: mesh.p),
              (dofs.facet_dofs, lambda: mesh.p[:, mesh.facets].mean(axis=1)),
              (dofs.edge_dofs, lambda: mesh.p[:, mesh.edges].mean(axis=1)),
              (dofs.interior_dofs, lambda: mesh.p[:, mesh.t].mean(axis=1))]
    components = [[] for _ in range(dim)]
    for numbers, where in places:
        if numbers.size == 0:
            continue
        if numbers.shape[0] != dim:
            raise ValueError("rigid-body modes need one DOF per entity and component "
                             "(Lagrange order 1 or 2)")
        points = where()
        for c in range(dim):
            x[:, numbers[c]] = points
            components[c].append(numbers[c])
    return _modes(x, [np.concatenate(c) for c in components], dofs.N)


def _modes(x, components, N):
    """Modes from the coordinates ``x`` of every DOF and the DOFs of each component."""
    dim = len(components)
    modes = np.zeros((N, 3 if dim == 2 else 6))
    names = [f"translation {'xyz'[i]}" for i in range(dim)]
    for i, dofs in enumerate(components):
        modes[dofs, i] = 1.0
    # rotation about axis k moves component i by -x_j and component j by x_i
    rotations = [(0, 1, "z")] if dim == 2 else [(1, 2, "x"), (2, 0, "y"), (0, 1, "z")]
    for column, (i, j, axis) in enumerate(rotations, start=dim):
        modes[components[i], column] = -x[j, components[i]]
        modes[components[j], column] = x[i, components[j]]
        names.append(f"rotation about {axis}")
    return modes, names


def cell_stress(material, basis, u):
    """Stress averaged over each cell, shape ``(dim, dim, ncells)``."""
    grad_u = basis.interpolate(u).grad                        # (dim, dim, ncells, nqp)
    return cell_average(basis, material.stress(0.5 * (grad_u + np.swapaxes(grad_u, 0, 1))))


def von_mises(material, sigma):
    """Von Mises stress of stress tensors ``(dim, dim, ...)``; in plane strain with the
    out-of-plane stress ``nu (s_xx + s_yy)``."""
    if sigma.shape[0] == 3:
        s = sigma
    else:
        s33 = material.nu * (sigma[0, 0] + sigma[1, 1]) \
            if material.kind == "plane_strain" else 0.0 * sigma[0, 0]
        s = np.zeros((3, 3) + sigma.shape[2:])
        s[:2, :2] = sigma
        s[2, 2] = s33
    deviator = s - np.eye(3).reshape((3, 3) + (1,) * (s.ndim - 2)) * \
        (np.trace(s, axis1=0, axis2=1) / 3.0)
    return np.sqrt(1.5 * np.einsum("ij...,ij...->...", deviator, deviator))
