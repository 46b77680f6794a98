"""Minimization of a convex quadratic ``1/2 x.A x - b.x`` under bounds ``lower <= x <= upper``
by the primal-dual active-set method (Hintermueller, Ito & Kunisch 2002, SIAM J. Optim. 13:
a semismooth Newton method; for M-matrices it converges monotonically in finitely many steps).

The damage subproblem of phase-field fracture is of this kind: irreversibility
(``d >= d_prev``) and ``d <= 1`` are bounds, and for AT1 the lower bound is what keeps the
elastic phase undamaged.
"""

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import ParameterError, SolverError
from ..fe.solvers import factorize_spd


ROUND_OFF = 1e-12
CG_RTOL = 1e-12
CG_ITERATIONS = 300


def minimize_bounded(A, b, lower, upper, x0=None, max_iterations=100):
    """``(x, iterations)``: the minimizer of ``1/2 x.A x - b.x`` over ``lower <= x <=
    upper`` (arrays or scalars; equal bounds fix a value), ``A`` sparse symmetric positive
    definite on the free variables.

    Each step fixes at its bound every variable whose projected Newton step would leave the
    box (``x - (A x - b) / diag(A)`` beyond a bound) and solves for the others; it stops when
    the active sets repeat. If they cycle (possible when ``A`` is not an M-matrix),
    L-BFGS-B finishes from the last iterate. Raises :class:`SolverError` after
    ``max_iterations`` steps.
    """
    A = sp.csr_matrix(A)
    n = A.shape[0]
    lower = np.broadcast_to(np.asarray(lower, dtype=np.float64), (n,))
    upper = np.broadcast_to(np.asarray(upper, dtype=np.float64), (n,))
    if (lower > upper).any():
        i = int(np.flatnonzero(lower > upper)[0])
        raise ParameterError(f"bounds cross at variable {i}: lower {lower[i]:g} > upper "
                             f"{upper[i]:g}")
    x = np.clip(np.zeros(n) if x0 is None else np.asarray(x0, dtype=np.float64), lower, upper)
    diagonal = A.diagonal()
    if (diagonal <= 0).any():
        raise SolverError("minimize_bounded: the matrix has a non-positive diagonal entry")
    at_lower = at_upper = None
    # a variable at its bound with a vanishing gradient (a converged alternate minimization
    # re-solved) must not flip in and out of the active set on round-off
    slack = ROUND_OFF * (1.0 + np.abs(lower) + np.abs(upper))
    seen = set()
    for iteration in range(1, max_iterations + 1):
        trial = x - (A @ x - b) / diagonal
        new_lower = (trial < lower - slack) | (lower == upper)
        new_upper = (trial > upper + slack) & ~new_lower
        if at_lower is not None and (new_lower == at_lower).all() and \
                (new_upper == at_upper).all():
            return np.clip(x, lower, upper), iteration - 1
        key = hash(np.packbits(new_lower).tobytes() + np.packbits(new_upper).tobytes())
        if key in seen:
            # the active sets cycle (possible when A is not an M-matrix, e.g. on obtuse
            # triangles): finish with a projected quasi-Newton method, always convergent
            # for a convex problem
            return _quasi_newton(A, b, lower, upper, np.clip(x, lower, upper)), iteration
        seen.add(key)
        at_lower, at_upper = new_lower, new_upper
        x = np.where(at_lower, lower, np.where(at_upper, upper, x))
        free = np.flatnonzero(~(at_lower | at_upper))
        if free.size:
            fixed = np.flatnonzero(at_lower | at_upper)
            rhs = b[free] - A[free][:, fixed] @ x[fixed]
            x[free] = _solve_spd(A[free][:, free], rhs, x[free])
    raise SolverError(f"the bound-constrained damage problem did not settle its active set in "
                      f"{max_iterations} steps")


def _solve_spd(A, b, x0):
    """The solution of a symmetric positive definite ``A x = b``: conjugate gradients from
    ``x0`` with the diagonal as preconditioner, to ``CG_RTOL``, and SuperLU's factor if they
    have not converged in ``CG_ITERATIONS`` steps.

    The damage matrix is mass-dominated (a reaction ``~ 1/l`` against a diffusion ``~ l /
    h^2`` with ``h`` of order ``l``), so its condition number does not grow with the mesh: CG
    takes some 40 steps from the last iterate, whatever the size, where a factorization's
    cost grows faster than the unknowns (a damage solve at 66k triangles: 77 ms against
    569 ms)."""
    A = A.tocsr()
    x, info = spla.cg(A, b, x0=x0, rtol=CG_RTOL, maxiter=CG_ITERATIONS,
                      M=sp.diags(1.0 / A.diagonal()))
    if info == 0:
        return x
    # symmetric positive definite (half the time of spsolve's defaults here)
    with factorize_spd(A) as owned:
        return owned.solve(b)


def _quasi_newton(A, b, lower, upper, x0):
    """L-BFGS-B on the quadratic (scipy), to the gradient's round-off level."""
    from scipy.optimize import minimize
    scale = max(float(np.abs(b).max()), float(np.abs(A @ x0).max()), 1e-300)

    def energy(x):
        Ax = A @ x
        return 0.5 * x @ Ax - b @ x, Ax - b

    fixed = lower == upper
    bounds = np.column_stack((lower, upper))
    result = minimize(energy, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": 20_000, "ftol": 1e-15, "gtol": 1e-12 * scale})
    x = np.clip(result.x, lower, upper)
    x[fixed] = lower[fixed]
    gradient = A @ x - b
    inside = (x > lower) & (x < upper)
    if inside.any() and np.abs(gradient[inside]).max() > 1e-6 * scale:
        raise SolverError(f"the bound-constrained damage problem did not converge "
                          f"(projected gradient {np.abs(gradient[inside]).max():.2e})")
    return x
