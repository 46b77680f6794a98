"""Minimum-compliance topology optimization: the ``topopt`` problem.

``min_x  sum_k w_k f_k . u_k``  s.t.  ``K(rho) u_k = f_k``,  ``V(rho) <= V* |Omega|``,
``0 <= x <= 1``, with the chain design ``x`` -> filtered ``rho_f`` (Helmholtz PDE filter or
the classic cone filter) -> projected ``rho`` (tanh Heaviside, optional, with continuation
on ``beta``) -> modified SIMP ``E = Emin + rho^p (E0 - Emin)`` (Andreassen et al. 2011).
Passive subdomains are held solid or void. The volume is that of the projected (physical)
density over the whole domain.

Every derivative in the chain is exact and applied in reverse (adjoint) order; the
compliance is self-adjoint, ``dc/drho_e = -p rho_e^(p-1) (E0 - Emin)/E0 u_e^T K_e u_e``.
"""

import time
from dataclasses import asdict, dataclass, field

import numpy as np
from skfem import FacetBasis
from skfem.assembly import Dofs

from ..atomic import signals_held
from ..checks import (flag, integer, mapping, number, one_of, parameters, point_items,
                      positive, vector)
from ..errors import CheckpointError, ParameterError
from ..problem import Problem
from ..fe import (KINDS, Material, check_supports, dofs_rigid_body_modes, lagrange, load_form,
                  support_components)
from ..fe.multigrid import COARSEST_NODES_LIMIT, BoxGrid, Multigrid, NestedMultigrid
from ..io import Result
from ..io.checkpoint import fingerprint, load_checkpoint, save_checkpoint, wrong_size
from ..mesh import boundary, coarser_meshes, subdomain, vertex_at
from .filters import DensityFilter, HelmholtzFilter, cell_volumes, heaviside, helmholtz_radius
from .optimizers import MMA, oc_update
from .stiffness import METHODS, SimpStiffness, StiffnessSolver

FILTERS = ("helmholtz", "density", "sensitivity", "none")
OPTIMIZERS = ("oc", "mma")
PASSIVE = ("solid", "void")
SOLVERS = METHODS
LOAD_KEYS = ("traction", "point_loads", "weight")
CHECKPOINT_VERSION = 3     # 2: the last analysed design is kept (outputs can be rebuilt)
                           # 3: the penalty continuation's state


def _force(name, value):
    return vector(name, value, (2, 3))


def _components(name, value):
    if not isinstance(value, str) or not value or set(value) - set("xyz") \
            or len(set(value)) != len(value):
        raise ParameterError(f"{name} must name the fixed components, e.g. \"y\" or \"xy\", "
                             f"got {value!r}")


@dataclass(frozen=True)
class TopOptParameters:
    """Parameters of :class:`TopOpt`.

    E, nu, kind, thickness
        Solid material; ``kind`` ``"auto"`` is plane stress in 2D and ``"3d"`` in 3D.
    order
        Polynomial order of the displacement (1: P1/Q1, 2: P2/Q2). The design stays one
        value per cell. Order 2 removes most of the discretization error of the state (P1
        triangles are too stiff in bending) at about three times the unknowns.
    Emin
        Young's modulus of void (``0 < Emin < E``), 1e-9 E in the 88-line code.
    penalty
        SIMP exponent ``p``.
    penalty_start, penalty_step, penalty_every
        Penalty continuation (off unless ``penalty_start`` is given): start at
        ``penalty_start`` (1 makes the first problem convex, so every mesh starts on the same
        path), raise by ``penalty_step`` every ``penalty_every`` iterations or when the design
        settles, up to ``penalty``; then the projection's continuation, if any.
    volume_fraction
        Allowed material volume over the domain's volume.
    filter
        ``"helmholtz"`` (PDE filter, any mesh), ``"density"`` (classic cone filter),
        ``"sensitivity"`` (Sigmund's heuristic; OC without projection only) or ``"none"``.
    filter_radius
        Classic (cone) radius ``R`` in length units; the Helmholtz filter uses
        ``r = R / (2 sqrt 3)``. Fixed in physical length, so designs converge under refinement.
    projection, beta, beta_max, beta_every, eta
        Heaviside projection: start at ``beta``, double every ``beta_every`` iterations (or
        when the design settles) up to ``beta_max``; threshold ``eta``.
    optimizer, move
        ``"oc"`` or ``"mma"``, and the move limit per iteration.
    max_iterations, tolerance
        Stop when the largest design change is below ``tolerance`` (at ``penalty`` and
        ``beta_max``).
    supports
        ``{boundary: clamped | pinned | fixed_x | fixed_y | fixed_z}``
        (:mod:`fem_reg.fe.supports`).
    point_supports
        ``[{at = [x, y], fixed = "y"}, ...]`` at mesh vertices.
    loads
        Load cases ``{name: {traction = {boundary: [fx, fy]}, point_loads = [{at, force}],
        weight = 1.0}}``; the objective is the weighted sum of compliances.
    traction, point_loads
        Shorthand for a single load case (named ``load``).
    passive
        ``{subdomain: "solid" | "void"}``.
    solver
        ``"auto"``, ``"direct"``, ``"multigrid"`` or ``"amg"`` (the last two CG, warm-started;
        see :class:`~fem_reg.topopt.stiffness.StiffnessSolver`).
    history_every
        Keep the densities of every n-th iteration for the PVD history (0: none).
    checkpoint_every
        Write the checkpoint every n iterations (and on Ctrl-C).
    """

    E: float = 1.0
    nu: float = 0.3
    kind: str = "auto"
    thickness: float = 1.0
    order: int = 1
    Emin: float = 1e-9
    penalty: float = 3.0
    penalty_start: float | None = None
    penalty_step: float = 0.5
    penalty_every: int = 50
    volume_fraction: float = 0.5
    filter: str = "helmholtz"
    filter_radius: float = 1.5
    projection: bool = False
    beta: float = 1.0
    beta_max: float = 16.0
    beta_every: int = 50
    eta: float = 0.5
    optimizer: str = "oc"
    move: float = 0.2
    max_iterations: int = 200
    tolerance: float = 0.01
    supports: dict = field(default_factory=dict)
    point_supports: list = field(default_factory=list)
    loads: dict = field(default_factory=dict)
    traction: dict = field(default_factory=dict)
    point_loads: list = field(default_factory=list)
    passive: dict = field(default_factory=dict)
    solver: str = "auto"
    history_every: int = 10
    checkpoint_every: int = 10

    def __post_init__(self):
        one_of("kind", self.kind, ("auto",) + KINDS)
        Material(self.E, self.nu, "3d" if self.kind == "auto" else self.kind, self.thickness)
        integer("order", self.order, low=1, high=2)
        number("Emin", self.Emin, low=0.0, low_open=True, high=self.E, high_open=True)
        number("penalty", self.penalty, low=1.0)
        if self.penalty_start is not None:
            number("penalty_start", self.penalty_start, low=1.0, high=self.penalty)
        positive("penalty_step", self.penalty_step)
        integer("penalty_every", self.penalty_every, low=1)
        number("volume_fraction", self.volume_fraction, low=0.0, low_open=True, high=1.0)
        one_of("filter", self.filter, FILTERS)
        positive("filter_radius", self.filter_radius)
        flag("projection", self.projection)
        positive("beta", self.beta)
        number("beta_max", self.beta_max, low=self.beta)
        integer("beta_every", self.beta_every, low=1)
        number("eta", self.eta, low=0.0, low_open=True, high=1.0, high_open=True)
        one_of("optimizer", self.optimizer, OPTIMIZERS)
        if self.filter == "sensitivity" and (self.optimizer != "oc" or self.projection):
            raise ParameterError("filter = \"sensitivity\" is a heuristic for OC without "
                                 "projection; use filter = \"helmholtz\" or \"density\"")
        number("move", self.move, low=0.0, low_open=True, high=1.0)
        integer("max_iterations", self.max_iterations, low=1)
        positive("tolerance", self.tolerance)
        check_supports(mapping("supports", self.supports))
        point_items("point_supports", self.point_supports, "fixed", _components, dim=(2, 3))
        if self.loads and (self.traction or self.point_loads):
            raise ParameterError("give either loads (load cases) or traction/point_loads "
                                 "(one case), not both")
        for case, spec in self.load_cases().items():
            mapping(f"loads.{case}", spec)
            for key in spec:
                if key not in LOAD_KEYS:
                    raise ParameterError(f"unknown key '{key}' in loads.{case}; allowed: "
                                         f"{', '.join(LOAD_KEYS)}")
            for name, value in mapping(f"loads.{case}.traction",
                                       spec.get("traction", {})).items():
                _force(f"loads.{case}.traction.{name}", value)
            point_items(f"loads.{case}.point_loads", spec.get("point_loads", []), "force",
                        _force, dim=(2, 3))
            positive(f"loads.{case}.weight", spec.get("weight", 1.0))
            if not spec.get("traction") and not spec.get("point_loads"):
                raise ParameterError(f"load case '{case}' has no traction and no point_loads")
        if not self.load_cases():
            raise ParameterError("no loads: give traction, point_loads or loads")
        for name, kind in mapping("passive", self.passive).items():
            one_of(f"passive.{name}", kind, PASSIVE)
        one_of("solver", self.solver, SOLVERS)
        integer("history_every", self.history_every, low=0)
        integer("checkpoint_every", self.checkpoint_every, low=1)

    def load_cases(self):
        """``{name: spec}`` of the load cases (the shorthand as one case ``load``)."""
        if self.loads:
            return dict(self.loads)
        if self.traction or self.point_loads:
            return {"load": {"traction": self.traction, "point_loads": self.point_loads}}
        return {}


@dataclass
class DesignState:
    """Where an optimization stands after an iteration: what a checkpoint holds.

    ``x`` is the design to analyse next; ``x_analysed``, ``beta_analysed`` and
    ``penalty_analysed`` the last analysed one (the result's); ``beta``, ``penalty`` and
    ``since`` (the iteration of the last continuation step) where the continuation stands; ``scale`` the first compliance (MMA's normalization);
    ``history`` one row of ``HISTORY`` per iteration; ``snapshots`` the (design, filtered,
    projected) densities kept for the PVD at ``snapshot_iterations``; ``mma`` MMA's arrays.
    """
    iteration: int
    x: np.ndarray
    x_analysed: np.ndarray
    beta_analysed: float
    beta: float
    penalty_analysed: float
    penalty: float
    since: int = 0
    scale: float = 0.0
    converged: bool = False
    U: np.ndarray | None = None
    history: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)
    snapshot_iterations: list = field(default_factory=list)
    mma: dict = field(default_factory=dict)

    def advance(self, row, new, active, U, scale, continuation, converged, snapshot, mma):
        """Record an analysed iteration and move to the updated design; ``continuation``
        is the next ``(beta, penalty, since)``."""
        if snapshot is not None:
            self.snapshots.append(snapshot)
            self.snapshot_iterations.append(row[0])
        self.history.append(row)
        self.x_analysed = self.x.copy()
        self.beta_analysed, self.penalty_analysed = self.beta, self.penalty
        self.x = self.x.copy()
        self.x[active] = new
        self.iteration, self.U, self.scale = row[0], U, scale
        (self.beta, self.penalty, self.since), self.converged = continuation, converged
        self.mma = {k: np.copy(v) for k, v in mma.items()}

    def arrays(self, ncells):
        """The state as named arrays (``numpy.savez``)."""
        n, m = len(self.history), len(self.snapshots)
        return {"iteration": self.iteration, "x": self.x, "x_analysed": self.x_analysed,
                "beta_analysed": self.beta_analysed, "beta": self.beta,
                "penalty_analysed": self.penalty_analysed, "penalty": self.penalty,
                "since": self.since, "scale": self.scale,
                "converged": self.converged,
                "U": np.zeros(0) if self.U is None else self.U,
                "history": np.array(self.history).reshape(n, len(HISTORY)),
                "snapshots": np.array(self.snapshots).reshape(m, 3, ncells),
                "snapshot_iterations": np.array(self.snapshot_iterations, dtype=np.int64),
                **self.mma}

    @classmethod
    def from_arrays(cls, stored, load_shape):
        """The state of :meth:`arrays` read back (``U`` reshaped to the load cases)."""
        return cls(iteration=int(stored["iteration"]), x=stored["x"].copy(),
                   x_analysed=stored["x_analysed"].copy(),
                   beta_analysed=float(stored["beta_analysed"]), beta=float(stored["beta"]),
                   penalty_analysed=float(stored["penalty_analysed"]),
                   penalty=float(stored["penalty"]), since=int(stored["since"]),
                   scale=float(stored["scale"]),
                   converged=bool(stored["converged"]),
                   U=stored["U"].reshape(load_shape) if stored["U"].size else None,
                   history=[tuple(row) for row in stored["history"]],
                   snapshots=list(stored["snapshots"]),
                   snapshot_iterations=[int(k) for k in stored["snapshot_iterations"]],
                   mma={k: v for k, v in stored.items() if k.startswith("mma_")})


class TopOpt(Problem):
    """Minimum-compliance SIMP topology optimization with density filtering and projection.

    ``solve(progress=None, checkpoint=None, resume=False)`` runs the optimization; with a
    ``checkpoint`` path the state is written every ``checkpoint_every`` iterations and on
    Ctrl-C, and ``resume=True`` continues from it with the same result as an uninterrupted
    run.
    """

    name = "topopt"
    Parameters = TopOptParameters
    QOI = ("compliance", "volume_fraction", "grayness", "iterations")
    iterative = True

    def __init__(self, mesh, **values):
        self.mesh = mesh
        self.parameters = p = parameters(self.Parameters, values, self.name)
        dim = mesh.dim()
        kind = p.kind if p.kind != "auto" else ("plane_stress" if dim == 2 else "3d")
        if (kind == "3d") != (dim == 3):
            raise ParameterError(f"kind = '{kind}' does not fit a {dim}D mesh")
        self.material = Material(p.E, p.nu, kind, p.thickness)
        self.dofs = Dofs(mesh, lagrange(mesh, p.order, vector=True))
        self.stiffness = SimpStiffness(mesh, self.material, self._fixed(), dofs=self.dofs)
        self.volumes = cell_volumes(mesh)
        self.loads, self.weights = self._loads()
        self.solid, self.void = self._passive()
        self.active = ~(self.solid | self.void)
        if not self.active.any():
            raise ParameterError("every cell is passive: nothing to optimize")
        total = self.volumes.sum()
        solid = self.volumes[self.solid].sum() / total
        if solid >= p.volume_fraction:
            raise ParameterError(f"the passive solid regions already fill {solid:.3f} of the "
                                 f"domain, volume_fraction = {p.volume_fraction:g} leaves "
                                 f"nothing to distribute")
        # the uniform start that meets the volume constraint exactly
        self.start = min(1.0, (p.volume_fraction - solid) * total
                         / self.volumes[self.active].sum())
        if p.filter == "helmholtz":
            self.filter = HelmholtzFilter(mesh, helmholtz_radius(p.filter_radius))
        elif p.filter in ("density", "sensitivity"):
            self.filter = DensityFilter(mesh, p.filter_radius)
        else:
            self.filter = None
        modes, _ = dofs_rigid_body_modes(mesh, self.dofs)
        self.solver = StiffnessSolver(self.stiffness.nfree, p.solver,
                                      near_null_space=modes[self.stiffness.free], dim=dim,
                                      multigrid=self._multigrid())

    extra_fields = 0                  # the displacement only (the density is per cell)

    @classmethod
    def solved_iteratively(cls, values, mesh, refinements=0):
        """CG with AMG or multigrid: asked for, or chosen by ``auto`` with P1 displacement
        on a structured mesh of quadrilaterals or hexahedra or on a uniformly refined mesh
        (geometric multigrid)."""
        solver = values.get("solver", "auto")
        grid = bool(mesh.get("structured")) and mesh.get("cell_type") in ("quad", "hexahedron")
        return solver in ("multigrid", "amg") or (
            solver == "auto" and values.get("order", 1) == 1 and (grid or refinements > 0))

    # -- set-up -------------------------------------------------------------------------

    def _multigrid(self):
        """A function building the geometric multigrid: on a grid of equal boxes that halves
        down to a small coarse grid, or on a mesh made by uniform refinement (its coarser
        meshes give the levels); ``None`` otherwise (or when the displacement is not P1)."""
        if self.parameters.order != 1:
            return None
        grid = BoxGrid.of(self.mesh)
        if grid is not None and grid.levels() > 0 and self.stiffness.uniform and \
                grid.coarsest_nodes() <= COARSEST_NODES_LIMIT:
            return lambda **options: Multigrid(grid, self.stiffness.ke[:, :, 0],
                                               self.dofs.nodal_dofs, self.stiffness.free,
                                               **options)
        coarser = coarser_meshes(self.mesh)
        if coarser and coarser[0].nvertices <= COARSEST_NODES_LIMIT:
            return lambda **options: NestedMultigrid(list(coarser) + [self.mesh],
                                                     self.dofs.nodal_dofs, self.stiffness.free)
        return None

    def _fixed(self):
        p, mesh, nodal = self.parameters, self.mesh, self.dofs.nodal_dofs
        dim = mesh.dim()
        fixed = []

        def components(letters, where):
            for letter in letters:
                if "xyz".index(letter) >= dim:
                    raise ParameterError(f"{where}: a {dim}D mesh has no {letter} component")
                yield "xyz".index(letter)

        for name, kind in p.supports.items():
            on = self.dofs.get_facet_dofs(boundary(mesh, name))
            for c in support_components(kind, f"supports.{name}", dim=dim):
                fixed.append(on.all(f"u^{'xyz'.index(c) + 1}"))
        for k, item in enumerate(p.point_supports):
            node = vertex_at(mesh, item["at"], f"point_supports[{k}]")
            for c in components(item["fixed"], f"point_supports[{k}]"):
                fixed.append(nodal[c, [node]])
        if not fixed:
            raise ParameterError("no supports: give supports or point_supports")
        return np.concatenate(fixed)

    def _loads(self):
        p, mesh, stiffness = self.parameters, self.mesh, self.stiffness
        dim = mesh.dim()
        cases = p.load_cases()
        F = np.zeros((stiffness.ndofs, len(cases)))
        thickness = self.material.thickness if dim == 2 else 1.0
        for j, (case, spec) in enumerate(cases.items()):
            for name, traction in spec.get("traction", {}).items():
                traction = _force(f"loads.{case}.traction.{name}", traction)
                if traction.size != dim:
                    raise ParameterError(f"loads.{case}.traction.{name}: {traction.size} "
                                         f"components on a {dim}D mesh")
                edge = FacetBasis(mesh, stiffness.element, facets=boundary(mesh, name))
                F[:, j] += load_form(traction, thickness).assemble(edge)
            for k, item in enumerate(spec.get("point_loads", [])):
                where = f"loads.{case}.point_loads[{k}]"
                force = _force(where, item["force"])
                if force.size != dim:
                    raise ParameterError(f"{where}: {force.size} components on a {dim}D mesh")
                F[self.dofs.nodal_dofs[:, vertex_at(mesh, item["at"], where)], j] += force
        free = F[stiffness.free]
        for j, case in enumerate(cases):
            if not np.any(free[:, j]):
                raise ParameterError(f"load case '{case}' acts only on supported nodes")
        weights = np.array([float(spec.get("weight", 1.0)) for spec in cases.values()])
        return free, weights

    def _passive(self):
        n = self.mesh.nelements
        masks = {kind: np.zeros(n, dtype=bool) for kind in PASSIVE}
        for name, kind in self.parameters.passive.items():
            masks[kind][subdomain(self.mesh, name)] = True
        both = masks["solid"] & masks["void"]
        if both.any():
            raise ParameterError(f"cells {np.flatnonzero(both)[:5].tolist()} are both solid "
                                 f"and void")
        return masks["solid"], masks["void"]

    # -- the chain x -> rho_f -> rho -> E ------------------------------------------------

    def densities(self, x, beta):
        """``(rho_f, rho, drho/drho_f)`` for the design ``x``."""
        p = self.parameters
        rho_f = self.filter(x) if self.filter is not None and p.filter != "sensitivity" else x
        if p.projection:
            rho, slope = heaviside(rho_f, beta, p.eta)
        else:
            rho, slope = rho_f.copy(), np.ones_like(rho_f)
        rho[self.solid], rho[self.void] = 1.0, 0.0
        slope[~self.active] = 0.0
        return rho_f, rho, slope

    def evaluate(self, x, beta=None, U0=None, penalty=None):
        """Compliance, volume fraction and their gradients with respect to ``x`` (at the
        final ``beta`` and ``penalty`` unless given).

        Returns ``dict(compliance, volume, dc, dv, U, rho_f, rho)``; ``dc`` is the filtered
        sensitivity when ``filter = "sensitivity"``.
        """
        p = self.parameters
        beta = p.beta if beta is None else beta
        penalty = p.penalty if penalty is None else penalty
        rho_f, rho, slope = self.densities(x, beta)
        contrast = 1.0 - p.Emin / p.E
        # the Helmholtz filter can undershoot 0 slightly (its discrete maximum principle
        # fails on distorted or coarse meshes): below 0 the stiffness is void's, so that a
        # non-integer penalty has a real power and no cell is softer than void
        solid = np.maximum(rho, 0.0)
        scale = p.Emin / p.E + contrast * solid ** penalty
        K = None if self.solver.matrix_free else self.stiffness.matrix(scale)
        U = self.solver.solve(K, self.loads, U0, scale)
        compliance = float(np.sum(self.weights * np.einsum("ij,ij->j", self.loads, U)))
        energy = np.zeros(self.mesh.nelements)
        for j, w in enumerate(self.weights):
            energy += w * self.stiffness.energies(self.stiffness.expand(U[:, j]))
        dc_drho = np.where(rho > 0.0, -penalty * contrast * solid ** (penalty - 1.0) * energy,
                           0.0)
        total = self.volumes.sum()
        volume = float(self.volumes @ rho / total)
        dv_drho = self.volumes / total
        if p.filter == "sensitivity":
            dc = self.filter.sensitivities(x, dc_drho)
            dv = dv_drho.copy()
        elif self.filter is not None:
            dc, dv = self.filter.adjoint(slope * dc_drho), self.filter.adjoint(slope * dv_drho)
        else:
            dc, dv = slope * dc_drho, slope * dv_drho
        return {"compliance": compliance, "volume": volume, "dc": dc, "dv": dv, "U": U,
                "rho_f": rho_f, "rho": rho}

    # -- the optimization loop -----------------------------------------------------------

    def fingerprint(self):
        """Identifies the case (parameters and mesh) a checkpoint belongs to."""
        return fingerprint(asdict(self.parameters), self.mesh,
                           ignore=("max_iterations", "history_every", "checkpoint_every"))

    def _initial_state(self):
        p = self.parameters
        x = np.full(self.mesh.nelements, self.start)
        x[self.solid], x[self.void] = 1.0, 0.0
        penalty = p.penalty if p.penalty_start is None else p.penalty_start
        return DesignState(iteration=0, x=x, x_analysed=x.copy(), beta_analysed=p.beta,
                           beta=p.beta, penalty_analysed=penalty, penalty=penalty)

    def _save(self, path, state):
        """Write ``state`` atomically, with what identifies the case."""
        save_checkpoint(path, state.arrays(self.mesh.nelements), self.fingerprint(),
                        CHECKPOINT_VERSION)

    def _load(self, path, mma):
        """The state in a checkpoint, checked (:func:`~fem_reg.io.checkpoint.load_checkpoint`
        and the design's size)."""
        stored = load_checkpoint(path, self.fingerprint(), CHECKPOINT_VERSION)
        if stored["x"].shape != (self.mesh.nelements,):
            raise wrong_size(path, "the design", stored["x"].size,
                             f"{self.mesh.nelements} cells")
        if mma is not None and not bool(stored["converged"]):
            mma.restore(stored)
        return DesignState.from_arrays(stored, self.loads.shape)

    def _step(self, x, last, beta, mma, scale):
        """The optimizer's new values of the active design variables: OC (with the exact
        projected volume when projecting) or MMA (compliance scaled by its first value)."""
        p, active = self.parameters, self.active
        if mma is None:
            return oc_update(x[active], last["dc"][active], last["dv"][active],
                             last["volume"] - p.volume_fraction, p.move,
                             excess_of=self._volume_excess(x, beta) if p.projection else None)
        return mma.update(x[active], last["compliance"] / scale, last["dc"][active] / scale,
                          np.array([last["volume"] / p.volume_fraction - 1.0]),
                          last["dv"][active][None, :] / p.volume_fraction)

    def solve(self, progress=None, checkpoint=None, resume=False):
        """Optimize; returns the :class:`~fem_reg.io.Result` of the last analysed design."""
        start = time.perf_counter()
        p = self.parameters
        if resume and checkpoint is None:
            raise ParameterError("resume needs a checkpoint path")
        mma = MMA(int(self.active.sum()), 1, 0.0, 1.0, move=p.move) if p.optimizer == "mma" \
            else None
        state = self._load(checkpoint, mma) if resume else self._initial_state()
        if self.solver.method == "amg":
            self.solver.setup(self.stiffness.matrix(np.ones(self.mesh.nelements)))
        if resume and (state.converged or state.iteration >= p.max_iterations) \
                and state.history:
            # the run had finished (its outputs may be lost): rebuild its result from the
            # last analysed design without optimizing again
            last = self.evaluate(state.x_analysed, state.beta_analysed, state.U,
                                 state.penalty_analysed)
            result = self._result(state, last, time.perf_counter() - start)
            result.meta["rebuilt_from_checkpoint"] = True
            return result
        last = None
        try:
            while state.iteration < p.max_iterations and not state.converged:
                tick = time.perf_counter()
                last = self.evaluate(state.x, state.beta, state.U, state.penalty)
                scale = state.scale or last["compliance"]
                new = self._step(state.x, last, state.beta, mma, scale)
                change = float(np.abs(new - state.x[self.active]).max())
                it = state.iteration + 1
                continuation = self._continuation(state, it, change)
                converged = continuation is None and change < p.tolerance
                if continuation is None:
                    continuation = (state.beta, state.penalty, state.since)
                elif mma is not None:
                    mma.reset()
                row = (it, last["compliance"], last["volume"], change, state.beta,
                       state.penalty, self._grayness(last["rho"]), self.solver.iterations,
                       time.perf_counter() - tick)
                snapshot = np.stack([state.x, last["rho_f"], last["rho"]]) \
                    if p.history_every and (it == 1 or it % p.history_every == 0) else None
                with signals_held():              # a checkpoint never sees half an update
                    state.advance(row, new, self.active, last["U"], scale, continuation,
                                  converged, snapshot,
                                  mma.state() if mma is not None else {})
                if progress is not None:
                    progress(it, p.max_iterations,
                             f"c {last['compliance']:.5g}  V {last['volume']:.3f}  "
                             f"change {change:.3f}" + (f"  beta {row[4]:g}" if p.projection
                                                       else "")
                             + (f"  p {row[5]:g}" if p.penalty_start is not None else "")
                             + f"  {self._solver_text()}")
                if checkpoint and (it % p.checkpoint_every == 0 or converged
                                   or it == p.max_iterations):
                    self._save(checkpoint, state)
        except KeyboardInterrupt:
            if checkpoint:
                self._save(checkpoint, state)
            raise
        if last is None:
            raise CheckpointError(f"the checkpoint is already at iteration {state.iteration} = "
                                 f"max_iterations; raise max_iterations to continue")
        return self._result(state, last, time.perf_counter() - start)

    def _continuation(self, state, it, change):
        """The next ``(beta, penalty, since)`` if the continuation takes a step after
        iteration ``it`` (the period is over, or the design has settled), else None. The
        penalty rises first, then beta doubles."""
        p = self.parameters
        settled = change < p.tolerance
        if state.penalty < p.penalty:
            if settled or it - state.since >= p.penalty_every:
                return state.beta, min(state.penalty + p.penalty_step, p.penalty), it
        elif p.projection and state.beta < p.beta_max:
            if settled or it - state.since >= p.beta_every:
                return min(2.0 * state.beta, p.beta_max), state.penalty, it
        return None

    def _solver_text(self):
        """The solver for the progress line: ``direct``, ``multigrid-CG 11`` (iterations)."""
        method = self.solver.method
        return method if method == "direct" else f"{method}-CG {self.solver.iterations}"

    def _volume_excess(self, x, beta):
        """``x_active -> V(rho(x)) - V*``: the exact volume of the projected design, for OC's
        bisection (the linearized volume lets OC oscillate at large beta)."""
        trial = x.copy()
        total = self.volumes.sum()

        def excess(x_active):
            trial[self.active] = x_active
            return self.volumes @ self.densities(trial, beta)[1] / total \
                - self.parameters.volume_fraction
        return excess

    def _grayness(self, rho):
        """Volume-weighted mean of ``4 rho (1 - rho)``: 0 for a black-and-white design."""
        return float(self.volumes @ (4.0 * rho * (1.0 - rho)) / self.volumes.sum())

    def _result(self, state, last, seconds):
        """The Result of the last analysed design, its history and convergence table."""
        mesh, p = self.mesh, self.parameters
        x, history = state.x_analysed, state.history
        reason = "converged" if state.converged else "max_iterations"
        cell_data = {"design": x, "filtered_density": last["rho_f"], "density": last["rho"]}
        point_data = {}
        for j, case in enumerate(p.load_cases()):
            u = self.stiffness.expand(last["U"][:, j])
            name = "displacement" if j == 0 else f"displacement_{case}"
            point_data[name] = u[self.dofs.nodal_dofs].T
        steps = [(float(k), Result(mesh, cell_data={"design": s[0], "filtered_density": s[1],
                                                    "density": s[2]}))
                 for k, s in zip(state.snapshot_iterations, state.snapshots)]
        table = np.array(history)
        qoi = {"compliance": last["compliance"], "volume_fraction": last["volume"],
               "grayness": history[-1][HISTORY.index("grayness")],
               "iterations": len(history)}
        meta = {"problem": self.name, "parameters": asdict(p), "stop": reason,
                "iterations": len(history), "final_beta": state.beta,
                "final_penalty": state.penalty,
                "ndofs": int(self.stiffness.ndofs), "cells": int(mesh.nelements),
                "h": float((self.volumes.mean()) ** (1.0 / mesh.dim())),
                "solver": self.solver.method, "seconds": seconds,
                "seconds_per_iteration": float(table[:, -1].mean()) if len(table) else 0.0}
        series = {"convergence": {name: table[:, k].tolist() for k, name in
                                  enumerate(HISTORY)}}
        return Result(mesh, point_data=point_data, cell_data=cell_data, qoi=qoi, meta=meta,
                      history=steps, series=series)


HISTORY = ("iteration", "compliance", "volume_fraction", "change", "beta", "penalty",
           "grayness", "cg_iterations", "seconds")
