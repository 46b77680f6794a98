"""Static condensation of a linear stiffness onto a few retained DOFs.

With the DOFs split into retained ``R`` and condensed ``C`` (all free, loaded by ``f_C``),
eliminating ``u_C = K_CC^-1 (f_C - K_CR u_R)`` leaves the exact reduced system

    S u_R = f_R - K_RC K_CC^-1 f_C (+ reactions),   S = K_RR - K_RC K_CC^-1 K_CR,

the Schur complement (Guyan 1965; exact for a static linear bulk). A problem whose
nonlinearity lives on a boundary (contact, friction) then iterates on the boundary DOFs only:
one factorization of ``K_CC`` per mesh, one back-substitution per load and per lifted state.

Not to be confused with :func:`skfem.condense`, which removes Dirichlet DOFs (fem_reg uses it
in :func:`fem_reg.fe.solve_constrained`).
"""

import numpy as np
import scipy.sparse as sp

from ..errors import SingularSystemError
from .solvers import PIVOT_RATIO, factorize_spd

BLOCK = 256          # right-hand sides per back-substitution while forming S (memory bound)


class StaticCondensation:
    """The Schur complement of ``K`` onto ``retained`` and the maps between the full and the
    reduced vectors.

    Parameters
    ----------
    K
        Symmetric stiffness over all DOFs.
    retained
        Indices of the DOFs kept (sorted internally): those that carry the nonlinearity,
        prescribed values, or reactions that are wanted. The rest must be free and must not
        leave a rigid-body mode (``K_CC`` nonsingular).

    Attributes
    ----------
    retained, condensed
        Sorted index arrays.
    matrix
        ``S``, dense ``(len(retained), len(retained))``.
    """

    def __init__(self, K, retained):
        K = sp.csr_matrix(K)
        n = K.shape[0]
        self.n = n
        self.retained = np.unique(np.asarray(retained, dtype=np.int64))
        self.condensed = np.setdiff1d(np.arange(n), self.retained)
        R, C = self.retained, self.condensed
        K_CC = K[C][:, C].tocsc()
        self._K_CR = K[C][:, R].tocsc()
        try:
            # symmetric positive definite: diagonal pivots keep the fill of a Cholesky
            self._lu = factorize_spd(K_CC)
        except RuntimeError as err:
            raise SingularSystemError(f"cannot condense onto {len(R)} DOFs: the rest is "
                                      f"singular ({err})") from None
        pivots = np.abs(self._lu.factor.U.diagonal())
        if pivots.size and pivots.min() < PIVOT_RATIO * pivots.max():
            raise SingularSystemError(f"cannot condense onto {len(R)} DOFs: the rest has a "
                                      f"free (rigid-body) mode (pivot ratio "
                                      f"{pivots.min() / pivots.max():.1e})")
        S = K[R][:, R].toarray()
        for start in range(0, len(R), BLOCK):
            columns = slice(start, min(start + BLOCK, len(R)))
            X = self._lu.solve(self._K_CR[:, columns].toarray())
            S[:, columns] -= self._K_CR.T @ X
        self.matrix = 0.5 * (S + S.T)

    def load(self, f):
        """Reduced load ``f_R - K_RC K_CC^-1 f_C`` of a full load vector."""
        f = np.asarray(f, dtype=np.float64)
        f_C = f[self.condensed]
        if not np.any(f_C):
            return f[self.retained].copy()
        return f[self.retained] - self._K_CR.T @ self._lu.solve(f_C)

    def lift(self, u_retained, f):
        """Full displacement from the retained values and the full load."""
        u = np.empty(self.n)
        u[self.retained] = u_retained
        u[self.condensed] = self._lu.solve(np.asarray(f, dtype=np.float64)[self.condensed]
                                           - self._K_CR @ u_retained)
        return u
