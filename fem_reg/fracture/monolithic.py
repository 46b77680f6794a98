"""The monolithic alternative to alternate minimization: Newton's method on the phase-field
energy in the displacement and the damage together, with a line search and the damage
bounds ``d_prev <= d <= 1`` handled by a reduced-space (active-set) method.

For P1 simplices the energy, its gradient and its Hessian are exact cell sums: with
``psi+_e`` and ``psi-_e`` the degraded and the kept parts of the undamaged energy density of
cell ``e`` (constant; ``psi+`` all of it without a split),

    E(u, d) = sum_e ((1 + k) psi+_e + psi-_e) |e| + 1/2 d.A(u) d - b(u).d    (times the thickness)
    grad_u E = f(u, d) (the internal force),     grad_d E = A(u) d - b(u)
    Hessian  = [[K(u, d), C], [C^T, A(u)]],
    C[a, j]  = sum_e sigma+_e : eps(v_a) int_e g'(d) phi_j,   g'(d) = -2 (1 - d)

(``A``, ``b``: the damage subproblem of :mod:`fem_reg.fracture.model` driven by ``psi+``;
``sigma+``: the stress of ``psi+``; ``K``: the problem's tangent stiffness, exact for the
volumetric-deviatoric split away from ``tr eps = 0`` and by differences of the exact stress
for the spectral one). The energy is not convex in ``(u, d)`` jointly, so the Hessian may be
indefinite where the crack runs: a Newton direction that is not a descent direction, a
singular Hessian, or a line search that cannot find an Armijo decrease in 8 halvings is
replaced by one alternate-minimization pass (which never increases the energy). Those
fallbacks are counted and reported.
"""

import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..fe.solvers import SPD_SPLU
from ..resources import OwnedFactor
from . import split

ARMIJO = 1e-4
MAX_HALVINGS = 8
BOUND_SLACK = 1e-12


class MonolithicNewton:
    """Newton's method with a line search for one load step of a
    :class:`~fem_reg.fracture.PhaseFieldFracture` problem (bounds, P1 simplices: the problem
    checks)."""

    def __init__(self, problem):
        self.problem = problem
        cells = problem.cellwise
        u_dofs, d_dofs = problem.u_basis.element_dofs, problem.d_basis.element_dofs
        nu, nd = u_dofs.shape[0], d_dofs.shape[0]
        # the coupling block's pattern: u unknown a of cell e against damage unknown j
        self._rows = np.broadcast_to(u_dofs[:, None, :], (nu, nd, u_dofs.shape[1])).ravel()
        self._cols = np.broadcast_to(d_dofs[None, :, :], (nu, nd, d_dofs.shape[1])).ravel()
        self._shape = (problem.u_basis.N, problem.d_basis.N)
        self._strains, self._mass = cells["strains"], cells["mass"]
        self._areas = cells["volumes"] / problem.scale
        self.counts = {"newton": 0, "fallback": 0, "indefinite": 0, "halvings": 0}

    # -- the energy and its derivatives ---------------------------------------------------

    def _density(self, u):
        """``(psi+_e, psi-_e, sigma+_e)`` of every cell: the degraded and the kept energy
        density and the degraded part's stress (:func:`~fem_reg.fracture.split.energy_parts`)."""
        lam, mu = self.problem.material.lame
        return split.energy_parts(self.problem._cell_strains(u), lam, mu,
                                  self.problem.parameters.split)

    def energy(self, u, d):
        """The total energy ``E(u, d)`` (elastic and fracture, times the thickness in 2D)."""
        p = self.problem
        plus, minus, _ = self._density(u)
        A, b = p._damage_matrices(plus)
        return float(((1.0 + p.field.residual) * plus + minus) @ (self._areas * p.scale)
                     + p.scale * (0.5 * d @ (A @ d) - b @ d))

    def gradient(self, u, d):
        """``(grad_u E, grad_d E, K, K_free, sigma+, A)`` at ``(u, d)``: the internal force
        (on all unknowns), the damage gradient, the tangent stiffness on all and on the free
        unknowns, the cells' degraded stress and the damage matrix."""
        p = self.problem
        plus, _, sigma = self._density(u)
        A, b = p._damage_matrices(plus)
        if p.parameters.split == "spectral":
            K, K_free, force = p._spectral(u, d)
        else:                               # K(u, d) u is the internal force (secant)
            K, K_free = p._stiffness(u, d)
            force = K @ u
        return force, p.scale * (A @ d - b), K, K_free, sigma, A

    def _coupling(self, sigma, d):
        """``C = d grad_u E / d d`` (``N_u x N_d``, times the thickness in 2D)."""
        p = self.problem
        local_d = d[p.d_basis.element_dofs]                                 # (nd, ncells)
        slope = -2.0 * np.einsum("jke,ke->je", self._mass, 1.0 - local_d)   # int g' phi_j
        force = p.scale * np.einsum("aije,eij->ae", self._strains, sigma)   # sigma+ : eps(v_a)
        data = (force[:, None, :] * slope[None, :, :]).ravel()
        return sp.csr_matrix((data, (self._rows, self._cols)), shape=self._shape)

    # -- one load step ----------------------------------------------------------------

    def step(self, prescribed, u, d_prev, limit=None):
        """Newton iterations at one prescribed displacement from ``(u, d_prev)``: ``(u, d,
        K, iterations)``, or ``None`` when ``limit`` iterations did not converge (the step is
        to be cut). Converged: the largest damage change of a full step below the
        tolerance; the displacement is then re-equilibrated at that damage."""
        p = self.problem
        lower = d_prev
        u = u.copy()
        u[p.fixed] = np.where(p.pulled, prescribed, 0.0)
        d = d_prev.copy()
        tolerance = p.parameters.tolerance
        for iteration in range(1, p.parameters.max_iterations + 1):
            start = time.perf_counter()
            moved = self._newton(u, d, lower)
            p.timings["newton"] += [1, time.perf_counter() - start]
            if moved is None:                       # one alternate-minimization pass
                self.counts["fallback"] += 1
                new_u, _ = p._displacement(d, prescribed, u)
                new_d = p._damage(new_u, lower, d)
                full = True
            else:
                new_u, new_d, full = moved
                self.counts["newton"] += 1
            change = float(np.abs(new_d - d).max())
            u, d = new_u, new_d
            if full and change < tolerance:
                u, K = p._displacement(d, prescribed, u)
                return u, d, K, iteration
            if limit is not None and iteration >= limit:
                return None
        return p._not_converged(prescribed)

    def _newton(self, u, d, lower):
        """One Newton step with a backtracking line search: ``(u, d, full)`` (``full``: the
        whole step was taken), or ``None`` when it does not descend."""
        p = self.problem
        force, grad_d, _, K_free, sigma, A = self.gradient(u, d)
        grad_u = force[p.free]
        # reduced space: a damage at a bound that the gradient pushes outwards stays there
        held = ((d <= lower + BOUND_SLACK) & (grad_d > 0.0)) | \
            ((d >= 1.0 - BOUND_SLACK) & (grad_d < 0.0))
        active = np.flatnonzero(~held)
        C = self._coupling(sigma, d)[p.free][:, active]
        H = sp.bmat([[K_free, C], [C.T, p.scale * A[active][:, active]]], format="csc")
        gradient = np.concatenate([grad_u, grad_d[active]])
        # symmetric pivoting (an LDL^T in effect): the signs of U's diagonal are the
        # Hessian's inertia (Sylvester), so a Hessian that is not positive definite on the
        # reduced space -- a saddle nearby, where the crack runs -- is seen and not followed
        try:
            with OwnedFactor(spla.splu, H, size=H.shape[0], **SPD_SPLU) as owned:
                symmetric = np.array_equal(owned.factor.perm_r, owned.factor.perm_c)
                negative = int((owned.factor.U.diagonal() <= 0.0).sum())
                direction = -owned.solve(gradient)
        except RuntimeError:                                 # exactly singular
            return None
        slope = float(gradient @ direction)
        if not symmetric or negative or not np.isfinite(slope) or slope >= 0.0:
            self.counts["indefinite"] += 1
            return None
        du, dd = direction[:len(grad_u)], direction[len(grad_u):]
        before = self.energy(u, d)
        alpha = 1.0
        for halving in range(MAX_HALVINGS + 1):
            trial_u, trial_d = u.copy(), d.copy()
            trial_u[p.free] += alpha * du
            trial_d[active] = np.clip(d[active] + alpha * dd, lower[active], 1.0)
            if self.energy(trial_u, trial_d) <= before + ARMIJO * alpha * slope:
                return trial_u, trial_d, halving == 0
            alpha *= 0.5
            self.counts["halvings"] += 1
        return None
