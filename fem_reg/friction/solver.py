"""The discrete slip problem and its semismooth Newton solver, shared by the 1D bar and the
2D body.

Unknowns: displacements ``u`` (full vector, some entries prescribed) and the plastic slip
``s`` at the interface nodes. With interface weights ``m`` (nodal lengths, lumped) and the
interface gradient matrix ``G`` (``s^T G s = int (ds/dt)^2``) the stored energy is

    E(u, s) = 1/2 u^T K u + k_t/2 sum_i m_i (u_t,i - s_i)^2 + gamma/2 s^T G s,

``u_t = B u`` the tangential displacement at the interface nodes. The force conjugate to the
slip, per unit interface length, is ``q = k_t (u_t - s) - gamma M^-1 G s``; the flow rule in a
load increment (backward Euler, ``ds = s - s_n``) is the nodal complementarity

    |q_i| <= tau_i,   ds_i (q_i - tau_i sign ds_i) = 0,   tau_i = mu(kappa_n,i + |ds_i|) p_i,

written as ``Phi_i = 0`` with ``Phi_i = c ds_i`` where ``|q_i + c ds_i| <= tau_i`` (stick) and
``Phi_i = q_i - sigma_i tau_i``, ``sigma_i = sign(q_i + c ds_i)``, elsewhere (slip)
(Hueber, Stadler & Wohlmuth 2008). Newton on ``(u_free, s)`` with this active-set switch is
semismooth Newton (a primal-dual active-set method). ``c`` (traction per length) is the
bulk's tangential stiffness per unit interface length, capped at ``k_t``. The normal
pressure ``p`` is prescribed, or the normal reaction of the interface constraint divided by
``m`` (then ``tau`` depends on ``u`` and the tangent is unsymmetric).

Energy (per converged increment, trapezoidal rule on the linear path between the states,
exact for the quadratic ``E``): work of the external forces (applied loads and reactions)
``= Delta E + sum m q . ds`` up to the equilibrium residual.

The bulk is linear, so Newton iterates on the DOFs the interface law and the prescribed values
touch: the rest is condensed out once per mesh (:class:`fem_reg.fe.static_condensation.StaticCondensation`,
exact), and every converged state is lifted back to the full displacement.
"""

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from ..errors import SolverError
from ..fe.static_condensation import StaticCondensation

STAGNATION = 8      # Newton iterations without a better residual before giving up


@dataclass(frozen=True)
class State:
    """A converged (or initial) state of the slip problem."""

    u: np.ndarray          # displacements, full vector
    s: np.ndarray          # plastic slip at the interface nodes
    kappa: np.ndarray      # accumulated plastic slip
    q: np.ndarray          # force conjugate to the slip, per unit length
    pressure: np.ndarray   # normal pressure at the interface nodes
    external: np.ndarray   # external forces: loads, and reactions at the fixed DOFs
    work: float = 0.0
    dissipation: float = 0.0


@dataclass
class StepInfo:
    iterations: int
    residual: float
    slipping: int
    relaxation: int = 0    # viscous substeps of a jump (see SlipSolver.relax)


class StepFailed(SolverError):
    """Newton did not converge in a load increment."""


class SlipSolver:
    """The algebraic slip problem.

    Parameters
    ----------
    K
        Bulk stiffness over all DOFs (symmetric).
    B
        ``(n_interface, n)``: tangential displacement at the interface nodes.
    weights
        Lumped interface measure ``m_i`` per node (length x thickness).
    G
        ``(n_interface, n_interface)`` gradient matrix, ``s^T G s = int (ds/dt)^2`` (x thickness).
    fixed
        Indices of the prescribed DOFs.
    law
        :class:`~fem_reg.friction.law.SlipWeakening`.
    k_t, gamma
        Tangential (stick) stiffness per unit area and the gradient coefficient.
    pressure
        Prescribed normal pressure per node (array), or ``None``: the reaction of the normal
        DOFs ``normal_dofs`` (prescribed) along ``-outward`` divided by ``m``.
    condense_bulk
        Iterate on the retained DOFs only (interface, prescribed), the rest of the linear
        bulk condensed out once; ``False``: Newton on all DOFs (same solution).

    States (``State.u``, ``State.external``) are full vectors. Inside an increment the
    displacement and the loads are *local*: restricted to the retained DOFs ``keep``
    (:meth:`local`, :meth:`reduce`), and ``fixed``, ``free``, ``B``, ``normal_dofs`` index them.
    """

    def __init__(self, K, B, weights, G, fixed, law, k_t, gamma, *, pressure=None,
                 normal_dofs=None, outward=None, tolerance=1e-10, max_iterations=30,
                 condense_bulk=True):
        self.K = sp.csr_matrix(K)                    # full: energies
        self.B_full = sp.csr_matrix(B)
        self.m = np.asarray(weights, dtype=np.float64)
        self.G = sp.csr_matrix(G)
        n = self.K.shape[0]
        self.n = n
        fixed = np.unique(np.asarray(fixed, dtype=np.int64))
        self.law, self.k_t, self.gamma = law, float(k_t), float(gamma)
        # the active-set constant: the bulk's tangential stiffness per unit length at each
        # node (about E/h), not k_t, which cycles between stick and slip sets when the stick
        # is stiff (k_t >> E/h) and the slip reverses
        self.c = np.minimum(self.k_t, (abs(self.B_full) @ self.K.diagonal()) / self.m)
        self.tolerance, self.max_iterations = tolerance, max_iterations
        normal = np.asarray(normal_dofs if pressure is None else [], dtype=np.int64)
        keep = np.unique(np.concatenate((fixed, self.B_full.indices, normal)))
        self.bulk = StaticCondensation(self.K, keep) if condense_bulk and len(keep) < n \
            else None
        self.keep = keep if self.bulk is not None else np.arange(n)
        local = np.full(n, -1)
        local[self.keep] = np.arange(len(self.keep))
        self.fixed = local[fixed]
        self.free = np.setdiff1d(np.arange(len(self.keep)), self.fixed)
        self.B = self.B_full[:, self.keep]
        K_local = self.K if self.bulk is None else sp.csr_matrix(self.bulk.matrix)
        if pressure is None:
            self.normal_dofs = local[normal]
            self.outward = np.asarray(outward, dtype=np.float64)
            self.pressure = None
        else:
            self.pressure = np.broadcast_to(np.asarray(pressure, dtype=np.float64),
                                            self.m.shape).copy()
        M = sp.diags(self.m)
        self.hessian_u = (K_local + self.k_t * self.B.T @ M @ self.B).tocsr()
        self.hessian_us = (-self.k_t * self.B.T @ M).tocsr()
        self.dq_du = (self.k_t * self.B).tocsr()
        self.dq_ds = (-self.k_t * sp.identity(len(self.m)) - self.gamma
                      * sp.diags(1.0 / self.m) @ self.G).tocsr()
        ff = self.free
        self._J_uu = self.hessian_u[ff][:, ff]
        self._J_us = self.hessian_us[ff]
        # rows of the Newton matrix that do not change: m dq/du, m dq/ds, m c (stick), and
        # the stiffness rows of the normal DOFs (the pressure's derivative)
        self._slip_u = (M @ self.dq_du).tocsr()
        self._slip_s = (M @ self.dq_ds).tocsr()
        self._stick_s = sp.diags(self.m * self.c)
        if self.pressure is None:
            self._normal_rows = self.hessian_u[self.normal_dofs]
        # the condensed system is small and dense: numpy arrays (scipy.sparse's per-call
        # overhead on small matrices was most of the time of a step)
        self.dense = self.bulk is not None
        if self.dense:
            for name in ("hessian_u", "hessian_us", "dq_du", "dq_ds", "_J_uu", "_J_us",
                         "_slip_u", "_slip_s") + (("_normal_rows",) if pressure is None
                                                  else ()):
                setattr(self, name, getattr(self, name).toarray())
            self._slip_u_free = self._slip_u[:, self.free]
            if pressure is None:
                self._normal_rows_free = self._normal_rows[:, self.free]
            self._J_uu_inv = np.linalg.inv(self._J_uu)
            self._Y = self._J_uu_inv @ self._J_us

    # -- pieces -------------------------------------------------------------------------
    def initial_state(self):
        ni, nk = len(self.m), len(self.keep)
        zero = np.zeros(ni)
        return State(u=np.zeros(self.n), s=zero, kappa=zero, q=zero,
                     pressure=self._pressure(np.zeros(nk), np.zeros(nk)),
                     external=np.zeros(self.n))

    def local(self, u):
        """The retained entries of a full displacement (a copy)."""
        return np.array(u, dtype=np.float64)[self.keep]

    def reduce(self, f):
        """The local load of a full load vector (condensed, when the bulk is)."""
        f = np.asarray(f, dtype=np.float64)
        return f.copy() if self.bulk is None else self.bulk.load(f)

    def internal_force(self, u, s):
        """``dE/du`` over the local DOFs."""
        return self.hessian_u @ u + self.hessian_us @ s

    def slip_force(self, u, s):
        """``q``, the force conjugate to the slip per unit length."""
        return self.dq_du @ u + self.dq_ds @ s

    def _pressure(self, g, f):
        if self.pressure is not None:
            return self.pressure
        return -self.outward * (g - f)[self.normal_dofs] / self.m

    def energies(self, u, s):
        """``(bulk elastic, interface elastic, regularization)`` stored energies of a full
        displacement ``u``."""
        gap = self.B_full @ u - s
        return (0.5 * u @ (self.K @ u), 0.5 * self.k_t * np.sum(self.m * gap ** 2),
                0.5 * self.gamma * s @ (self.G @ s))

    def _evaluate(self, u, s, f, old, viscosity=0.0, law=None):
        """Residual, the quantities the Jacobian needs, and the active set. ``viscosity``
        (traction per length per unit slip increment) makes the flow rule viscous:
        ``q - viscosity ds = sigma tau`` while slipping (see :meth:`relax`); ``law`` replaces
        the friction law (see :meth:`_jump`)."""
        law = self.law if law is None else law
        g = self.internal_force(u, s)
        q = self.slip_force(u, s)
        pressure = self._pressure(g, f)
        ds = s - old.s
        kappa = old.kappa + np.abs(ds)
        mu = law.mu(kappa)
        tau = mu * np.maximum(pressure, 0.0)
        drive = q - viscosity * ds
        trial = drive + self.c * ds
        slip = np.abs(trial) > tau
        sigma = np.sign(trial)
        phi = np.where(slip, drive - sigma * tau, self.c * ds)
        residual = np.concatenate(((g - f)[self.free], self.m * phi))
        return residual, dict(g=g, q=q, pressure=pressure, ds=ds, kappa=kappa, mu=mu, slip=slip,
                              sigma=sigma, slope=law.slope(kappa))

    def _lower_blocks(self, e, pressure_rows, diagonal):
        """Dense slip/stick rows of the Newton matrix: over ``u_free`` and over ``s``."""
        slip = e["slip"]
        row_u = self._slip_u_free if pressure_rows is None else \
            self._slip_u_free + pressure_rows[:, None] * self._normal_rows_free
        lower_u = slip[:, None] * row_u
        lower_s = slip[:, None] * (self._slip_s - np.diag(diagonal)) \
            + np.diag(np.where(slip, 0.0, self.m * self.c))
        return lower_u, lower_s

    def _correction(self, e, residual, viscosity=0.0):
        """Newton correction of the dense system by its Schur complement on the slip:
        ``J_uu`` is constant, so ``J_uu^-1`` and ``J_uu^-1 J_us`` are computed once, and each
        iteration factors a matrix of the interface size only."""
        pressure_rows = None if self.pressure is not None else \
            e["sigma"] * e["mu"] * self.outward * (e["pressure"] > 0.0)
        direction = np.where(e["ds"] != 0.0, np.sign(e["ds"]), e["sigma"])
        diagonal = self.m * (e["sigma"] * e["slope"] * np.maximum(e["pressure"], 0.0) * direction
                             + viscosity)
        lower_u, A = self._lower_blocks(e, pressure_rows, diagonal)
        nf, slip = len(self.free), e["slip"]
        z = self._J_uu_inv @ -residual[:nf]
        A[slip] -= lower_u[slip] @ self._Y
        b = -residual[nf:] - lower_u @ z
        ds = self._solve(A, b)
        return np.concatenate((z - self._Y @ ds, ds))

    def _jacobian(self, e, viscosity=0.0):
        """The semismooth Newton matrix (``(u_free, s)`` ordering) at an evaluated iterate:
        a numpy array when the bulk is condensed, else sparse."""
        slip = e["slip"]
        # slip rows: m (dq - sigma dtau), stick rows: m c ds
        # tau = mu p, p = -outward (g - f)[normal] / m  =>  m dtau/du = -mu outward K[normal]
        pressure_rows = None if self.pressure is not None else \
            e["sigma"] * e["mu"] * self.outward * (e["pressure"] > 0.0)
        direction = np.where(e["ds"] != 0.0, np.sign(e["ds"]), e["sigma"])
        dtau_ds = e["slope"] * np.maximum(e["pressure"], 0.0) * direction
        diagonal = self.m * (e["sigma"] * dtau_ds + viscosity)
        if self.dense:
            lower_u, lower_s = self._lower_blocks(e, pressure_rows, diagonal)
            return np.block([[self._J_uu, self._J_us], [lower_u, lower_s]])
        S = sp.diags(slip.astype(float))
        T = sp.diags((~slip).astype(float))
        row_u = self._slip_u if pressure_rows is None else \
            self._slip_u + sp.diags(pressure_rows) @ self._normal_rows
        lower_u = (S @ row_u).tocsr()[:, self.free]
        lower_s = S @ (self._slip_s - sp.diags(diagonal)) + T @ self._stick_s
        return sp.bmat([[self._J_uu, self._J_us], [lower_u, lower_s]], format="csc")

    def bordered(self, J, column, row):
        """``[[J, column], [row, 0]]`` in ``J``'s format (slip control)."""
        if self.dense:
            return np.block([[J, column[:, None]], [row[None, :], np.zeros((1, 1))]])
        return sp.bmat([[J, column[:, None]], [row[None, :], None]], format="csc")

    # -- one load increment ---------------------------------------------------------------
    def step(self, old, fixed_values, f, *, viscosity=0.0, iterations=None):
        """Solve the increment from the converged state ``old`` to prescribed values
        ``fixed_values`` (at ``self.fixed``) and full loads ``f``. Returns ``(State,
        StepInfo)``; raises :class:`StepFailed` when Newton does not converge (in
        ``iterations``, default ``max_iterations``). ``viscosity``: the viscous flow rule of
        :meth:`relax`."""
        u = self.local(old.u)
        u[self.fixed] = fixed_values
        u, s, e, f_local, info, _ = self._newton(old, u, old.s.copy(), self.reduce(f),
                                                 viscosity=viscosity, iterations=iterations)
        return self._state(old, u, s, e, f_local, f), info

    def relax(self, old, fixed_values, f, *, max_substeps=200, growth=4.0, attempt=10):
        """Find the equilibrium an unstable state jumps to at fixed load (a snap of slip
        weakening: no equilibrium near ``old``), by viscous relaxation.

        Each substep solves the increment with the viscous flow rule ``q - v ds = sigma tau``
        (backward Euler in a pseudo-time whose step is inversely proportional to ``v``); ``v``
        starts above the softening and the bulk stiffness per unit length, so the substep is
        well posed, and is divided by ``growth`` after every substep (pseudo-transient
        continuation: the pseudo-time step grows geometrically; a substep that fails
        multiplies ``v`` by ``growth**2``).
        After each substep the inviscid increment is tried from the relaxed state with at most
        ``attempt`` Newton iterations; the first that converges ends the jump. The jump thus
        follows an overdamped path (a vanishing-viscosity selection, Mielke, Rossi & Savare
        2012), and its dissipation is counted like any other. Returns ``(State, StepInfo)``
        with ``info.relaxation`` the number of substeps; raises :class:`StepFailed`.

        First, one cheaper try (:meth:`_jump`): the nodes driven past their limit placed on
        the fully weakened branch; taken when Newton converges from there to a stable state
        (``info.relaxation`` is then 0)."""
        jumped = self._jump(old, fixed_values, f, attempt)
        if jumped is not None:
            return jumped
        pressure = old.pressure if self.pressure is None else self.pressure
        soft = float(np.max(np.abs(self.law.slope(np.zeros(1))))) \
            * float(np.max(pressure, initial=0.0))
        start = viscosity = 4.0 * (float(np.max(self.c)) + soft)
        state, n = old, 0
        for n in range(1, max_substeps + 1):
            try:
                state, _ = self.step(state, fixed_values, f, viscosity=viscosity)
            except StepFailed:
                if viscosity >= 1e6 * start:
                    break
                viscosity *= growth ** 2                   # too little viscosity
                continue
            try:
                new, info = self.step(state, fixed_values, f, iterations=attempt)
            except StepFailed:
                viscosity /= growth
                continue
            info.relaxation = n
            return new, info
        raise StepFailed(f"no equilibrium after {n} viscous relaxation substeps")

    def _jump(self, old, fixed_values, f, iterations):
        """The state after a snap-through of the weakening, predicted and corrected.

        With a steep law (``(mu_s - mu_d) p / D_c`` above the stiffness that holds a node) a
        node has no stable state inside the weakening: it sticks, or it has slipped past
        ``D_c``, where the overdamped path of :meth:`relax` ends. The predictor solves the
        increment with each node's friction frozen at its current value (a stable problem);
        the nodes that start to slip there are moved past ``D_c``, by the slip that brings
        their force down to the dynamic level with the bulk held; Newton with the true law
        corrects from there. The result is taken only when it is a stable equilibrium (the
        incremental energy's Hessian over the free DOFs and the slipping nodes, pressure held,
        is positive definite); else ``None``. Dense (condensed) systems only."""
        law = self.law
        if not self.dense or law.constant or law.D_c == 0.0:
            return None
        u = self.local(old.u)
        u[self.fixed] = fixed_values
        f_local = self.reduce(f)
        try:
            u, s, e, _, _, _ = self._newton(old, u, old.s.copy(), f_local,
                                            law=_Frozen(law.mu(old.kappa)))
        except StepFailed:
            return None
        onset = e["slip"] & (old.kappa < law.D_c)
        if not onset.any():
            return None
        pressure = np.maximum(e["pressure"], 0.0)
        stiffness = self.k_t + self.gamma * self.G.diagonal() / self.m
        drop = (e["mu"] - law.mu_d) * pressure / stiffness
        jump = np.maximum(law.D_c - old.kappa, np.abs(e["ds"]) + drop)
        s = np.where(onset, old.s + e["sigma"] * 1.01 * jump, s)
        try:
            u, s, e, f_local, info, _ = self._newton(old, u, s, f_local, iterations=iterations)
        except StepFailed:
            return None
        slip = e["slip"]
        softening = self.m * law.slope(e["kappa"]) * np.maximum(e["pressure"], 0.0)
        E_ss = -self._slip_s[np.ix_(slip, slip)] + np.diag(softening[slip])
        J_us = self._J_us[:, slip]
        try:
            np.linalg.cholesky(np.block([[self._J_uu, J_us], [J_us.T, E_ss]]))
        except np.linalg.LinAlgError:
            return None                     # an unstable equilibrium: not where it lands
        return self._state(old, u, s, e, f_local, f), info

    def slip_step(self, old, amount, affine, guess):
        """Slip-controlled increment: the load factor ``lam`` is an unknown and the increment
        of accumulated slip is prescribed, ``sum_i m_i |ds_i| = amount`` (a dissipation-type
        path control, which follows snap-backs that load control cannot pass).

        ``affine = (rate, f0, f1)``: prescribed values ``lam rate`` and loads ``f0 + lam f1``;
        ``guess = (u, s, lam)`` the predictor. Returns ``(State, StepInfo, lam)``."""
        u, s, lam = guess
        control = _Control(self, amount, *affine)
        u, s, e, f_local, info, lam = self._newton(old, self.local(u), s.copy(), None, control,
                                                   float(lam))
        return self._state(old, u, s, e, f_local, control.full_loads(lam)), info, lam

    def _newton(self, old, u, s, f, control=None, lam=None, viscosity=0.0, iterations=None,
                law=None):
        nf, ni = len(self.free), len(self.m)

        def evaluate(u, s, f, lam):
            """Residual (with the slip constraint under slip control), evaluation, loads."""
            if control is not None:
                f = control.loads(u, lam)
            residual, e = self._evaluate(u, s, f, old, viscosity, law)
            if control is not None:
                residual = np.append(residual, control.residual(e))
            return residual, e, f

        residual, e, f = evaluate(u, s, f, lam)
        limit = iterations or self.max_iterations
        lowest, since_lowest = np.inf, 0
        for iteration in range(1, limit + 1):
            scale = np.linalg.norm(e["g"]) + np.linalg.norm(f) + 1e-300
            norm = np.linalg.norm(residual)
            # the residual is evaluated with the active set of the iterate itself, so a small
            # residual is a solution (a node exactly at the stick-slip kink may flip its set
            # at round-off level from one iteration to the next)
            if norm <= self.tolerance * scale:
                break
            # an active set that cycles without a better residual will not converge (a snap
            # of the weakening: no equilibrium nearby); give up early, the caller cuts
            lowest, since_lowest = (norm, 0) if norm < lowest else (lowest, since_lowest + 1)
            if since_lowest >= STAGNATION:
                raise StepFailed(f"Newton stagnated: no better residual in {STAGNATION} "
                                 f"iterations (residual {lowest / scale:.2e} relative)")
            if self.dense and control is None:
                delta = self._correction(e, residual, viscosity)
            else:
                J = self._jacobian(e, viscosity)
                if control is not None:
                    J = self.bordered(J, control.column(e), control.row(e))
                delta = self._solve(J, -residual)
            # line search on |residual| (full step when it does not help: the active-set
            # update is what converges a piecewise-linear problem)
            alpha, best = 1.0, None
            for _ in range(6):
                u_try, s_try = u.copy(), s + alpha * delta[nf:nf + ni]
                u_try[self.free] += alpha * delta[:nf]
                lam_try = None if control is None else lam + alpha * delta[-1]
                r_try, e_try, f_try = evaluate(u_try, s_try, f, lam_try)
                if best is None:
                    best = (u_try, s_try, f_try, lam_try, r_try, e_try)
                if np.linalg.norm(r_try) < (1.0 - 1e-4 * alpha) * norm:
                    best = (u_try, s_try, f_try, lam_try, r_try, e_try)
                    break
                alpha *= 0.5
            u, s, f, lam, residual, e = best
        else:
            raise StepFailed(f"Newton did not converge in {limit} iterations "
                             f"(residual {norm / scale:.2e} relative)")
        # stick nodes keep their slip exactly (the linear solve leaves round-off there, which
        # would count as slip in kappa and the slip zone)
        if not np.array_equal(s[~e["slip"]], old.s[~e["slip"]]):
            s = np.where(e["slip"], s, old.s)
            residual, e = self._evaluate(u, s, f, old, viscosity, law)
        info = StepInfo(iterations=iteration - 1, residual=float(norm / scale),
                        slipping=int(np.count_nonzero(e["slip"])))
        return u, s, e, f, info, lam

    def _solve(self, J, rhs):
        """One Newton correction (dense LU for the condensed system, else SuperLU)."""
        try:
            if self.dense:
                return sla.lu_solve(sla.lu_factor(J, check_finite=False), rhs,
                                    check_finite=False)
            return splu(J).solve(rhs)
        except (RuntimeError, sla.LinAlgError) as err:   # singular (softening, free body)
            raise StepFailed(f"singular Newton matrix ({err})") from None

    def _state(self, old, u, s, e, f_local, f):
        """The converged State from the local solution: the full displacement, the external
        forces (loads, and the reactions at the prescribed DOFs), work and dissipation."""
        u_full = u if self.bulk is None else self.bulk.lift(u, f)
        external = np.array(f, dtype=np.float64)
        external[self.keep[self.fixed]] += (e["g"] - f_local)[self.fixed]
        work = old.work + 0.5 * (old.external + external) @ (u_full - old.u)
        dissipation = old.dissipation + 0.5 * np.sum(self.m * (old.q + e["q"]) * (s - old.s))
        return State(u=u_full, s=s, kappa=e["kappa"], q=e["q"], pressure=e["pressure"], external=external,
                     work=work, dissipation=dissipation)


class _Control:
    """The slip constraint of a slip-controlled increment and its derivatives.

    ``amount``: the prescribed ``sum_i m_i |ds_i|``; prescribed values ``lam rate`` (at
    ``solver.fixed``) and full loads ``f0 + lam f1`` (``self.f0``, ``self.f1``: their local
    parts). What does not change within the increment (the derivatives of the internal and
    slip forces with respect to ``lam``) is computed here once."""

    def __init__(self, solver, amount, rate, f0, f1):
        self.solver = solver
        self.amount, self.rate = float(amount), rate
        self._full = (np.asarray(f0, dtype=np.float64), np.asarray(f1, dtype=np.float64))
        self.f0, self.f1 = solver.reduce(f0), solver.reduce(f1)
        # scales the constraint to a force (c ~ traction per unit slip), like the stick rows
        self.weight = float(np.mean(solver.c))
        # d(g - f)/dlam and m dq/dlam
        self.dforce = solver.hessian_u[:, solver.fixed] @ rate - self.f1
        self.dq = solver.m * (solver.dq_du[:, solver.fixed] @ rate)

    def loads(self, u, lam):
        """Set the prescribed values in ``u`` (in place) and return the local loads at
        ``lam``."""
        u[self.solver.fixed] = lam * self.rate
        return self.f0 + lam * self.f1

    def full_loads(self, lam):
        return self._full[0] + lam * self._full[1]

    def residual(self, e):
        return self.weight * (np.sum(self.solver.m * np.abs(e["ds"])) - self.amount)

    def row(self, e):
        """Derivative of the constraint with respect to ``(u_free, s)``."""
        direction = np.where(e["ds"] != 0.0, np.sign(e["ds"]),
                             np.where(e["slip"], e["sigma"], 0.0))
        return np.concatenate((np.zeros(len(self.solver.free)),
                               self.weight * self.solver.m * direction))

    def column(self, e):
        """Derivative of the residual with respect to the load factor."""
        solver = self.solver
        slip_rows = self.dq
        if solver.pressure is None:
            # m tau = -mu outward (g - f)[normal]  =>  its derivative
            loaded = e["pressure"] > 0.0
            dmtau = -e["mu"] * solver.outward * self.dforce[solver.normal_dofs] * loaded
            slip_rows = slip_rows - e["sigma"] * dmtau
        slip_rows = np.where(e["slip"], slip_rows, 0.0)
        return np.concatenate((self.dforce[solver.free], slip_rows))


class _Frozen:
    """A friction law frozen at given per-node coefficients (no weakening)."""

    def __init__(self, mu):
        self._mu = np.asarray(mu, dtype=np.float64)

    def mu(self, kappa):
        return self._mu

    def slope(self, kappa):
        return np.zeros_like(self._mu)


def follow(solver, state, loads, ts, on_step=None, *, max_cuts=8, until=None, response=None,
           max_relax=200):
    """Walk the path parameters ``ts`` (increasing) from ``state``; ``loads(t)`` gives
    ``(fixed_values, f)``. An increment that fails is halved, up to ``max_cuts`` times; after
    a success the increment grows back. When even the smallest increment has no equilibrium
    nearby (a snap), the state it jumps to is found by :meth:`SlipSolver.relax` (at most
    ``max_relax`` substeps; 0: the walk stops there).

    ``response(t, state)`` gives ``(load factor, force)``: an increment in which the force
    turns from rising to falling (a peak, often the onset of a snap) is halved too, so the
    peak is located to ``1 / 2**max_cuts`` of the nominal increment.

    ``on_step(t, state, info)`` is called for every converged increment; the walk ends early
    after an increment whose state satisfies ``until(state)``. Returns ``(state, t,
    failure)``: the last converged state, its path parameter, and ``None`` or the message of
    the increment that could not be solved."""
    t = ts[0]
    rising, before = False, None if response is None else response(t, state)
    for target in ts[1:]:
        nominal = target - t
        depth = 0
        while t < target - 1e-12 * max(1.0, abs(target)):
            t_next = min(target, t + nominal / 2 ** depth)
            try:
                new, info = solver.step(state, *loads(t_next))
            except StepFailed as err:
                depth += 1
                if depth <= max_cuts:
                    continue
                failed = f"the increment to t = {t_next:.6g} failed after {max_cuts} step cuts"
                if not max_relax:
                    return state, t, f"{failed}: {err}"
                # no equilibrium near the last state however small the increment: a jump
                try:
                    new, info = solver.relax(state, *loads(t_next), max_substeps=max_relax)
                except StepFailed as relax_err:
                    return state, t, f"{failed} ({err}) and {relax_err}"
            if response is not None:
                after = response(t_next, new)
                change = (after[1] - before[1]) * np.sign(after[0] - before[0])
                flat = abs(change) <= 1e-9 * max(abs(after[1]), abs(before[1]))
                if rising and change < 0.0 and not flat and depth < max_cuts:
                    depth += 1                  # a peak inside the increment: locate it
                    continue
                rising, before = (rising if flat else change > 0.0), after
            state, t = new, t_next
            if on_step is not None:
                on_step(t, state, info)
            if until is not None and until(state):
                return state, t, None
            depth = max(0, min(depth, max_cuts) - 1)
    return state, t, None


def follow_slip(solver, older, state, lam, lam_end, affine, amount, on_step=None, *,
                max_cuts=8, max_steps=10000):
    """Continue a path under slip control from ``state`` (load factor ``lam``; ``older`` the
    ``(state, load factor)`` converged before it, for the secant predictor) until the load
    factor reaches ``lam_end``: each increment adds ``amount`` to ``sum_i m_i kappa_i``
    (halved on failure, up to ``max_cuts`` times, then grown back). ``on_step(lam, state,
    info)`` is called for every converged increment. Returns ``(state, lam, failure)`` like
    :func:`follow`."""
    older, lam_older = older
    depth = 0
    for _ in range(max_steps):
        if (lam_end - lam) * np.sign(lam_end) <= 0.0:
            return state, lam, None
        target = amount / 2 ** depth
        previous = np.sum(solver.m * np.abs(state.s - older.s))
        # secant predictor along the last increment (at most twice its length)
        ratio = min(target / previous, 2.0) if previous > 0.0 else 0.0
        guess = (state.u + ratio * (state.u - older.u), state.s + ratio * (state.s - older.s),
                 lam + ratio * (lam - lam_older))
        try:
            new, info, lam_new = solver.slip_step(state, target, affine, guess)
        except StepFailed as err:
            depth += 1
            if depth > max_cuts:
                return state, lam, (f"the slip-controlled increment at load factor "
                                    f"{lam:.6g} failed after {max_cuts} step cuts: {err}")
            continue
        older, lam_older, state, lam = state, lam, new, lam_new
        if on_step is not None:
            on_step(lam, state, info)
        depth = max(0, depth - 1)
    return state, lam, (f"slip control did not reach the load factor {lam_end:g} in "
                        f"{max_steps} increments (load factor {lam:.6g})")
