"""Quasi-static phase-field fracture under a prescribed displacement: the alternate
minimization (staggered) scheme of Bourdin, Francfort & Marigo (2000).

At each load step the displacement is minimized for the current damage (a linear elastic
problem with the stiffness degraded by ``g(d)``), then the damage for that displacement (a
bound-constrained quadratic program, ``d_prev <= d <= 1``: irreversibility), until the largest
damage change is below ``tolerance``. The number of these iterations is reported per step.
"""

import logging
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from skfem import Basis, BilinearForm, Functional, MeshTet1, MeshTri1
from skfem.helpers import ddot, dot, grad, sym_grad, trace

from ..atomic import signals_held
from ..checks import integer, mapping, number, one_of, parameters, positive
from ..errors import ParameterError, SolverError
from ..fe import Material, check_supports, lagrange, support_components
from ..fe.pattern import CellSum
from ..fe.solvers import ReusedFactorization, one_blas_thread
from ..io import Result
from ..io.checkpoint import fingerprint, load_checkpoint, save_checkpoint, wrong_size
from ..mesh import boundary
from ..problem import Problem
from .anderson import Anderson
from .bounded import minimize_bounded
from .crack import profile_resolution
from .history import ROW, LoadState
from .monolithic import MonolithicNewton
from . import split
from .model import PhaseField

log = logging.getLogger(__name__)

SPLITS = ("none", "volumetric_deviatoric", "spectral")
MAX_NEWTON = 50
REGULARIZATIONS = ("gradient", "local")
IRREVERSIBILITIES = ("bounds", "history")
SCHEMES = ("alternate", "newton")
MAX_PATTERN_UPDATES = 50
# the crack profile's element size over l above which a run warns that it is unresolved:
# twice the h = l/2 the profile needs
COARSE_PROFILE = 1.0
CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class FractureParameters:
    """Parameters of :class:`PhaseFieldFracture` (units as the mesh's, e.g. kN and mm).

    E, nu, kind, thickness
        Undamaged material; ``kind`` ``"plane_strain"``, ``"plane_stress"`` or ``"3d"``.
    Gc, length, model, residual
        Toughness, regularization length ``l``, ``"AT1"``/``"AT2"`` and the residual
        stiffness ``k`` of ``g(d) = (1 - d)^2 + k``.
    regularization
        ``"gradient"`` (the phase-field energy) or ``"local"``: the same energy without
        ``l |grad d|^2``, a local softening law that is not mesh-independent (the contrast).
    irreversibility
        ``"bounds"`` (``d_prev <= d <= 1``: the variational formulation) or ``"history"``
        (Miehe, Hofacker & Welschinger 2010): the damage is driven by the largest ``psi+``
        seen so far at each point, ``H = max(H, psi+)``, and bounded by ``0 <= d <= 1`` only.
        The history variant is not variationally consistent (no energy it minimizes) and
        dissipates more; it is offered for comparison with the papers that use it.
    split
        Tension-compression split of the elastic energy: ``"none"`` or
        ``"volumetric_deviatoric"`` (Amor, Marigo & Maurini 2009: only the expansive volume
        change and the deviatoric part are degraded, ``psi+ = K/2 <tr eps>+^2 + mu
        |dev eps|^2``; plane strain or 3D) or ``"spectral"`` (Miehe, Hofacker &
        Welschinger 2010: ``psi+ = lambda/2 <tr eps>+^2 + mu sum <eps_a>+^2`` over the
        principal strains; plane strain or 3D on triangles or tetrahedra).
    supports
        ``{boundary: support}`` (``clamped``, ``pinned``, ``fixed_x``, ...).
    loaded, direction, displacement
        The boundary moved, the component (``"x"``, ``"y"``, ``"z"``) and its final value;
        the other components of that boundary are held (``u_x = 0`` on the SENT top).
    steps
        Equal load steps from 0 to ``displacement``.
    scheme
        ``"alternate"`` (alternate minimization, the default) or ``"newton"``: Newton's
        method on ``(u, d)`` together with a line search and the bounds by a reduced-space
        method (any split, ``irreversibility = "bounds"``, triangles or tetrahedra); a step
        that does not descend is replaced by an alternate-minimization pass.
    tolerance, max_iterations
        A step stops at a largest damage change below ``tolerance`` (between alternate
        minimizations, or of a full Newton step); more than ``max_iterations`` iterations in
        a step is an error.
    anderson
        Anderson acceleration of the alternate minimization over the last ``anderson``
        passes (0: the plain scheme); it restarts when the damage change grows. The crack
        runs in about half the iterations.
    cut_after, max_cuts
        Automatic step refinement where the crack runs: a step still iterating after
        ``cut_after`` iterations restarts as two half steps, at most ``max_cuts`` halvings
        deep (the smallest steps then iterate to convergence).
    initial_damage
        Optional band of full damage ``{from = [x, y], to = [x, y], width = w}``: nodes
        within ``w / 2`` of the segment start (and stay) at ``d = 1`` (a notch without a
        slit).
    history_every
        Keep every n-th load step in the PVD history (0: none).
    checkpoint_every
        Write the checkpoint (``fem-reg run``: ``OUT/CASE.checkpoint.npz``, continued by
        ``--resume``) every n accepted load steps, at the end and on Ctrl-C.
    """

    E: float = 210.0
    nu: float = 0.3
    kind: str = "plane_strain"
    thickness: float = 1.0
    Gc: float = 2.7e-3
    length: float = 0.015
    model: str = "AT2"
    residual: float = 1e-6
    regularization: str = "gradient"
    irreversibility: str = "bounds"
    split: str = "none"
    supports: dict = field(default_factory=lambda: {"bottom": "clamped"})
    loaded: str = "top"
    direction: str = "y"
    displacement: float = 0.007
    steps: int = 70
    scheme: str = "alternate"
    tolerance: float = 1e-4
    max_iterations: int = 1000
    anderson: int = 5
    cut_after: int = 30
    max_cuts: int = 4
    initial_damage: dict | None = None
    history_every: int = 1
    checkpoint_every: int = 5

    def __post_init__(self):
        Material(self.E, self.nu, self.kind, self.thickness)
        one_of("regularization", self.regularization, REGULARIZATIONS)
        one_of("irreversibility", self.irreversibility, IRREVERSIBILITIES)
        PhaseField(self.Gc, self.length, self.model, self.residual)
        one_of("split", self.split, SPLITS)
        check_supports(mapping("supports", self.supports))
        one_of("direction", self.direction, ("x", "y", "z"))
        number("displacement", self.displacement)
        integer("steps", self.steps, low=1)
        one_of("scheme", self.scheme, SCHEMES)
        number("tolerance", self.tolerance, low=0.0, low_open=True, high=0.5)
        integer("max_iterations", self.max_iterations, low=1)
        integer("anderson", self.anderson, low=0, high=50)
        integer("cut_after", self.cut_after, low=1)
        integer("max_cuts", self.max_cuts, low=0)
        integer("history_every", self.history_every, low=0)
        integer("checkpoint_every", self.checkpoint_every, low=1)
        if self.initial_damage is not None:
            band = mapping("initial_damage", self.initial_damage)
            unknown = set(band) - {"from", "to", "width"}
            if unknown or not {"from", "to", "width"} <= set(band):
                raise ParameterError(f"initial_damage needs exactly from, to and width; got "
                                     f"{sorted(band)}")
            positive("initial_damage.width", band["width"])


class PhaseFieldFracture(Problem):
    """Phase-field fracture (AT1/AT2) of a 2D (plane strain/stress) or 3D body on a
    triangle, quadrilateral, tetrahedral or hexahedral mesh, P1 displacement and damage."""

    name = "phase_field_fracture"
    Parameters = FractureParameters
    iterative = True
    QOI = ("peak_force", "final_force", "fracture_energy", "dissipated_energy", "crack_length",
           "elastic_energy", "external_work", "energy_error", "steps",
           "staggered_iterations")

    def __init__(self, mesh, **values):
        self.mesh = mesh
        self.parameters = p = parameters(self.Parameters, values, self.name)
        dim = mesh.dim()
        if (dim == 3) != (p.kind == "3d"):
            raise ParameterError(f"kind = '{p.kind}' on a {dim}D mesh")
        if p.split != "none" and p.kind == "plane_stress":
            raise ParameterError(f"split = '{p.split}' needs the strain's full trace: use "
                                 f"kind = 'plane_strain' (or a 3D mesh)")
        self.material = Material(p.E, p.nu, p.kind, p.thickness)
        # integrals over the plane carry the thickness; in 3D nothing
        self.scale = p.thickness if dim == 2 else 1.0
        self.field = PhaseField(p.Gc, p.length, p.model, p.residual,
                                local=p.regularization == "local")
        self.u_basis = Basis(mesh, lagrange(mesh, 1, vector=True), intorder=2)
        self.d_basis = Basis(mesh, lagrange(mesh, 1), quadrature=self.u_basis.quadrature)
        self._dirichlet()
        self.free = np.setdiff1d(np.arange(self.u_basis.N), self.fixed)
        self.d0 = self._initial_damage()
        # P1 strains are constant on a simplex: the matrices are cell-weighted sums of cell
        # matrices computed once (exact), not a quadrature assembly per staggered iteration
        self.cellwise = self._cell_sums() if isinstance(mesh, (MeshTri1, MeshTet1)) else None
        if p.split == "spectral" and self.cellwise is None:
            raise ParameterError("split = 'spectral' needs a triangle or tetrahedral mesh "
                                 "(a constant strain per cell)")
        self.linear = ReusedFactorization()
        # solves and seconds of each subproblem (assembly included), for the run's meta
        self.timings = {"displacement": np.zeros(2), "damage": np.zeros(2)}
        self.newton = None
        if p.scheme == "newton":
            if self.cellwise is None or p.irreversibility != "bounds":
                raise ParameterError(f"scheme = 'newton' needs irreversibility = 'bounds' "
                                     f"(the energy it minimizes) and a triangle or "
                                     f"tetrahedral mesh (got irreversibility = "
                                     f"'{p.irreversibility}' on {type(mesh).__name__})")
            self.newton = MonolithicNewton(self)
            self.timings["newton"] = np.zeros(2)

    # -- set-up -------------------------------------------------------------------------

    def _dirichlet(self):
        p, mesh, basis = self.parameters, self.mesh, self.u_basis
        dim = mesh.dim()
        fixed = []
        for name, kind in p.supports.items():
            on = basis.get_dofs(boundary(mesh, name))
            for c in support_components(kind, f"supports.{name}", dim=dim):
                fixed.append(on.nodal[f"u^{'xyz'.index(c) + 1}"])
        component = "xyz".index(p.direction)
        if component >= dim:
            raise ParameterError(f"direction = '{p.direction}': a {dim}D mesh has no such "
                                 f"component")
        on = basis.get_dofs(boundary(mesh, p.loaded))
        self.loaded = on.nodal[f"u^{component + 1}"]
        held = [on.nodal[f"u^{c + 1}"] for c in range(dim) if c != component]
        self.fixed = np.unique(np.concatenate(fixed + held + [self.loaded]))
        self.pulled = np.isin(self.fixed, self.loaded)

    def _initial_damage(self):
        band = self.parameters.initial_damage
        d = np.zeros(self.d_basis.N)
        if band is None:
            return d
        a, b = (np.asarray(band[k], dtype=np.float64) for k in ("from", "to"))
        x = self.d_basis.doflocs
        if a.shape != (self.mesh.dim(),) or b.shape != a.shape:
            raise ParameterError(f"initial_damage: from and to need {self.mesh.dim()} "
                                 f"coordinates")
        t = np.clip(((x - a[:, None]).T @ (b - a)) / max((b - a) @ (b - a), 1e-300), 0, 1)
        distance = np.linalg.norm(x - (a[:, None] + np.outer(b - a, t)), axis=0)
        d[distance <= 0.5 * float(band["width"])] = 1.0
        return d

    def _cell_sums(self):
        """The cell matrices of ``tr eps : tr eps``, ``eps : eps``, the mass and the
        Laplacian, as :class:`~fem_reg.fe.pattern.CellSum` operators (stiffness on all and
        on the free unknowns; damage), and each cell's load vector of ``int phi``."""
        scale = self.scale
        u, d = self.u_basis, self.d_basis
        volumetric = _cell_matrices(BilinearForm(
            lambda a, b, w: scale * trace(sym_grad(a)) * trace(sym_grad(b))), u)
        deviatoric = _cell_matrices(BilinearForm(
            lambda a, b, w: scale * ddot(sym_grad(a), sym_grad(b))), u)
        mass = _cell_matrices(BilinearForm(lambda a, b, w: a * b), d)
        laplacian = _cell_matrices(BilinearForm(lambda a, b, w: dot(grad(a), grad(b))), d)
        weights = u.quadrature[1]
        # each basis function's symmetric gradient per cell (the in-plane block in 2D) and
        # its coefficients on the unit strains, for the spectral split's tangent
        dim = self.mesh.dim()
        strains = np.zeros((u.Nbfun, dim, dim, self.mesh.nelements))
        for i in range(u.Nbfun):
            gradient = u.basis[i][0].grad[:, :, :, 0]                # (dim, dim, ncells)
            strains[i] = 0.5 * (gradient + gradient.transpose(1, 0, 2))
        pairs = split.components(dim)
        coefficients = np.stack([strains[:, i, j] for i, j in pairs], axis=1)
        return {"weights": weights / weights.sum(),
                "strains": strains, "coefficients": coefficients,
                "volumes": scale * u.dx.sum(axis=1),
                "K": CellSum(u.element_dofs, u.N, volumetric, deviatoric),
                "K_free": CellSum(u.element_dofs, u.N, volumetric, deviatoric, free=self.free),
                "A": CellSum(d.element_dofs, d.N, mass, laplacian), "mass": mass,
                "load": mass.sum(axis=1)}                    # (nb, ncells): int phi_i

    # -- the two minimizations -------------------------------------------------------------

    def _moduli(self, u, d):
        """``(a, b)`` at the quadrature points with ``sigma = a tr(eps) I + b eps``, the
        stress of the energy ``g(d) psi+ + psi-`` at ``u``: piecewise linear in ``eps`` (by
        the sign of ``tr eps`` for the volumetric-deviatoric split), so ``K(u) u`` is the
        internal force and ``K(u)`` the tangent."""
        lam, mu = self.material.lame
        g = self.field.degradation(self.d_basis.interpolate(d))
        if self.parameters.split == "none":
            return g * lam, 2.0 * g * mu
        bulk = lam + 2.0 * mu / 3.0
        tension = trace(sym_grad(self.u_basis.interpolate(u))) > 0.0
        return np.where(tension, g * bulk, bulk) - 2.0 * g * mu / 3.0, 2.0 * g * mu

    def _cell_strains(self, u):
        """The strain of each cell (constant on a P1 simplex), ``(ncells, dim, dim)``."""
        local = u[self.u_basis.element_dofs]                          # (nb, ncells)
        return np.einsum("ie,ijke->ejk", local, self.cellwise["strains"])

    def _cell_degradation(self, d):
        """``g(d)`` averaged over each cell (exact: the rest of the integrand is constant)."""
        g = self.field.degradation(self.d_basis.interpolate(d))
        return np.asarray(g) @ self.cellwise["weights"]

    def _spectral(self, u, d):
        """``(K, K_free, f)``: the tangent stiffness of the spectral split on all and on the
        free unknowns, and the internal force, at ``(u, d)``."""
        lam, mu = self.material.lame
        eps, g = self._cell_strains(u), self._cell_degradation(d)
        cells = self.cellwise
        G, volumes = cells["strains"], cells["volumes"]
        sigma = split.stress(eps, g, lam, mu)
        local_force = volumes * np.einsum("aije,eij->ae", G, sigma)
        f = np.bincount(self.u_basis.element_dofs.ravel(), local_force.ravel(),
                        minlength=self.u_basis.N)
        D = split.stress_derivatives(eps, g, lam, mu, self.mesh.dim())
        GD = np.einsum("aije,ekij->ake", G, D)
        K_cells = volumes * np.einsum("ake,bke->abe", GD, cells["coefficients"])
        K_cells = 0.5 * (K_cells + K_cells.transpose(1, 0, 2))       # round-off of the FD
        return cells["K"].assemble(K_cells), cells["K_free"].assemble(K_cells), f

    def _stiffness(self, u, d):
        """The degraded stiffness at ``(u, d)``: ``(K, K_free)``, on all unknowns and on the
        free ones (the tangent for the spectral split)."""
        if self.parameters.split == "spectral":
            return self._spectral(u, d)[:2]
        a, b = self._moduli(u, d)
        a = np.broadcast_to(a, b.shape)
        if self.cellwise is not None:
            weights = self.cellwise["weights"]
            a, b = a @ weights, b @ weights
            return self.cellwise["K"].matrix(a, b), self.cellwise["K_free"].matrix(a, b)
        scale = self.scale

        @BilinearForm
        def degraded(u, v, w):
            eps_u, eps_v = sym_grad(u), sym_grad(v)
            return scale * (w.a * trace(eps_u) * trace(eps_v) + w.b * ddot(eps_u, eps_v))

        K = degraded.assemble(self.u_basis, a=a, b=b)
        return K, K[self.free][:, self.free]

    def _energy_density(self, u):
        """``psi+``, the part of the undamaged energy density that damage degrades (all of
        it without a split), at the quadrature points."""
        lam, mu = self.material.lame
        if self.parameters.split == "spectral":     # one eigen decomposition per cell
            psi_plus = split.spectral_parts(self._cell_strains(u), lam, mu)[0]
            return np.broadcast_to(psi_plus[:, None], self.u_basis.dx.shape)
        eps = np.moveaxis(sym_grad(self.u_basis.interpolate(u)), (0, 1), (-2, -1))
        return split.energy_parts(eps, lam, mu, self.parameters.split)[0]

    def _displacement(self, d, prescribed, u0):
        """Equilibrium at damage ``d``: one solve without a split; with the
        volumetric-deviatoric split, solves until the cells' tension/compression pattern
        repeats (a semismooth Newton method on the piecewise linear stress)."""
        boundary_values = np.zeros(self.u_basis.N)
        boundary_values[self.fixed] = np.where(self.pulled, prescribed, 0.0)
        if self.parameters.split == "spectral":
            return self._newton(d, boundary_values, u0, prescribed)
        u, pattern = u0, None
        for _ in range(MAX_PATTERN_UPDATES):
            start = time.perf_counter()
            K, K_free = self._stiffness(u, d)
            rhs = -(K @ boundary_values)[self.free]
            u = boundary_values.copy()
            u[self.free] = self.linear.solve(K_free, rhs, x0=u0[self.free])
            self.timings["displacement"] += [1, time.perf_counter() - start]
            if self.parameters.split == "none":
                return u, K
            new = trace(sym_grad(self.u_basis.interpolate(u))) > 0.0
            if pattern is not None and (new == pattern).all():
                return u, K
            pattern = new
        raise SolverError(f"the tension/compression split did not settle in "
                          f"{MAX_PATTERN_UPDATES} solves at displacement {prescribed:g}")

    def _newton(self, d, boundary_values, u0, prescribed):
        """Equilibrium with the spectral split: Newton's method on the exact internal force
        from ``u0`` with the prescribed values, to a step below 1e-10 of ``u``."""
        u = u0.copy()
        u[self.fixed] = boundary_values[self.fixed]
        for _ in range(MAX_NEWTON):
            start = time.perf_counter()
            K, K_free, f = self._spectral(u, d)
            step = self.linear.solve(K_free, -f[self.free])
            u[self.free] += step
            self.timings["displacement"] += [1, time.perf_counter() - start]
            if np.abs(step).max() <= 1e-10 * max(np.abs(u).max(), 1e-300):
                return u, self._spectral(u, d)[0]
        raise SolverError(f"the spectral split's Newton iterations did not converge in "
                          f"{MAX_NEWTON} steps at displacement {prescribed:g}")

    def _damage(self, u, lower, guess, history=None):
        """The damage minimizing the energy at ``u`` over ``lower <= d <= 1``, driven by
        ``max(history, psi+(u))`` when a history field is given; the active set method
        starts from ``guess`` (the last iterate: its active set is nearly right)."""
        start = time.perf_counter()
        psi = self._energy_density(u)
        if history is not None:
            psi = np.maximum(psi, history)
        if self.cellwise is not None:
            A, b = self._damage_matrices(psi @ self.cellwise["weights"])
        else:
            A, b = self.field.damage_system(self.d_basis, psi)
        d, _ = minimize_bounded(A, b, lower, 1.0, x0=guess)
        self.timings["damage"] += [1, time.perf_counter() - start]
        return d

    def _damage_matrices(self, psi):
        """``(A, b)`` of the damage subproblem for the energy density ``psi`` of every cell
        (P1 simplices: cell sums)."""
        mass, spread, drive = self.field.damage_coefficients(psi)
        A = self.cellwise["A"].matrix(mass, np.full(mass.shape, spread))
        b = np.bincount(self.d_basis.element_dofs.ravel(),
                        (self.cellwise["load"] * drive).ravel(), minlength=self.d_basis.N)
        return A, b

    def step(self, prescribed, u, d_prev, limit=None, history=None):
        """Alternate minimization at one load: ``(u, d, K, iterations)``, or ``None`` when
        ``limit`` iterations did not converge (the step is to be cut). ``history``: the
        history field ``H`` of the last converged step (``irreversibility = "history"``):
        the damage is then bounded below by the initial damage only."""
        d = d_prev
        lower = d_prev if history is None else self.d0
        accelerated = Anderson(self.parameters.anderson)
        for iteration in range(1, self.parameters.max_iterations + 1):
            u, K = self._displacement(d, prescribed, u)
            new = self._damage(u, lower, d, history)
            if float(np.abs(new - d).max()) < self.parameters.tolerance:
                u, K = self._displacement(new, prescribed, u)
                return u, new, K, iteration
            if limit is not None and iteration >= limit:
                return None
            d = accelerated.next(d, new, lower, 1.0)
        return self._not_converged(prescribed)

    def _not_converged(self, prescribed):
        raise SolverError(f"{self.parameters.scheme} scheme: damage still changing after "
                          f"{self.parameters.max_iterations} iterations at displacement "
                          f"{prescribed:g} (raise max_iterations or take more steps)")

    def _increments(self):
        """The step ends ``k / steps * displacement``, and how many halvings each may take."""
        p = self.parameters
        return [(p.displacement * k / p.steps, p.max_cuts) for k in range(p.steps, 0, -1)]

    # -- the load history --------------------------------------------------------------

    @one_blas_thread
    def solve(self, progress=None, checkpoint=None, resume=False):
        """Run the load history; with a ``checkpoint`` path the state is written there
        every ``checkpoint_every`` steps, at the end and on Ctrl-C, and ``resume`` continues
        from it (a finished one rebuilds the result without solving)."""
        p = self.parameters
        start = time.perf_counter()
        if resume and checkpoint is None:
            raise ParameterError("resume needs a checkpoint path")
        state = self._load(checkpoint) if resume else self._initial_state()
        finished = not state.pending
        try:
            while state.pending:
                prescribed, halvings = state.pending[-1]
                limit = p.cut_after if halvings > 0 else None
                solved = self.step(prescribed, state.u, state.d, limit, state.driving) \
                    if self.newton is None else self.newton.step(prescribed, state.u,
                                                                 state.d, limit)
                if solved is None:                   # the crack runs: two half steps
                    with signals_held():
                        state.cut()
                    continue
                u, d, K, iterations = solved
                driving = state.driving if state.driving is None \
                    else np.maximum(state.driving, self._energy_density(u))
                force = float((K @ u)[self.loaded].sum())
                elastic, fracture = 0.5 * float(u @ (K @ u)), self._fracture_energy(d)
                keep = p.history_every and (len(state.rows) + 1) % p.history_every == 0
                with signals_held():                 # a checkpoint never sees half a step
                    state.accept(u, d, driving, force, elastic, fracture, iterations, keep)
                if progress is not None:
                    done = int(round(prescribed / p.displacement * p.steps))
                    progress(done, p.steps, f"u = {prescribed:.4g}  F = {force:.4g}  "
                                            f"{iterations} staggered")
                if checkpoint and (len(state.rows) % p.checkpoint_every == 0
                                   or not state.pending):
                    self._save(checkpoint, state, start)
        except KeyboardInterrupt:
            if checkpoint:
                self._save(checkpoint, state, start)
            raise
        result = self._result(state, state.seconds + time.perf_counter() - start)
        if resume and finished:
            result.meta["rebuilt_from_checkpoint"] = True
        return result

    def _initial_state(self):
        """The state before the first step: no displacement, the initial damage band
        relaxed to its optimal profile at zero load (that, not the band of nodes at
        ``d = 1``, is what the loading starts from and the dissipation is counted from)."""
        u = np.zeros(self.u_basis.N)
        # the history field H (the largest psi+ so far) of irreversibility = "history"
        driving = np.zeros_like(self._energy_density(u)) \
            if self.parameters.irreversibility == "history" else None
        d = self._damage(u, self.d0, self.d0, driving) \
            if self.d0.any() else self.d0.copy()
        return LoadState(u=u, d=d, driving=driving, initial=self._fracture_energy(d),
                         pending=self._increments())

    def fingerprint(self):
        """Identifies the case (parameters and mesh) a checkpoint belongs to."""
        return fingerprint(asdict(self.parameters), self.mesh, ignore=("checkpoint_every",))

    def _save(self, path, state, start):
        """Write ``state`` atomically with the solvers' statistics and the time spent."""
        state.counters = {"timings": {k: v.tolist() for k, v in self.timings.items()},
                          **({"newton": dict(self.newton.counts)} if self.newton else {})}
        arrays = state.arrays()
        arrays["scalars"][-1] += time.perf_counter() - start     # the seconds so far
        save_checkpoint(path, arrays, self.fingerprint(), CHECKPOINT_VERSION)

    def _load(self, path):
        """The state in a checkpoint, checked (:func:`~fem_reg.io.checkpoint.load_checkpoint`
        and the fields' sizes), with the solvers' statistics restored."""
        stored = load_checkpoint(path, self.fingerprint(), CHECKPOINT_VERSION)
        for name, size in (("u", self.u_basis.N), ("d", self.d_basis.N)):
            if stored[name].shape != (size,):
                raise wrong_size(path, f"'{name}'", stored[name].size, f"{size} unknowns")
        state = LoadState.from_arrays(stored)
        for name, values in state.counters.get("timings", {}).items():
            self.timings[name] = np.array(values)
        if self.newton is not None:
            self.newton.counts.update(state.counters.get("newton", {}))
        return state

    def _fracture_energy(self, d):
        """The fracture energy of ``d`` (times the thickness in 2D)."""
        return self.scale * self.field.fracture_energy(self.d_basis, d)

    def _fields(self, u, d):
        return Result(self.mesh, point_data={"displacement": u[self.u_basis.nodal_dofs].T,
                                             "damage": d})

    def _result(self, state, seconds):
        """The QoIs, series and fields of a finished ``state``; the dissipation excludes
        the fracture energy the loading started from (the relaxed initial band's)."""
        u, d, initial = state.u, state.d, state.initial
        table = np.array(state.rows)
        columns = ROW + ("energy_error",)
        # the energy balance of every step: |work - elastic - (fracture - initial)| / work
        balance = np.abs(table[:, 4] - table[:, 2] - table[:, 3] + initial) \
            / np.maximum(np.abs(table[:, 4]), 1e-300)
        table = np.column_stack((table, balance))
        elastic, fracture, work = table[-1, 2], table[-1, 3], table[-1, 4]
        qoi = {"peak_force": float(table[:, 1].max()), "final_force": float(table[-1, 1]),
               "fracture_energy": float(fracture),
               "dissipated_energy": float(fracture - initial),
               # the phase-field crack length functional (area in 3D): fracture energy / Gc
               "crack_length": float(fracture / (self.field.Gc * self.scale)),
               "elastic_energy": float(elastic), "external_work": float(work),
               "energy_error": float(abs(work - elastic - fracture + initial)
                                     / max(abs(work), 1e-300)),
               "steps": len(state.rows), "staggered_iterations": int(table[:, 5].sum())}
        resolution = profile_resolution(self.mesh, d, self.field.length)
        if resolution is not None and resolution > COARSE_PROFILE \
                and self.parameters.regularization == "gradient":
            log.warning("%s: the crack's elements are %.2g l across (median edge where the "
                        "damage changes); the profile needs about l/2 there: the peak and "
                        "the energies depend on the mesh (refine where the crack runs, e.g. "
                        "h_crack)", self.name, resolution)
        cells = self.mesh.nelements
        measure = Functional(lambda w: 1.0 + 0.0 * w.x[0]).assemble(self.d_basis)
        meta = {"problem": self.name, "parameters": asdict(self.parameters),
                "ndofs": int(self.u_basis.N + self.d_basis.N), "cells": int(cells),
                "h": float((measure / cells) ** (1.0 / self.mesh.dim())),
                "step_cuts": state.cuts, "seconds": seconds, "crack_h_over_l": resolution,
                **({"newton": dict(self.newton.counts)} if self.newton else {}),
                "solves": {name: {"count": int(n), "seconds": float(t)}
                           for name, (n, t) in self.timings.items()}}
        last = self._fields(u, d)
        return Result(self.mesh, point_data=last.point_data, qoi=qoi, meta=meta,
                      history=[(at, self._fields(u_at, d_at))
                               for at, u_at, d_at in state.snapshots],
                      series={"load": {name: table[:, k].tolist()
                                       for k, name in enumerate(columns)}})


def _cell_matrices(form, basis):
    """``A[i, j, e]``: the cell matrices of a bilinear form on ``basis``."""
    nb, ncells = basis.element_dofs.shape
    return np.ascontiguousarray(np.transpose(
        form.elemental(basis).data.reshape(nb, nb, ncells), (1, 0, 2)))
