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


ROUND_OFF = 1e-12


def minimize_bounded(A, b, lower, upper, x0=None, max_iterations=100):
    """``(x, iterations)``: the minimizer of ``1/2 x.A x - b.x`` over ``lower <= x <=
    upper`` (arrays or scalars; equal bounds fix a value), ``A`` sparse symmetric positive
    definite on the free variables.

    Each step fixes at its bound every variable whose projected Newton step would leave the
    box (``x - (A x - b) / diag(A)`` beyond a bound) and solves for the others; it stops when
    the active sets repeat. Raises :class:`SolverError` after ``max_iterations`` steps.
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
    for iteration in range(1, max_iterations + 1):
        trial = x - (A @ x - b) / diagonal
        new_lower = (trial < lower - slack) | (lower == upper)
        new_upper = (trial > upper + slack) & ~new_lower
        if at_lower is not None and (new_lower == at_lower).all() and \
                (new_upper == at_upper).all():
            return np.clip(x, lower, upper), iteration - 1
        at_lower, at_upper = new_lower, new_upper
        x = np.where(at_lower, lower, np.where(at_upper, upper, x))
        free = np.flatnonzero(~(at_lower | at_upper))
        if free.size:
            fixed = np.flatnonzero(at_lower | at_upper)
            rhs = b[free] - A[free][:, fixed] @ x[fixed]
            x[free] = spla.spsolve(A[free][:, free].tocsc(), rhs)
    raise SolverError(f"the bound-constrained damage problem did not settle its active set in "
                      f"{max_iterations} steps")
