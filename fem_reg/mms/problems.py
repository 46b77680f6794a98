"""Manufactured-solution problems for the shared forms: the verification "physics".

Each problem solves one operator of :mod:`fem_reg.fe` with a smooth exact solution from
:mod:`fem_reg.mms.solutions` and reports the errors as quantities of interest, so that the
refinement-study harness can measure the observed order (P1: L2 ~ h^2, H1 ~ h; P2: one more).

=====================  =======================================================================
``helmholtz_mms``      ``-r^2 lap u + u = f``, ``r^2 du/dn = g`` (the PDE filter operator)
``diffusion_mms``      ``-kappa lap u = f``, ``u = u*`` on the boundary (volume gradient penalty)
``tangential_mms``     ``-gamma s'' + s = f`` along a straight named boundary (interface penalty)
``elasticity_mms``     ``-div sigma(u) = f``, ``u = u*`` on the boundary (plane stress/strain, 3D)
=====================  =======================================================================
"""

import time
from dataclasses import asdict, dataclass

import numpy as np
from skfem import Basis, FacetBasis, Functional, LinearForm, condense, solve
from skfem.helpers import dot

from ..checks import integer, non_negative, one_of, parameters, positive
from ..errors import ParameterError
from ..problem import Problem
from ..fe import (KINDS, Material, cell_stress, elasticity_form, error_norms, gradient_penalty,
                  helmholtz, interpolate, lagrange, load_form, mass, rigid_body_modes,
                  skfem_solver, solve_constrained, solve_linear, tangential_penalty,
                  vertex_values, von_mises)
from ..io import Result
from ..mesh import boundary, mesh_size
from . import solutions


def _meta(problem, basis, start):
    """Run description plus what a refinement study needs to judge the errors: their exact
    value (0) and their formal order (L2: p + 1, H1: p for Lagrange elements of order p)."""
    order = problem.parameters.order
    return {"problem": problem.name, "parameters": asdict(problem.parameters),
            "ndofs": int(basis.N), "cells": int(problem.mesh.nelements),
            "h": mesh_size(problem.mesh), "seconds": time.perf_counter() - start,
            "reference": {"l2_error": 0.0, "h1_error": 0.0},
            "expected_order": {"l2_error": order + 1, "h1_error": order}}


def _with_energy(meta, exact, order):
    """The energy ``a(u_h, u_h)`` converges to ``a(u, u)`` from below at order 2p:
    by Galerkin orthogonality ``a(u, u) - a(u_h, u_h) = a(e, e) = ||e||_a^2``."""
    meta["reference"]["energy"] = float(exact)
    meta["expected_order"]["energy"] = order
    return meta


@dataclass(frozen=True)
class HelmholtzParameters:
    """``radius``: filter radius r > 0; ``order``: Lagrange order 1 or 2."""
    radius: float = 0.3
    order: int = 1

    def __post_init__(self):
        positive("radius", self.radius)
        integer("order", self.order, low=1, high=2)


class HelmholtzMMS(Problem):
    """``-r^2 lap u + u = f`` in the domain, ``r^2 du/dn = g`` on the boundary, with
    ``u = sin(2x + 1/2) cos(3y) [cos(z)]``. QoIs: ``l2_error``, ``h1_error`` and ``energy``
    ``a(u_h, u_h) = int r^2 |grad u_h|^2 + u_h^2`` (exact value in
    ``meta["reference"]["energy"]``; it converges from below at order 2p)."""

    name = "helmholtz_mms"
    Parameters = HelmholtzParameters
    QOI = ("l2_error", "h1_error", "energy")

    def __init__(self, mesh, **values):
        self.mesh = mesh
        self.parameters = parameters(self.Parameters, values, self.name)

    def solve(self):
        start = time.perf_counter()
        r = self.parameters.radius
        element = lagrange(self.mesh, self.parameters.order)
        basis = Basis(self.mesh, element)
        facets = FacetBasis(self.mesh, element)
        rhs = LinearForm(lambda v, w: (r ** 2 * solutions.scalar_minus_laplacian(w.x)
                                       + solutions.scalar(w.x)) * v).assemble(basis)
        rhs += LinearForm(lambda v, w: r ** 2 * dot(solutions.scalar_gradient(w.x), w.n) * v) \
            .assemble(facets)
        A = helmholtz(r).assemble(basis)
        u = solve_linear(A, rhs)
        errors = error_norms(basis, u, solutions.scalar, solutions.scalar_gradient)
        exact_energy = Functional(
            lambda w: r ** 2 * dot(solutions.scalar_gradient(w.x), solutions.scalar_gradient(w.x))
            + solutions.scalar(w.x) ** 2).assemble(Basis(self.mesh, element, intorder=8))
        exact = solutions.scalar(self.mesh.p)
        return Result(self.mesh,
                      point_data={"u": vertex_values(basis, u), "u_exact": exact,
                                  "error": vertex_values(basis, u) - exact},
                      qoi={"l2_error": errors["l2"], "h1_error": errors["h1"],
                           "energy": float(u @ (A @ u))},
                      meta=_with_energy(_meta(self, basis, start), exact_energy,
                                        2 * self.parameters.order))


@dataclass(frozen=True)
class DiffusionParameters:
    """``kappa``: gradient-penalty coefficient > 0; ``order``: 1 or 2."""
    kappa: float = 1.0
    order: int = 1

    def __post_init__(self):
        positive("kappa", self.kappa)
        integer("order", self.order, low=1, high=2)


class DiffusionMMS(Problem):
    """``-kappa lap u = f`` with ``u = u*`` on the whole boundary (the volume gradient
    penalty ``kappa/2 |grad u|^2`` as an operator). QoIs: ``l2_error``, ``h1_error``."""

    name = "diffusion_mms"
    Parameters = DiffusionParameters
    QOI = ("l2_error", "h1_error")

    def __init__(self, mesh, **values):
        self.mesh = mesh
        self.parameters = parameters(self.Parameters, values, self.name)

    def solve(self):
        start = time.perf_counter()
        kappa = self.parameters.kappa
        basis = Basis(self.mesh, lagrange(self.mesh, self.parameters.order))
        rhs = LinearForm(lambda v, w: kappa * solutions.scalar_minus_laplacian(w.x) * v) \
            .assemble(basis)
        fixed = basis.get_dofs().all()
        values = interpolate(basis, solutions.scalar)
        u = solve_constrained(gradient_penalty(kappa).assemble(basis), rhs, fixed, values)
        errors = error_norms(basis, u, solutions.scalar, solutions.scalar_gradient)
        exact = solutions.scalar(self.mesh.p)
        return Result(self.mesh,
                      point_data={"u": vertex_values(basis, u), "u_exact": exact},
                      qoi={"l2_error": errors["l2"], "h1_error": errors["h1"]},
                      meta=_meta(self, basis, start))


@dataclass(frozen=True)
class TangentialParameters:
    """``boundary``: a straight named boundary; ``gamma``: tangential penalty >= 0;
    ``order``: 1 or 2."""
    boundary: str = "bottom"
    gamma: float = 0.05
    order: int = 1

    def __post_init__(self):
        if not isinstance(self.boundary, str):
            raise ParameterError(f"boundary must be a name, got {self.boundary!r}")
        non_negative("gamma", self.gamma)
        integer("order", self.order, low=1, high=2)


def straight_line(mesh, facets, name):
    """Start point, unit tangent and length of a straight boundary."""
    points = mesh.p[:, np.unique(mesh.facets[:, facets])]
    centre = points.mean(axis=1, keepdims=True)
    _, _, vt = np.linalg.svd((points - centre).T, full_matrices=False)
    tangent = vt[0]
    t = tangent @ (points - centre)
    length = float(t.max() - t.min())
    off_line = np.linalg.norm(points - centre - np.outer(tangent, t), axis=0).max()
    if mesh.dim() != 2 or off_line > 1e-9 * length:
        raise ParameterError(f"boundary '{name}' is not a straight line in 2D; "
                             f"tangential_mms needs one")
    start = centre[:, 0] + tangent * t.min()
    return start, tangent, length


class TangentialMMS(Problem):
    """A field living on a straight named boundary with the tangential gradient penalty:
    ``-gamma s'' + s = f``, ``s' = 0`` at the ends, ``s = cos(pi t/L) + cos(2 pi t/L)/2``.
    QoIs: ``l2_error``, ``h1_error`` (both along the boundary)."""

    name = "tangential_mms"
    Parameters = TangentialParameters
    QOI = ("l2_error", "h1_error")

    def __init__(self, mesh, **values):
        self.mesh = mesh
        self.parameters = parameters(self.Parameters, values, self.name)
        self.facets = boundary(mesh, self.parameters.boundary)
        self.start, self.tangent, self.length = straight_line(mesh, self.facets,
                                                              self.parameters.boundary)

    def _arclength(self, x):
        shape = (-1,) + (1,) * (x.ndim - 1)
        return np.sum((x - self.start.reshape(shape)) * self.tangent.reshape(shape), axis=0)

    def solve(self):
        start = time.perf_counter()
        gamma, L = self.parameters.gamma, self.length
        element = lagrange(self.mesh, self.parameters.order)
        basis = FacetBasis(self.mesh, element, facets=self.facets)
        dofs = basis.get_dofs(self.facets).all()
        A = tangential_penalty(gamma).assemble(basis) + mass().assemble(basis)
        rhs = LinearForm(lambda v, w: solutions.interface_source(self._arclength(w.x), L,
                                                                 gamma) * v).assemble(basis)
        # unknowns only on the boundary's DOFs; the rest of the mesh's DOFs stay zero
        s = solve(*condense(A, rhs, I=dofs), solver=skfem_solver())

        def exact(x):
            return solutions.interface_profile(self._arclength(x), L)

        def exact_grad(x):
            slope = solutions.interface_slope(self._arclength(x), L)
            return self.tangent.reshape((-1,) + (1,) * slope.ndim) * slope

        errors = error_norms(basis, s, exact, exact_grad, tangential=True)
        on_line = np.zeros(self.mesh.nvertices)
        on_line[np.unique(self.mesh.facets[:, self.facets])] = 1.0
        return Result(self.mesh,
                      point_data={"s": vertex_values(Basis(self.mesh, element), s),
                                  "s_exact": exact(self.mesh.p) * on_line},
                      qoi={"l2_error": errors["l2"], "h1_error": errors["h1"]},
                      meta={**_meta(self, basis, start), "ndofs": int(len(dofs))})


@dataclass(frozen=True)
class ElasticityParameters:
    """``E`` > 0, ``nu`` in (-1, 0.5), ``kind`` plane_stress / plane_strain / 3d, ``order``."""
    E: float = 1.0
    nu: float = 0.3
    kind: str = "plane_stress"
    order: int = 1

    def __post_init__(self):
        one_of("kind", self.kind, KINDS)
        integer("order", self.order, low=1, high=2)
        Material(self.E, self.nu, self.kind)


class ElasticityMMS(Problem):
    """``-div sigma(u) = f`` with ``u = u*`` on the boundary, ``u_i = sin(a_i . x + c_i)``.
    QoIs: ``l2_error``, ``h1_error``."""

    name = "elasticity_mms"
    Parameters = ElasticityParameters
    QOI = ("l2_error", "h1_error")

    def __init__(self, mesh, **values):
        self.mesh = mesh
        self.parameters = parameters(self.Parameters, values, self.name)
        dim = 3 if self.parameters.kind == "3d" else 2
        if mesh.dim() != dim:
            raise ParameterError(f"kind '{self.parameters.kind}' needs a {dim}D mesh, "
                                 f"got {mesh.dim()}D")
        self.material = Material(self.parameters.E, self.parameters.nu, self.parameters.kind)

    def solve(self):
        start = time.perf_counter()
        lam, mu = self.material.lame
        basis = Basis(self.mesh, lagrange(self.mesh, self.parameters.order, vector=True))
        rhs = load_form(lambda x: solutions.elastic_body_force(x, lam, mu)).assemble(basis)
        fixed = basis.get_dofs().all()
        values = interpolate(basis, solutions.displacement)
        modes, names = rigid_body_modes(basis)
        u = solve_constrained(elasticity_form(self.material).assemble(basis), rhs, fixed,
                              values, near_null_space=modes, mode_names=names)
        errors = error_norms(basis, u, solutions.displacement, solutions.displacement_gradient)
        sigma = cell_stress(self.material, basis, u)
        return Result(self.mesh,
                      point_data={"displacement": vertex_values(basis, u),
                                  "displacement_exact": solutions.displacement(self.mesh.p).T},
                      cell_data={"von_mises": von_mises(self.material, sigma)},
                      qoi={"l2_error": errors["l2"], "h1_error": errors["h1"]},
                      meta=_meta(self, basis, start))
