"""Gradient-regularized frictional slip: the ``frictional_slip`` (2D body on a rigid base)
and ``frictional_bar`` (1D bar on a frictional foundation) problems.

Both build the algebra of :mod:`fem_reg.friction.solver` (bulk stiffness, interface
operators, prescribed DOFs, loads as functions of the load factor) and share the load
stepping, the quantities of interest and the Result.
"""

import logging
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.sparse as sp
from skfem import Basis, FacetBasis, MeshLine1, MeshQuad1, MeshTri1

from ..checks import (integer, mapping, non_negative, number, one_of, parameters, positive,
                      vector)
from ..errors import MeshError, ParameterError
from ..problem import Problem
from ..fe import (Material, check_supports, elasticity_form, gradient_penalty, lagrange,
                  load_form, mass, support_components, tangential_penalty)
from ..fe.solvers import one_blas_thread
from ..io import Result
from ..mesh import boundary, boundary_nodes, split_interface, subdomain
from .law import SlipWeakening
from .quantities import front_slip, slip_zone_length, transition_width
from .solver import SlipSolver, StepFailed, follow, follow_slip

log = logging.getLogger(__name__)

AXES = "xy"


def _factors(name, value):
    if not isinstance(value, (list, tuple)) or not value:
        raise ParameterError(f"{name} must be a non-empty list of load factors, e.g. [1.0] "
                             f"or [1.0, -1.0] (load, then reverse), got {value!r}")
    return [number(f"{name}[{k}]", v) for k, v in enumerate(value)]


@dataclass(frozen=True)
class SlipParameters:
    """Interface law and load stepping, common to both problems.

    k_t
        Tangential stick stiffness (traction per unit slip).
    mu_s, mu_d, D_c
        Slip-weakening friction ``mu = mu_d + (mu_s - mu_d) max(0, 1 - kappa / D_c)``;
        ``D_c = 0`` drops abruptly; ``mu_s = mu_d`` is constant friction.
    gamma
        Gradient coefficient of ``gamma/2 int (ds_p/dt)^2`` along the interface (0: local law).
    load_path, steps
        The load factor goes 0 -> ``load_path[0]`` -> ``load_path[1]`` ... (e.g.
        ``[1.0, -1.0]``: load, then reverse), ``steps`` increments per leg.
    probe_at
        Load factor on the first leg at which the slip-profile QoIs (``slip_zone_length``,
        ``transition_width``, ``max_slip``) are taken; default the end of the run.
    control, slip_step, max_steps
        ``"load"``: the load factor is prescribed at each of the ``steps`` increments.
        ``"slip"``: load control until the interface starts to slip, then slip control: each
        increment adds ``slip_step`` (a length) to the interface-averaged accumulated slip
        and the load factor is solved for, which follows the snap-backs of slip weakening
        (one monotonic leg only; at most ``max_steps`` increments).
    tolerance, max_newton, max_cuts
        Newton: relative residual, iterations per increment, halvings of a failing increment.
    max_relax
        When even the smallest increment has no equilibrium nearby (a snap of slip
        weakening), at most this many viscous relaxation substeps find the state it jumps to
        (0: a snap ends the run).
    history_every
        Keep every n-th converged increment for the PVD history (0: none).
    """

    k_t: float = 100.0
    mu_s: float = 0.6
    mu_d: float = 0.6
    D_c: float = 0.0
    gamma: float = 0.0
    load_path: list = field(default_factory=lambda: [1.0])
    steps: int = 20
    probe_at: float | None = None
    control: str = "load"
    slip_step: float | None = None
    max_steps: int = 10000
    tolerance: float = 1e-10
    max_newton: int = 30
    max_cuts: int = 8
    max_relax: int = 200
    history_every: int = 1

    def __post_init__(self):
        positive("k_t", self.k_t)
        SlipWeakening(self.mu_s, self.mu_d, self.D_c)
        non_negative("gamma", self.gamma)
        _factors("load_path", self.load_path)
        integer("steps", self.steps, low=1)
        if self.probe_at is not None:
            number("probe_at", self.probe_at, low=min(0.0, self.load_path[0]),
                   high=max(0.0, self.load_path[0]))
        one_of("control", self.control, ("load", "slip"))
        if self.control == "slip":
            if len(self.load_path) != 1:
                raise ParameterError(f"control = 'slip' follows one monotonic leg: give "
                                     f"load_path = [factor], got {self.load_path!r}")
            if self.slip_step is None:
                raise ParameterError("control = 'slip' needs slip_step (the interface-"
                                     "averaged slip added per increment, a length)")
            positive("slip_step", self.slip_step)
            integer("max_steps", self.max_steps, low=1)
        number("tolerance", self.tolerance, low=0.0, low_open=True, high=1e-2)
        integer("max_newton", self.max_newton, low=1)
        integer("max_cuts", self.max_cuts, low=0)
        integer("max_relax", self.max_relax, low=0)
        integer("history_every", self.history_every, low=0)

    @property
    def law(self):
        return SlipWeakening(self.mu_s, self.mu_d, self.D_c)

    def path(self):
        """``(t nominal, factor(t))``: leg ``k`` spans ``t in [k, k + 1]``."""
        factors = np.array([0.0] + list(self.load_path), dtype=np.float64)
        ts = np.concatenate([np.linspace(k, k + 1, self.steps + 1)[int(k > 0):]
                             for k in range(len(factors) - 1)])
        return ts, lambda t: float(np.interp(t, np.arange(len(factors)), factors))


class _SlipProblem(Problem):
    """Load stepping, QoIs and the Result; subclasses build the algebra."""

    reports_progress = True
    base_interface_nodes = None      # the second body's side of a split interface
    QOI = ("force", "displacement", "peak_force", "residual_force", "dissipated_energy",
           "elastic_energy", "regularization_energy", "external_work", "energy_error",
           "slip_zone_length", "transition_width", "max_slip", "steps",
           "newton_iterations")

    @classmethod
    def qoi_names(cls, values):
        parameters(cls.Parameters, values, cls.name)
        return list(cls.QOI)

    def __init__(self, mesh, **values):
        self.mesh = mesh
        self.parameters = parameters(self.Parameters, values, self.name)
        self._build()

    def solver(self, condense_bulk=True):
        """The algebraic problem; ``condense_bulk=False`` iterates on all DOFs (same solution)."""
        p = self.parameters
        return SlipSolver(self.K, self.B, self.weights, self.G, self.fixed, p.law, p.k_t,
                          p.gamma, pressure=self.pressure, normal_dofs=self.normal_dofs,
                          outward=self.outward, tolerance=p.tolerance,
                          max_iterations=p.max_newton, condense_bulk=condense_bulk)

    @one_blas_thread
    def solve(self, progress=None):
        """Follow the load path. A failed increment ends the run: the Result holds every
        converged step, ``meta["converged"]`` is False and ``meta["stop"]`` says why."""
        p = self.parameters
        start = time.perf_counter()
        solver = self.solver()
        ts, factor = p.path()
        loads = lambda t: self.loads(factor(t))          # noqa: E731
        rows, history, probe = [], [], {}
        recent = [None, None]                 # the last two converged (state, load factor)
        total = len(ts) - 1

        def record(t, state, info, lam=None):
            lam = factor(t) if lam is None else lam
            recent[:] = [recent[-1], (state, lam)]
            energies = solver.energies(state.u, state.s)
            stored = sum(energies)
            rows.append(dict(
                displacement=lam * self.load_size, load_factor=lam, time=t,
                force=self.force(state), external_work=state.work,
                elastic_energy=energies[0] + energies[1],
                regularization_energy=energies[2],
                dissipated_energy=state.dissipation,
                energy_error=(state.work - stored - state.dissipation)
                / max(abs(state.work), 1e-300),
                max_slip=float(np.abs(state.s).max()) if state.s.size else 0.0,
                slipping_nodes=info.slipping, newton_iterations=info.iterations,
                relaxation_steps=info.relaxation, residual=info.residual))
            if p.probe_at is not None and not probe and t <= 1.0 + 1e-12 \
                    and abs(lam) >= abs(p.probe_at) - 1e-12:
                probe.update(state=state, t=t)
            if p.history_every and (len(rows) - 1) % p.history_every == 0:
                # PVD time: the position on the load path; under slip control the load
                # factor falls after the peak, so the increment number (a PVD needs
                # increasing times)
                history.append((len(rows) - 1 if p.control == "slip" else t,
                                self._fields(state)))
            if progress is not None:
                progress(min(int(np.searchsorted(ts, t - 1e-12)), total), total,
                         f"t {t:.3f}  F {rows[-1]['force']:.4g}  "
                         f"slipping {info.slipping}  newton {info.iterations}")

        state = solver.initial_state()
        failure = None
        try:
            state, info = solver.step(state, *loads(0.0))
            record(0.0, state, info)
            slipped = (lambda new: bool(np.any(new.kappa > 0.0))) if p.control == "slip" \
                else None
            state, t_end, failure = follow(
                solver, state, loads, ts, record, max_cuts=p.max_cuts, until=slipped,
                max_relax=p.max_relax,
                response=lambda t, new: (factor(t), self.force(new)))
            if slipped is not None and failure is None and t_end < ts[-1]:
                affine = (self._fixed_rate, self.f_dead, self.f_rate)
                state, lam_end, failure = follow_slip(
                    solver, recent[0], state, factor(t_end), p.load_path[0], affine,
                    p.slip_step * float(np.sum(self.weights)),
                    lambda lam, new, info: record(lam / p.load_path[0], new, info, lam),
                    max_cuts=p.max_cuts, max_steps=p.max_steps)
                t_end = lam_end / p.load_path[0]
        except StepFailed as err:
            failure, t_end = f"the initial (dead) load step failed: {err}", 0.0
        if failure:
            log.warning("%s: %s; the result holds the last converged state (t = %g)",
                        self.name, failure, t_end)
        return self._result(state, probe.get("state", state), rows, history, failure,
                            time.perf_counter() - start)

    def _result(self, state, probe_state, rows, history, failure, seconds):
        p = self.parameters
        series = {key: [r[key] for r in rows] for key in rows[0]} if rows else {}
        force = np.array(series.get("force", [0.0]))
        first_leg = np.array(series.get("time", [0.0])) <= 1.0 + 1e-12
        x = self.coordinate
        qoi = {key: rows[-1][key] if rows else 0.0 for key in
               ("force", "displacement", "dissipated_energy", "elastic_energy",
                "regularization_energy", "external_work", "energy_error")}
        qoi.update(
            peak_force=float(force[np.argmax(np.abs(force))]) if rows else 0.0,
            residual_force=float(force[first_leg][-1]) if rows else 0.0,
            slip_zone_length=slip_zone_length(self.weights, probe_state.kappa,
                                              self.thickness),
            transition_width=transition_width(
                x, probe_state.s, front_slip(p.law, probe_state.pressure, p.k_t)),
            max_slip=float(np.abs(probe_state.s).max()) if probe_state.s.size else 0.0,
            steps=len(rows),
            newton_iterations=float(sum(series.get("newton_iterations", []))))
        order = np.argsort(x)
        profile = {"coordinate": x[order], "slip": probe_state.s[order],
                   "accumulated_slip": probe_state.kappa[order],
                   "friction": self.friction(probe_state)[order],
                   "pressure": probe_state.pressure[order]}
        fields = self._fields(state)
        curve = {key: series[key] for key in
                 ("displacement", "force", "external_work", "elastic_energy",
                  "regularization_energy", "dissipated_energy", "energy_error",
                  "slipping_nodes", "newton_iterations", "relaxation_steps",
                  "residual")} if rows else {}
        # unknowns: the displacement DOFs and one plastic slip per interface node
        meta = {"problem": self.name, "parameters": asdict(p),
                "ndofs": int(self.K.shape[0] + len(self.weights)),
                "interface_nodes": int(len(self.weights)), "seconds": seconds,
                "converged": failure is None,
                "stop": failure or "end of the load path"}
        return Result(self.mesh, point_data=fields.point_data, qoi=qoi, meta=meta,
                      history=history, series={"load_curve": curve, "slip_profile": {
                          k: list(v) for k, v in profile.items()}} if rows else {})

    def loads(self, factor):
        """``(values at the prescribed DOFs, nodal loads)`` at a load factor."""
        return factor * self._fixed_rate, self.f_dead + factor * self.f_rate

    def force(self, state):
        """Resultant of the external forces (reactions or tractions) along the load."""
        return float(self._direction @ state.external)

    def friction(self, state):
        """Tangential traction ``k_t (u_t - s)`` at the interface nodes."""
        return self.parameters.k_t * (self.B @ state.u - state.s)

    def _interface_field(self, values):
        """A nodal field of the interface on the mesh (on both sides of a split one)."""
        out = np.zeros(self.mesh.nvertices)
        out[self.interface_nodes] = values
        if self.base_interface_nodes is not None:
            out[self.base_interface_nodes] = values
        return out

    def _fields(self, state):
        point_data = {"displacement": self.displacement_field(state.u)}
        for name, values in (("slip", state.s), ("accumulated_slip", state.kappa),
                             ("friction", self.friction(state)), ("pressure", state.pressure)):
            point_data[name] = self._interface_field(values)
        return Result(self.mesh, point_data=point_data)


def line_operators(basis, nodes, thickness=1.0):
    """Lumped weights ``m`` and gradient matrix ``G`` of P1 along a line, on ``nodes``.

    ``basis``: P1 on a 1D mesh, or a FacetBasis on the interface's facets (the derivative
    along them, :func:`fem_reg.fe.tangential_penalty`). Nodal quadrature (``m_i`` = the row
    sums of the mass matrix, half the length of the adjacent segments) puts the friction law
    at the nodes."""
    if isinstance(basis, FacetBasis):
        G = tangential_penalty(thickness).assemble(basis)
    else:
        G = gradient_penalty(thickness).assemble(basis)
    m = np.asarray(mass(thickness).assemble(basis).sum(axis=1)).ravel()
    return m[nodes], G.tocsr()[nodes][:, nodes]


def _interface_geometry(mesh, name):
    """Nodes of a straight, axis-parallel interface sorted along it, their coordinate, the
    tangent and normal axes, the outward sign of the body's normal, and its facets."""
    facets = boundary(mesh, name)
    nodes = np.unique(mesh.facets[:, facets])
    points = mesh.p[:, nodes]
    span = np.ptp(points, axis=1)
    size = max(span.max(), 1e-300)
    flat = span <= 1e-9 * size
    if not flat.any():
        raise MeshError(f"interface '{name}' is not a straight line parallel to x or y "
                        f"(extent {span[0]:.3g} x {span[1]:.3g}); fem_reg's frictional "
                        f"interface must be")
    normal_axis = int(np.argmax(flat))
    tangent_axis = 1 - normal_axis
    order = np.argsort(points[tangent_axis])
    nodes = nodes[order]
    coordinate = mesh.p[tangent_axis, nodes]
    cells = mesh.f2t[0, facets]
    side = mesh.p[normal_axis, mesh.t[:, cells]].mean(axis=0) - points[normal_axis, 0]
    if (mesh.f2t[1, facets] >= 0).any() or not (np.all(side > 0) or np.all(side < 0)):
        raise MeshError(f"interface '{name}' has the body on both sides; on a rigid base "
                        f"it must be an outer boundary of the body (between two bodies, "
                        f"give base = the subdomain of the second)")
    outward = -1.0 if side[0] > 0 else 1.0
    return nodes, coordinate, tangent_axis, normal_axis, outward, facets


@dataclass(frozen=True)
class FrictionalSlipParameters(SlipParameters):
    """Parameters of :class:`FrictionalSlip` (and the common ones of
    :class:`SlipParameters`).

    E, nu, kind, thickness
        The body's material; ``kind`` ``"plane_strain"`` or ``"plane_stress"``.
    interface
        Name of the contact line: straight and parallel to x or y. On a rigid base (an
        outer boundary of the body) its normal displacement is held at zero; between two
        bodies (an internal boundary, see ``base``) the normal displacements of the two sides
        are equal (bilateral contact either way).
    base, base_E, base_nu
        ``"rigid"``: the body rests on a rigid base. Or the name of the subdomain of a second
        elastic body (its material ``base_E``, ``base_nu``, default the body's) that shares
        the conforming ``interface`` with the rest of the mesh: the mesh is split there
        (:func:`fem_reg.mesh.split_interface`) and the slip is the tangential displacement
        of the body relative to the base.
    pressure
        ``"reaction"``: the normal pressure is the reaction of that constraint (Coulomb
        friction with the computed pressure); or a number: a prescribed pressure.
    supports
        ``{boundary: clamped | pinned | fixed_x | fixed_y}`` (:mod:`fem_reg.fe.supports`).
    traction
        ``{boundary: [tx, ty]}`` dead loads, applied before the load path (e.g. a normal
        pressure on the top).
    displacement
        ``{boundary: {x = ux, y = uy}}`` prescribed displacement times the load factor
        (components not given are free).
    load_traction
        ``{boundary: [tx, ty]}`` traction times the load factor.
    """

    E: float = 1.0
    nu: float = 0.3
    kind: str = "plane_strain"
    thickness: float = 1.0
    interface: str = "interface"
    base: str = "rigid"
    base_E: float | None = None
    base_nu: float | None = None
    pressure: object = "reaction"
    supports: dict = field(default_factory=dict)
    traction: dict = field(default_factory=dict)
    displacement: dict = field(default_factory=dict)
    load_traction: dict = field(default_factory=dict)

    def __post_init__(self):
        super().__post_init__()
        one_of("kind", self.kind, ("plane_strain", "plane_stress"))
        self.material
        if not isinstance(self.interface, str):
            raise ParameterError(f"interface must be a boundary name, got {self.interface!r}")
        if not isinstance(self.base, str):
            raise ParameterError(f"base must be 'rigid' or the name of a subdomain, got "
                                 f"{self.base!r}")
        if self.base == "rigid" and (self.base_E is not None or self.base_nu is not None):
            raise ParameterError("base_E and base_nu are the material of an elastic base: "
                                 "give base = '<subdomain>' too (the base is rigid)")
        if self.base != "rigid":
            try:
                self.base_material
            except ParameterError as err:
                raise ParameterError(f"base material (base_E, base_nu): {err}") from None
        if isinstance(self.pressure, str):
            one_of("pressure", self.pressure, ("reaction",))
        else:
            non_negative("pressure", self.pressure)
        check_supports(mapping("supports", self.supports))
        for table in ("traction", "load_traction"):
            for name, value in mapping(table, getattr(self, table)).items():
                vector(f"{table}.{name}", value)
        for name, value in mapping("displacement", self.displacement).items():
            mapping(f"displacement.{name}", value)
            if not value:
                raise ParameterError(f"displacement.{name} must give x and/or y")
            for axis, v in value.items():
                one_of(f"displacement.{name} component", axis, tuple(AXES))
                number(f"displacement.{name}.{axis}", v)
        if not self.displacement and not self.load_traction:
            raise ParameterError("give the load: displacement = {boundary = {x = ...}} or "
                                 "load_traction = {boundary = [tx, ty]}")


    @property
    def material(self):
        return Material(self.E, self.nu, self.kind, self.thickness)

    @property
    def base_material(self):
        """The elastic base's material (the body's where ``base_E``/``base_nu`` are not
        given); ``None`` on a rigid base."""
        if self.base == "rigid":
            return None
        return Material(self.E if self.base_E is None else self.base_E,
                        self.nu if self.base_nu is None else self.base_nu, self.kind,
                        self.thickness)


class FrictionalSlip(_SlipProblem):
    """A 2D elastic body (P1 triangles or Q1 quadrilaterals) on a rigid base along a named
    straight interface, with slip-weakening Coulomb friction and the gradient penalty
    ``gamma/2 int (ds_p/dt)^2`` on the plastic slip."""

    name = "frictional_slip"
    Parameters = FrictionalSlipParameters

    def _build(self):
        p, mesh = self.parameters, self.mesh
        if not isinstance(mesh, (MeshTri1, MeshQuad1)):
            raise MeshError(f"frictional_slip needs a 2D triangle or quadrilateral mesh, got "
                            f"{type(mesh).__name__}")
        self.thickness = p.thickness
        twins = None
        if p.base != "rigid":
            mesh, twins = split_interface(mesh, p.interface, p.base)
            self.mesh = mesh
        basis = Basis(mesh, lagrange(mesh, 1, vector=True))
        self.dofs = basis.nodal_dofs                     # (2, nvertices)
        K = self._stiffness(basis)
        t_axis, n_axis = self._interface()
        self.pressure = None if p.pressure == "reaction" else float(p.pressure)
        prescribed, direction = self._prescribed(rigid_base=twins is None)
        self.f_dead = self._traction(basis, p.traction)
        self.f_rate = self._traction(basis, p.load_traction)
        self._tie = None
        slip = self.dofs[t_axis, self.interface_nodes]
        if twins is None:
            self.B = self._slip_operator(slip)
        else:
            below = self._base_nodes(twins)
            self.B = self._slip_operator(slip, self.dofs[t_axis, below])
            base_normal = self.dofs[n_axis, below]
            self._tie = sp.csr_matrix((np.ones(len(below)), (self.normal_dofs, base_normal)),
                                      shape=K.shape)
            prescribed, direction = self._tied(prescribed, direction, base_normal)
        self.fixed = np.array(sorted(prescribed), dtype=np.int64)
        self._fixed_rate = np.array([prescribed[d][1] for d in self.fixed])
        self._direction, self.load_size = self._load_direction(direction)
        if self._tie is not None:
            T = sp.identity(K.shape[0], format="csr") + self._tie
            K, self.B = (T.T @ K @ T).tocsr(), (self.B @ T).tocsr()
            self.f_dead, self.f_rate = T.T @ self.f_dead, T.T @ self.f_rate
        self.K = K

    def _interface(self):
        """The interface's nodes, coordinate, lumped weights, gradient matrix, normal DOFs
        and the outward sign; returns the tangent and normal axes."""
        p = self.parameters
        nodes, coordinate, t_axis, n_axis, outward, facets = \
            _interface_geometry(self.mesh, p.interface)
        self.interface_nodes, self.coordinate = nodes, coordinate
        self.weights, self.G = line_operators(
            FacetBasis(self.mesh, lagrange(self.mesh, 1), facets=facets), nodes, p.thickness)
        self.normal_dofs = self.dofs[n_axis, nodes]
        self.outward = np.full(len(nodes), outward)
        return t_axis, n_axis

    def _prescribed(self, rigid_base):
        """``{dof: (dead value, value per load factor)}`` and the displacement direction:
        interface normal (on a rigid base) < supports < load displacement (later wins)."""
        p, mesh, dofs = self.parameters, self.mesh, self.dofs
        prescribed = {int(d): (0.0, 0.0) for d in self.normal_dofs} if rigid_base else {}
        for name, kind in p.supports.items():
            for axis in support_components(kind, f"supports.{name}", dim=2):
                for d in dofs[AXES.index(axis), boundary_nodes(mesh, name)]:
                    prescribed[int(d)] = (0.0, 0.0)
        direction = np.zeros(dofs.size)
        for name, value in p.displacement.items():
            for axis, v in value.items():
                for d in dofs[AXES.index(axis), boundary_nodes(mesh, name)]:
                    prescribed[int(d)] = (0.0, float(v))
                    direction[d] = float(v)
        return prescribed, direction

    def _base_nodes(self, twins):
        """The base's copy of each interface node. With two bodies the slip is relative,
        and the body's normal DOF becomes the normal gap (u_n,body = u_n,base + gap, the gap
        held at zero), whose reaction is the normal force between the bodies."""
        base_nodes = np.full(self.mesh.nvertices, -1)
        base_nodes[twins[twins >= 0]] = np.nonzero(twins >= 0)[0]
        self.base_interface_nodes = base_nodes[self.interface_nodes]
        return self.base_interface_nodes

    def _slip_operator(self, body, base=None):
        """``B``: the tangential displacement of the body's interface DOFs ``body``, minus
        the base's (``base``) with two bodies."""
        ni, n = len(body), self.dofs.size
        rows, columns, values = np.arange(ni), body, np.ones(ni)
        if base is not None:
            rows, columns = np.concatenate((rows, rows)), np.concatenate((columns, base))
            values = np.concatenate((values, -values))
        return sp.csr_matrix((values, (rows, columns)), shape=(ni, n))

    def _load_direction(self, direction):
        """The unit load pattern (prescribed displacements, else load tractions) and its
        size, so that the load factor is in the user's units."""
        p, dofs = self.parameters, self.dofs
        if p.displacement:
            size = max(np.linalg.norm(list(v.values())) for v in p.displacement.values())
            return direction / size, float(size)
        size = max(np.linalg.norm(v) for v in p.load_traction.values())
        direction = np.zeros(dofs.size)
        for name, value in p.load_traction.items():
            for axis in range(2):
                direction[dofs[axis, boundary_nodes(self.mesh, name)]] = value[axis] / size
        if self._tie is not None:                   # the same resultant of the tied loads
            direction = direction - self._tie @ direction
        return direction, float(size)

    def _tied(self, prescribed, direction, base_normal):
        """Prescribed values and the load direction in the tied DOFs: a value given at the
        body's interface normal DOF goes to the base's (they move together), and the gaps
        are held at zero."""
        for body, base in zip(self.normal_dofs, base_normal):
            body, base = int(body), int(base)
            if body not in prescribed:
                continue
            value = prescribed.pop(body)
            if base in prescribed and prescribed[base] != value:
                raise ParameterError(
                    f"the prescribed normal displacements of the two sides of interface "
                    f"'{self.parameters.interface}' differ at node {body} "
                    f"({value[1]:g} vs {prescribed[base][1]:g}); the interface keeps them "
                    f"equal")
            prescribed[base] = value
            direction[base] = direction[base] or direction[body]
            direction[body] = 0.0
        prescribed.update({int(d): (0.0, 0.0) for d in self.normal_dofs})
        return prescribed, direction

    def _stiffness(self, basis):
        p = self.parameters
        body, base = p.material, p.base_material
        if base is None or base == body:
            return elasticity_form(body).assemble(basis).tocsr()
        in_base = np.zeros(self.mesh.nelements, dtype=bool)
        in_base[subdomain(self.mesh, p.base)] = True
        K = 0
        for material, cells in ((body, ~in_base), (base, in_base)):
            part = Basis(self.mesh, basis.elem, elements=np.nonzero(cells)[0])
            K = K + elasticity_form(material).assemble(part)
        return K.tocsr()

    def _traction(self, basis, table):
        f = np.zeros(basis.N)
        for name, value in table.items():
            edge = FacetBasis(self.mesh, basis.elem, facets=boundary(self.mesh, name))
            f += load_form(np.asarray(value, dtype=np.float64),
                           self.parameters.thickness).assemble(edge)
        return f

    def displacement_field(self, u):
        if self._tie is not None:
            u = u + self._tie @ u
        return u[self.dofs].T


@dataclass(frozen=True)
class FrictionalBarParameters(SlipParameters):
    """Parameters of :class:`FrictionalBar` (and the common ones of :class:`SlipParameters`).

    EA
        Axial stiffness.
    pressure
        Normal force per unit length on the foundation: the friction limit per unit length
        is ``mu p``.
    displacement
        ``{boundary: value}`` end displacement times the load factor (``left``/``right``).
    force
        ``{boundary: value}`` end force times the load factor.
    """

    EA: float = 1.0
    pressure: float = 1.0
    displacement: dict = field(default_factory=dict)
    force: dict = field(default_factory=dict)

    def __post_init__(self):
        super().__post_init__()
        positive("EA", self.EA)
        non_negative("pressure", self.pressure)
        for table in ("displacement", "force"):
            for name, value in mapping(table, getattr(self, table)).items():
                number(f"{table}.{name}", value)
        if not self.displacement and not self.force:
            raise ParameterError("give the load: displacement = {right = ...} or "
                                 "force = {right = ...}")


class FrictionalBar(_SlipProblem):
    """A bar (``MeshLine1``, P1) on a frictional foundation: the 1D version for teaching and
    verification against the closed form (:func:`fem_reg.friction.bar_solution`)."""

    name = "frictional_bar"
    Parameters = FrictionalBarParameters

    def _build(self):
        p, mesh = self.parameters, self.mesh
        if not isinstance(mesh, MeshLine1):
            raise MeshError(f"frictional_bar needs a 1D line mesh, got {type(mesh).__name__}")
        self.thickness = 1.0
        self.coordinate = mesh.p[0]
        self.interface_nodes = np.arange(mesh.nvertices)
        self.weights, G = line_operators(Basis(mesh, lagrange(mesh, 1)), self.interface_nodes)
        self.G = G
        self.K = (p.EA * G).tocsr()
        n = mesh.nvertices
        self.B = sp.identity(n, format="csr")
        self.normal_dofs, self.outward = None, None
        self.pressure = float(p.pressure)
        rate = {}
        for name, value in p.displacement.items():
            for d in boundary_nodes(mesh, name):
                rate[int(d)] = float(value)
        self.fixed = np.array(sorted(rate), dtype=np.int64)
        self._fixed_rate = np.array([rate[d] for d in self.fixed])
        self.f_dead, self.f_rate = np.zeros(n), np.zeros(n)
        for name, value in p.force.items():
            self.f_rate[boundary_nodes(mesh, name)] += float(value)
        self._direction = np.zeros(n)
        table = p.displacement or p.force
        size = max(abs(v) for v in table.values())
        for name, value in table.items():
            self._direction[boundary_nodes(mesh, name)] = value / size
        self.load_size = float(size)

    def displacement_field(self, u):
        return u
