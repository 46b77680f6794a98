"""Sparse linear solves: direct below a size threshold, AMG-preconditioned CG above it.

* direct: PARDISO through pypardiso when installed (``pip install fem-reg[fast]``), else
  SuperLU from scipy;
* ``amg``: pyamg smoothed aggregation as a preconditioner for CG, with the rigid-body modes
  as near null space for elasticity (Vanek, Mandel & Brezina 1996).

Every solve is checked: a singular matrix (a rigid-body mode left free by missing supports, or
a zero pivot) raises :class:`~fem_reg.errors.SingularSystemError`; a relative residual above
the tolerance raises :class:`~fem_reg.errors.SolverError`.
"""

import functools
import importlib.util
import logging
import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import skfem
from threadpoolctl import threadpool_limits

from ..checks import one_of
from ..errors import ParameterError, SingularSystemError, SolverError
from ..resources import OwnedFactor, interruptible

log = logging.getLogger(__name__)

# Unknowns above which "auto" uses AMG-CG, by direct solver (benchmarks/solvers.py, 2 cores):
# SuperLU loses to AMG-CG from ~50k unknowns (61k in 2D: 1.12 s vs 0.65 s; 56k in 3D: 15.4 s
# vs 1.5 s); PARDISO still wins at 970k in 2D (14.2 s vs 20.4 s) and ties at 56k in 3D.
DIRECT_LIMIT = {"superlu": 50_000, "pardiso": 200_000}
PIVOT_RATIO = 1e-12         # smallest/largest pivot below this: singular (1e-14 seen for
                            # free rigid modes, 2.5e-10 for a legitimate 1e-9 stiffness contrast)
DIRECT_RESIDUAL = 1e-6      # backward-stable direct solves give ~1e-14
METHODS = ("auto", "direct", "superlu", "pardiso", "amg")
# SuperLU for symmetric positive definite matrices: a symmetric ordering and diagonal pivots
# keep the fill of a Cholesky (partial pivoting on SIMP's 1e9 stiffness contrast multiplied
# the fill by ~8: 1.66 s against 0.06 s at 11k unknowns)
SPD_SPLU = {"permc_spec": "MMD_AT_PLUS_A", "diag_pivot_thresh": 0.0,
            "options": {"SymmetricMode": True}}


def one_blas_thread(function):
    """Run ``function`` with the BLAS (OpenBLAS, MKL) limited to one thread.

    The solvers here are sparse; their dense work is on small blocks (an interface's Schur
    complement, Krylov vectors), where OpenBLAS's threads cost more to wake than they save
    and then spin on the core the other work needs. Measured on this 2-core machine: a
    frictional-slip level of 15k triangles took 49 s with two BLAS threads and 8.7 s with one;
    a phase-field study 100 s and 87 s; multigrid CG at 80k unknowns 230 ms and 131 ms. Run
    side by side in a pool or on a cluster, one thread per process is what the cores allow
    anyway."""
    @functools.wraps(function)
    def limited(*args, **kwargs):
        with threadpool_limits(1, user_api="blas"):
            return function(*args, **kwargs)
    return limited


def has_pardiso():
    """Whether pypardiso is installed."""
    return importlib.util.find_spec("pypardiso") is not None


def _split_modes(near_null_space, mode_names):
    """Accept ``rigid_body_modes(basis)`` as returned, a ``(modes, names)`` pair."""
    if isinstance(near_null_space, tuple) and len(near_null_space) == 2 \
            and isinstance(near_null_space[1], list):
        near_null_space, names = near_null_space
        mode_names = mode_names or names
    return near_null_space, mode_names


def _check_system(A, b):
    if not sp.issparse(A):
        raise ParameterError(f"A must be a scipy sparse matrix, got {type(A).__name__}")
    if A.shape[0] != A.shape[1]:
        raise ParameterError(f"A must be square, got shape {A.shape}")
    b = np.asarray(b, dtype=np.float64)
    if b.shape != (A.shape[0],):
        raise ParameterError(f"b must have shape ({A.shape[0]},), got {b.shape}")
    if not np.isfinite(b).all():
        raise ParameterError("b has non-finite entries")
    A = A.tocsr()
    if not np.isfinite(A.data).all():
        raise ParameterError("A has non-finite entries")
    return A, b


def _check_null_space(A, near_null_space, names):
    """A rigid-body mode that A maps to (almost) zero is a missing support."""
    B = np.asarray(near_null_space, dtype=np.float64).reshape(A.shape[0], -1)
    scale = abs(A).sum(axis=1).max()
    residual = np.linalg.norm(A @ B, axis=0)
    free = residual <= 1e-10 * scale * np.linalg.norm(B, axis=0)
    if free.any():
        labels = [names[i] if names else f"mode {i}" for i in np.nonzero(free)[0]]
        raise SingularSystemError(f"singular system: {', '.join(labels)} not restrained; "
                                  f"add supports (Dirichlet conditions) that fix it")


def _solve_superlu(A, b):
    try:
        owned = OwnedFactor(spla.splu, A.tocsc(), size=A.shape[0])
    except RuntimeError as err:           # "Factor is exactly singular"
        raise SingularSystemError(f"singular system ({err}); check the supports") from err
    with owned:
        pivots = np.abs(owned.factor.U.diagonal())
        ratio = pivots.min() / pivots.max()
        if ratio < PIVOT_RATIO:
            raise SingularSystemError(f"singular system: pivot ratio {ratio:.1e} < "
                                      f"{PIVOT_RATIO:.0e}; a mode is unconstrained (missing "
                                      f"supports?)")
        return owned.solve(b)


def factorize_spd(A):
    """The SuperLU factor of a symmetric positive definite ``A`` (:data:`SPD_SPLU`) as an
    :class:`~fem_reg.resources.OwnedFactor`: interruptible, and freed by the thread that
    made it."""
    return OwnedFactor(spla.splu, A.tocsc(), size=A.shape[0], **SPD_SPLU)


def _solve_pardiso(A, b):
    import pypardiso
    return interruptible(pypardiso.spsolve, A.tocsr(), b, size=A.shape[0])


def _solve_amg(A, b, near_null_space, rtol, x0, maxiter):
    """pyamg smoothed aggregation as the preconditioner of scipy's CG (pyamg's own CG was
    seen to diverge when the tolerance is near the attainable accuracy, ~1M unknowns)."""
    import pyamg
    B = None if near_null_space is None else \
        np.asarray(near_null_space, dtype=np.float64).reshape(A.shape[0], -1)
    ml = pyamg.smoothed_aggregation_solver(A, B=B, symmetry="hermitian", max_coarse=500)
    count = [0]

    def step(_):
        count[0] += 1

    x, _ = spla.cg(A, b, x0=x0, rtol=rtol, maxiter=maxiter, M=ml.aspreconditioner(),
                   callback=step)
    return x, count[0]


def solve_linear(A, b, method="auto", *, near_null_space=None, mode_names=None, rtol=1e-10,
                 x0=None, maxiter=500, direct_limit=None, return_info=False):
    """Solve ``A x = b`` for a sparse symmetric positive (semi)definite ``A``.

    Parameters
    ----------
    A, b
        Sparse matrix and right-hand side (after Dirichlet conditions are applied; see
        :func:`solve_constrained`).
    method
        ``"auto"`` (direct up to ``direct_limit`` unknowns, default ``DIRECT_LIMIT`` of the
        direct solver at hand, AMG-CG above), ``"direct"``
        (PARDISO if installed, else SuperLU), ``"superlu"``, ``"pardiso"``, ``"amg"``.
    near_null_space
        Columns spanning the near null space (rigid-body modes for elasticity, see
        :func:`fem_reg.fe.rigid_body_modes`): used by AMG and to detect missing supports.
    mode_names
        Names of those columns for error messages (``"translation x"``, ...).
    rtol
        Relative residual tolerance of the iterative solver.
    x0
        Initial guess for AMG-CG (warm start).
    maxiter
        Iteration limit of AMG-CG.
    return_info
        Also return a dict with the method used, iterations, residual and seconds.

    Raises
    ------
    SingularSystemError
        Missing supports (a free rigid-body mode) or a zero pivot.
    SolverError
        The relative residual is above tolerance (or AMG-CG did not converge).
    """
    one_of("method", method, METHODS)
    near_null_space, mode_names = _split_modes(near_null_space, mode_names)
    A, b = _check_system(A, b)
    n = A.shape[0]
    start = time.perf_counter()
    if near_null_space is not None:
        _check_null_space(A, near_null_space, mode_names)
    if method == "auto":
        if direct_limit is None:
            direct_limit = DIRECT_LIMIT["pardiso" if has_pardiso() else "superlu"]
        method = "direct" if n <= direct_limit else "amg"
    if method == "direct":
        method = "pardiso" if has_pardiso() else "superlu"
    if method == "pardiso" and not has_pardiso():
        raise ParameterError("method 'pardiso' needs pypardiso: pip install 'fem-reg[fast]'")

    bnorm = np.linalg.norm(b)
    iterations = 0
    if bnorm == 0.0:
        x = np.zeros(n)
    elif method == "superlu":
        x = _solve_superlu(A, b)
    elif method == "pardiso":
        x = _solve_pardiso(A, b)
    else:
        x, iterations = _solve_amg(A, b, near_null_space, rtol, x0, maxiter)

    residual = np.linalg.norm(b - A @ x) / bnorm if bnorm else 0.0
    limit = DIRECT_RESIDUAL if method != "amg" else max(10 * rtol, 1e-12)
    if not np.isfinite(residual) or residual > limit:
        if method == "amg" and iterations >= maxiter:
            raise SolverError(f"AMG-CG did not converge in {maxiter} iterations (relative "
                              f"residual {residual:.2e} > {limit:.0e}); try method='direct' or "
                              f"check the supports")
        raise SingularSystemError(f"{method} solve failed: relative residual {residual:.2e} "
                                  f"> {limit:.0e}; the system is singular or nearly so (missing "
                                  f"supports?)")
    seconds = time.perf_counter() - start
    log.debug("solve_linear: %s, n=%d, iterations=%d, residual=%.2e, %.3fs",
              method, n, iterations, residual, seconds)
    if return_info:
        return x, {"method": method, "unknowns": n, "iterations": iterations,
                   "residual": float(residual), "seconds": seconds}
    return x


def skfem_solver(**options):
    """:func:`solve_linear` as a ``solver=`` for :func:`skfem.solve`.

    The returned callable records the solve's info dict in its ``info`` attribute.

    >>> import skfem
    >>> from skfem.models.poisson import laplace, unit_load
    >>> m = skfem.MeshTri().refined(3)
    >>> basis = skfem.Basis(m, skfem.ElementTriP1())
    >>> solver = skfem_solver(method="superlu")
    >>> u = skfem.solve(*skfem.condense(laplace.assemble(basis), unit_load.assemble(basis),
    ...                                 D=m.boundary_nodes()), solver=solver)
    >>> peak = 0.0736713                    # -lap u = 1 on the unit square (series solution)
    >>> bool(abs(u.max() - peak) < 0.002), solver.info["method"]
    (True, 'superlu')
    """
    def solver(A, b, **_):
        x, solver.info = solve_linear(A, b, return_info=True, **options)
        return x

    solver.info = {}
    return solver


def solve_constrained(A, b, fixed_dofs, fixed_values=None, *, near_null_space=None, **options):
    """Solve with Dirichlet conditions ``x[fixed_dofs] = fixed_values`` by elimination.

    The elimination is :func:`skfem.condense` and :func:`skfem.solve`; fem_reg adds what they
    leave to the caller: checked DOF indices and values, the rigid-body modes and a warm start
    restricted to the free DOFs, and :func:`solve_linear`'s residual and missing-support
    checks (skfem's default solver returns whatever SuperLU gives).

    Parameters
    ----------
    A, b
        Assembled matrix and load vector.
    fixed_dofs
        Indices of constrained unknowns.
    fixed_values
        Full-length vector whose ``fixed_dofs`` entries give the prescribed values (default 0),
        or an array of length ``len(fixed_dofs)``.
    near_null_space
        Rigid-body modes on all unknowns; restricted to the free ones here.
    options
        Passed to :func:`solve_linear`.
    """
    n = A.shape[0]
    if np.shape(b) != (n,):
        raise ParameterError(f"b must have shape ({n},), got {np.shape(b)}")
    fixed = np.unique(np.asarray(fixed_dofs, dtype=np.int64))
    if fixed.size and (fixed[0] < 0 or fixed[-1] >= n):
        raise ParameterError(f"fixed_dofs must be in 0..{n - 1}")
    x = np.zeros(n)
    if fixed_values is not None:
        values = np.asarray(fixed_values, dtype=np.float64)
        if values.shape == (n,):
            x[fixed] = values[fixed]
        elif values.shape == (len(np.asarray(fixed_dofs)),):
            x[np.asarray(fixed_dofs)] = values
        else:
            raise ParameterError(f"fixed_values must have length {n} or {len(fixed)}")
    A_free, b_free, x, free = skfem.condense(A.tocsr(), np.asarray(b, dtype=np.float64), x=x,
                                             D=fixed)
    if options.get("x0") is not None and len(options["x0"]) == n:
        options["x0"] = np.asarray(options["x0"])[free]
    near_null_space, options["mode_names"] = _split_modes(near_null_space,
                                                          options.pop("mode_names", None))
    if near_null_space is not None:
        options["near_null_space"] = np.asarray(near_null_space).reshape(n, -1)[free]
    return_info = options.pop("return_info", False)
    solver = skfem_solver(**options)
    x = skfem.solve(A_free, b_free, x, free, solver=solver)
    return (x, solver.info) if return_info else x


class ReusedFactorization:
    """Solves a sequence of nearby symmetric positive definite systems (a staggered scheme's
    stiffnesses as the damage creeps): CG preconditioned by the SuperLU factor of an earlier
    matrix of the sequence, which is exact for that matrix and close for its neighbours.

    A factor is replaced when CG does not converge in ``max_iterations`` iterations, and once
    the CG iterations it has preconditioned exceed ``budget``: an iteration costs about a
    triangular solve, and a 2D factorization some 40 of them, so renting the old factor
    beyond that costs more than buying a new one (the ski-rental rule: at most twice the
    best policy's work). ``factorizations`` and ``iterations`` (CG's) count the work."""

    def __init__(self, rtol=1e-10, max_iterations=30, budget=40):
        self.rtol, self.max_iterations, self.budget = rtol, max_iterations, budget
        self.factorizations = self.iterations = 0
        self._owned = None
        self._rented = 0                         # CG iterations on the current factor

    def solve(self, A, b, x0=None):
        A = A.tocsr()
        if self._owned is not None and self._rented <= self.budget:
            count = [0]

            def step(_):
                count[0] += 1

            M = spla.LinearOperator(A.shape, self._owned.solve, dtype=np.float64)
            x, info = spla.cg(A, b, x0=x0, rtol=self.rtol, maxiter=self.max_iterations, M=M,
                              callback=step)
            self.iterations += count[0]
            self._rented += count[0]
            if info == 0:
                return x
        if self._owned is not None:
            self._owned.close()
        self._rented = 0
        try:
            self._owned = factorize_spd(A)
        except RuntimeError as err:           # "Factor is exactly singular"
            self._owned = None
            raise SingularSystemError(f"singular system ({err}); check the supports") from err
        self.factorizations += 1
        x = self._owned.solve(b)
        norm = np.linalg.norm(b)
        residual = np.linalg.norm(b - A @ x) / norm if norm else 0.0
        if not np.isfinite(residual) or residual > DIRECT_RESIDUAL:
            raise SingularSystemError(f"direct solve failed: relative residual "
                                      f"{residual:.2e}; the system is singular or nearly so "
                                      f"(missing supports?)")
        return x
