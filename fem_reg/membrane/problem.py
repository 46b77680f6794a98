"""Plane-stress membranes with drilling rotations: the ``membrane`` problem.

A :class:`Membrane` is built from a mesh and parameters (element family, material, drilling
penalty, supports, loads, probes) and ``solve()`` returns a :class:`~fem_reg.io.Result` with
the displacement (3 components in the files), the rotation, the mismatch
``skew(grad u) - theta`` and the stresses, and QoIs: the displacement (and rotation) at each
probe point and the compliance ``f . q``.
"""

import time
from dataclasses import asdict, dataclass, field

import numpy as np
from skfem import FacetBasis

from ..checks import (mapping, non_negative, number, one_of, parameters, point_items,
                      vector)
from ..errors import ParameterError
from ..problem import Problem
from ..fe import (Material, cell_average, cell_stress, check_supports, load_form,
                  solve_constrained, support_components, von_mises)
from ..io import Result
from ..mesh import boundary, mesh_size, vertex_at
from .discretization import ELEMENTS, PENALTY_QUADRATURES, Discretization
from .forms import membrane_stiffness, skew

@dataclass(frozen=True)
class MembraneParameters:
    """Parameters of :class:`Membrane`.

    element
        ``allman`` (triangles), ``allman_quad`` (quadrilaterals), the mixed pairs ``p1p1``,
        ``p2p1``, ``q1q1``, or the plain displacement elements ``cst``, ``p2``, ``q4``, ``q8``.
    E, nu, thickness
        Plane-stress material.
    gamma_d
        Drilling penalty; default (None) the shear modulus ``E / (2 (1 + nu))``.
    alpha
        Weight of the rotation-gradient penalty ``alpha/2 |grad theta|^2`` (default 0).
    penalty_quadrature
        ``auto`` (one point for Allman-type, the stiffness rule for mixed pairs), ``reduced``,
        ``full``.
    supports
        ``{boundary: kind}``, kind one of clamped (u and theta), pinned (u), fixed_x, fixed_y,
        fixed_theta (:mod:`fem_reg.fe.supports`).
    displacements, rotations
        Prescribed ``{boundary: [u_x, u_y]}`` and ``{boundary: theta}``.
    traction
        ``{boundary: [t_x, t_y]}`` force per unit area of the edge (times the thickness).
    body_force
        ``[b_x, b_y]`` per unit volume.
    point_loads, moments
        Lists of ``{at = [x, y], force = [f_x, f_y]}`` and ``{at = [x, y], moment = M}``
        applied at the mesh vertex at that point (moments need rotation unknowns).
    probes
        ``{label: [x, y]}``: QoIs ``label_ux``, ``label_uy`` (and ``label_theta``).
    """

    element: str = "allman"
    E: float = 1.0
    nu: float = 0.3
    thickness: float = 1.0
    gamma_d: float | None = None
    alpha: float = 0.0
    penalty_quadrature: str = "auto"
    supports: dict = field(default_factory=dict)
    displacements: dict = field(default_factory=dict)
    rotations: dict = field(default_factory=dict)
    traction: dict = field(default_factory=dict)
    body_force: list | None = None
    point_loads: list = field(default_factory=list)
    moments: list = field(default_factory=list)
    probes: dict = field(default_factory=dict)

    def __post_init__(self):
        one_of("element", self.element, list(ELEMENTS))
        Material(self.E, self.nu, "plane_stress", self.thickness)
        if self.gamma_d is not None:
            non_negative("gamma_d", self.gamma_d)
        non_negative("alpha", self.alpha)
        one_of("penalty_quadrature", self.penalty_quadrature, PENALTY_QUADRATURES)
        check_supports(mapping("supports", self.supports))
        for name, value in mapping("displacements", self.displacements).items():
            vector(f"displacements.{name}", value)
        for name, value in mapping("rotations", self.rotations).items():
            number(f"rotations.{name}", value)
        for name, value in mapping("traction", self.traction).items():
            vector(f"traction.{name}", value)
        if self.body_force is not None:
            vector("body_force", self.body_force)
        point_items("point_loads", self.point_loads, "force", vector)
        point_items("moments", self.moments, "moment", number)
        for name, value in mapping("probes", self.probes).items():
            vector(f"probes.{name}", value)

    @property
    def material(self):
        return Material(self.E, self.nu, "plane_stress", self.thickness)


def probe(basis, coefficients, points, what):
    """Values of a field at points; a clear error for a point outside the mesh."""
    try:
        return basis.interpolator(coefficients)(points)
    except ValueError:
        raise ParameterError(f"{what}: point(s) {points.T.tolist()} outside the mesh") from None


class Membrane(Problem):
    """Plane-stress membrane with drilling rotations (Hughes & Brezzi 1989 functional)."""

    name = "membrane"
    Parameters = MembraneParameters
    QOI = ("compliance", "<probe>_ux", "<probe>_uy", "<probe>_theta")

    @classmethod
    def qoi_names(cls, values):
        """The QoIs a run with these parameters reports."""
        p = parameters(cls.Parameters, values, cls.name)
        rotation = ELEMENTS[p.element].rotation is not None
        return ["compliance"] + [f"{label}_{c}" for label in p.probes
                                 for c in ("ux", "uy") + (("theta",) if rotation else ())]

    def __init__(self, mesh, **values):
        self.mesh = mesh
        self.parameters = parameters(self.Parameters, values, self.name)
        self.disc = Discretization(mesh, self.parameters.element,
                                   penalty_quadrature=self.parameters.penalty_quadrature)

    def stiffness(self):
        p = self.parameters
        return membrane_stiffness(self.disc, p.material, p.gamma_d, p.alpha)

    def load(self):
        """Load vector in the unknowns ``q``."""
        p, disc, mesh = self.parameters, self.disc, self.mesh
        f_u = np.zeros(disc.Nu)
        for name, traction in p.traction.items():
            edge = FacetBasis(mesh, disc.u_element, facets=boundary(mesh, name),
                              intorder=4)
            f_u += load_form(traction, p.thickness).assemble(edge)
        if p.body_force is not None:
            f_u += load_form(p.body_force, p.thickness).assemble(disc.u_basis)
        f = disc.T[:disc.Nu].T @ f_u
        u_dofs = disc.vertex_u_dofs()
        for item in p.point_loads:
            k = vertex_at(mesh, item["at"], "point load")
            f[u_dofs[:, k]] += np.asarray(item["force"], dtype=np.float64)
        if p.moments:
            theta_dofs = disc.vertex_theta_dofs()
            for item in p.moments:
                f[theta_dofs[vertex_at(mesh, item["at"], "moment")]] += float(item["moment"])
        return f

    def constraints(self):
        """``(fixed, values)``: constrained unknowns and a full-length value vector."""
        p, disc, mesh = self.parameters, self.disc, self.mesh
        values = np.zeros(disc.nq)
        fixed = []
        for name, kind in p.supports.items():
            facets = boundary(mesh, name)
            for what in support_components(kind, f"supports.{name}", dim=2,
                                           rotation=disc.has_rotation):
                fixed.append(disc.boundary_theta_dofs(facets) if what == "theta"
                             else disc.boundary_u_dofs(facets, "xy".index(what)))
        for name, value in p.displacements.items():
            facets = boundary(mesh, name)
            for c in range(2):
                dofs = disc.boundary_u_dofs(facets, c)
                values[dofs] = value[c]
                fixed.append(dofs)
        for name, value in p.rotations.items():
            dofs = disc.boundary_theta_dofs(boundary(mesh, name))
            values[dofs] = value
            fixed.append(dofs)
        fixed = np.unique(np.concatenate(fixed)) if fixed else np.zeros(0, dtype=np.int64)
        return fixed, values

    def solve(self):
        start = time.perf_counter()
        p, disc, mesh = self.parameters, self.disc, self.mesh
        K, f = self.stiffness(), self.load()
        fixed, values = self.constraints()
        q = solve_constrained(K, f, fixed, values, near_null_space=disc.rigid_body_modes())
        u, theta = disc.split(q)
        material = p.material
        ub = disc.u_basis
        sigma = cell_stress(material, ub, u)
        rotation = cell_average(ub, skew(ub.interpolate(u)))
        point_data = {"displacement": u[ub.nodal_dofs].T}
        cell_data = {"stress": np.moveaxis(sigma, -1, 0),
                     "von_mises": von_mises(material, sigma),
                     "skew_grad_u": rotation}
        qoi = {"compliance": float(f @ q)}
        if theta is not None:
            tb = disc.theta_basis
            point_data["rotation"] = theta[tb.nodal_dofs[0]]
            cell_data["drilling_mismatch"] = rotation - cell_average(tb, tb.interpolate(theta))
        for label, point in p.probes.items():
            x = np.asarray(point, dtype=np.float64)[:, None]
            ux, uy = probe(ub, u, x, f"probe '{label}'")[:, 0]
            qoi[f"{label}_ux"], qoi[f"{label}_uy"] = float(ux), float(uy)
            if theta is not None:
                qoi[f"{label}_theta"] = float(probe(disc.theta_basis, theta, x,
                                                    f"probe '{label}'")[0])
        meta = {"problem": self.name, "parameters": asdict(p), "ndofs": int(disc.nq),
                "cells": int(mesh.nelements), "h": mesh_size(mesh),
                "element": ELEMENTS[p.element].description,
                "penalty_quadrature": disc.penalty_quadrature,
                "seconds": time.perf_counter() - start}
        return Result(mesh, point_data=point_data, cell_data=cell_data, qoi=qoi, meta=meta)
