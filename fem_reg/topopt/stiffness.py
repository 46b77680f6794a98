"""SIMP stiffness assembled from element matrices computed once, and its linear solver.

Every optimization iteration only rescales: ``K(s) = sum_e s_e K_e`` over the free unknowns,
with the element matrices ``K_e`` (unit stiffness factor) and the map from element entries to
the CSR data array built in the constructor. On meshes whose cells are all translates of one
cell (structured grids) a single element matrix is stored.

The solver (:class:`StiffnessSolver`) is direct (PARDISO if installed, else SuperLU) below a
size limit, else CG preconditioned by smoothed-aggregation AMG whose prolongators are built
once from the solid structure and whose coarse operators are recomputed (Galerkin) for each
new stiffness - the approach of Amir, Aage & Lazarov (2014, SMO 50) with algebraic instead of
geometric coarsening - and warm-started from the previous displacement.
"""

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from skfem import Basis
from skfem.assembly import Dofs

from ..checks import one_of
from ..errors import ParameterError, SolverError
from ..fe import DIRECT_LIMIT, elasticity_form, has_pardiso, lagrange
from ..fe.multigrid import first_cell_matrix
from ..fe.solvers import factorize_spd, one_blas_thread
from ..fe.pattern import CellSum

METHODS = ("auto", "direct", "multigrid", "amg")
# CG's relative residual: with the multigrid at 1e-5 the compliance agrees with a direct solve
# to 1e-11 and its sensitivities to 1.5e-6 (tests/test_multigrid.py); AMG as before
RTOL = {"direct": 0.0, "multigrid": 1e-5, "amg": 1e-8}

# Unknowns up to which "auto" solves directly, by (direct solver, dimension). PARDISO's
# symmetric positive definite factorization with the ordering computed once
# (benchmarks/topopt_large.py, 2 cores): 2D 241k unknowns 0.41 s vs AMG-CG 1.32 s per
# iteration, 2.0M unknowns 5.3 s; 3D 58k unknowns 1.23 s vs 1.90 s. SuperLU: as for any solve
# (fem_reg.fe.DIRECT_LIMIT).
DIRECT_LIMIT_SIMP = {("pardiso", 2): 3_000_000, ("pardiso", 3): 100_000,
                     ("superlu", 2): DIRECT_LIMIT["superlu"], ("superlu", 3): 5_000}
# Geometric multigrid, where the mesh allows it, beats every other solver from a few thousand
# unknowns (docs/topopt.md, "Solvers": 2D 15k unknowns 0.03 s vs SuperLU 0.10 s per
# iteration; 3D 5.8k 0.024 s vs SuperLU 0.23 s and AMG 0.11 s)
MULTIGRID_FROM = 2_000
# Unknowns from which the multigrid's fine operator is matrix-free (no assembled stiffness;
# fem_reg.fe.multigrid.GridOperator). Measured per iteration (first iteration, which builds
# the CSR pattern, in brackets), CSR against matrix-free: MBB 150x50 (15k unknowns) 0.033
# (0.10) s against 0.038 (0.045) s; 300x100 0.120 (0.34) against 0.097 (0.086); 3D 60x20x20
# (79k) 0.24 (3.2) against 0.18 (0.19), peak memory 0.85 against 0.33 GB; 96x32x32 (314k)
# 1.29 (21.5) against 0.82 (0.54), 3.2 against 0.85 GB.
MATRIX_FREE_FROM = 30_000


def _translates(mesh):
    """Whether every cell is a translate of the first (same vertex offsets, same order)."""
    corners = mesh.p[:, mesh.t]                               # (dim, nverts, ncells)
    offsets = corners - corners[:, :1, :]
    scale = np.ptp(mesh.p, axis=1).max()
    return bool(np.abs(offsets - offsets[:, :, :1]).max() <= 1e-10 * scale)


class SimpStiffness:
    """``K(s)`` on the free unknowns of a vector Lagrange elasticity discretization.

    Parameters
    ----------
    mesh
        scikit-fem mesh (triangles, quadrilaterals, tetrahedra, hexahedra).
    material
        :class:`~fem_reg.fe.Material` of the solid (``K_e`` are for ``s_e = 1``).
    fixed
        Constrained unknowns (homogeneous: supports).
    dofs
        The ``skfem.assembly.Dofs`` of the vector Lagrange element (its element is used);
        without them, the element of ``order`` (1 or 2).
    """

    def __init__(self, mesh, material, fixed, dofs=None, order=1):
        dofs = Dofs(mesh, lagrange(mesh, order, vector=True)) if dofs is None else dofs
        self.element = dofs.element
        self.dofs = dofs.element_dofs                             # (nb, ncells)
        self.ndofs = int(self.dofs.max()) + 1
        nb, ncells = self.dofs.shape
        form = elasticity_form(material)
        if _translates(mesh):
            ke = first_cell_matrix(form, mesh, self.element)[:, :, None]
        else:
            ke = np.transpose(form.elemental(Basis(mesh, self.element)).data.reshape(
                nb, nb, ncells), (1, 0, 2))
        self.ke = np.ascontiguousarray(ke)                          # ke[i, j, e]
        self.uniform = ke.shape[2] == 1

        fixed = np.unique(np.asarray(fixed, dtype=np.int64))
        self.free = np.setdiff1d(np.arange(self.ndofs), fixed)
        if self.free.size == 0:
            raise ParameterError("every unknown is fixed: nothing to optimize")
        self._assembly = None        # built on the first matrix(): a matrix-free solve needs none

    @property
    def nfree(self):
        return self.free.size

    def matrix(self, scale):
        """``sum_e scale_e K_e`` on the free unknowns (CSR)."""
        if self._assembly is None:
            self._assembly = CellSum(self.dofs, self.ndofs, self.ke, free=self.free)
        return self._assembly.matrix(scale)

    def expand(self, u_free):
        """Full-length vector(s) from values on the free unknowns (zeros where fixed)."""
        u_free = np.asarray(u_free)
        u = np.zeros((self.ndofs,) + u_free.shape[1:])
        u[self.free] = u_free
        return u

    def energies(self, u):
        """``u_e^T K_e u_e`` per cell for a full-length ``u``."""
        ue = u[self.dofs]                                          # (nb, ncells)
        if self.uniform:
            return np.einsum("ie,ie->e", self.ke[:, :, 0] @ ue, ue)
        return np.einsum("ije,ie,je->e", self.ke, ue, ue)


class StiffnessSolver:
    """Solve ``K U = F`` (several right-hand sides) for a sequence of SIMP stiffnesses.

    Parameters
    ----------
    method
        ``"auto"`` (geometric multigrid where the mesh is a grid of equal boxes, from
        :data:`MULTIGRID_FROM` unknowns; else direct up to :data:`DIRECT_LIMIT_SIMP`
        unknowns, else AMG), ``"direct"``, ``"multigrid"`` (CG preconditioned by
        :class:`fem_reg.fe.multigrid.Multigrid`) or ``"amg"``.
    dim
        Space dimension (the direct solver's reach depends on it).
    near_null_space
        Rigid-body modes on the free unknowns (AMG's near null space).
    rtol
        Relative residual of CG (default :data:`RTOL` of the method).
    multigrid
        A function returning the :class:`fem_reg.fe.multigrid.Multigrid` of the problem, or
        ``None`` when the mesh is not a grid of equal boxes that halves at least once.
    """

    def __init__(self, n, method="auto", near_null_space=None, rtol=None, maxiter=1000, dim=2,
                 multigrid=None, matrix_free=None):
        one_of("solver", method, METHODS)
        limit = DIRECT_LIMIT_SIMP["pardiso" if has_pardiso() else "superlu", dim]
        if method == "multigrid" and multigrid is None:
            raise ParameterError("solver = \"multigrid\" needs a structured mesh of equal "
                                 "quadrilaterals or hexahedra whose cell counts halve down "
                                 "to a coarse grid (e.g. 216x72x72, not 200x100x50; "
                                 "fem-reg mesh make ... --structured), P1 displacement")
        if method == "auto":
            method = "multigrid" if multigrid and n >= MULTIGRID_FROM else \
                "direct" if n <= limit else "amg"
        self.method = method
        if matrix_free is None:
            matrix_free = n >= MATRIX_FREE_FROM
        self.multigrid = multigrid(matrix_free=matrix_free) if method == "multigrid" else None
        self.B = near_null_space
        if rtol is None:
            rtol = RTOL[method]
        self.rtol = rtol
        self.maxiter = maxiter
        self.hierarchy = None
        self._spd = None
        self.iterations = 0                 # CG iterations of the last solve (all loads)

    @property
    def matrix_free(self):
        """Whether :meth:`solve` takes no matrix (``K = None``): the multigrid's fine
        operator is a :class:`fem_reg.fe.multigrid.GridOperator`."""
        return self.multigrid is not None and self.multigrid.matrix_free

    def _pardiso(self, K, F):
        """PARDISO's symmetric positive definite solver on the upper triangle, with the
        symbolic analysis (ordering) done once for the fixed sparsity pattern."""
        from pypardiso import PyPardisoSolver
        from pypardiso.pardiso_wrapper import PyPardisoError
        if self._spd is None:
            rows = np.repeat(np.arange(K.shape[0]), np.diff(K.indptr))
            upper = K.indices >= rows
            indptr = np.zeros_like(K.indptr)
            np.cumsum(np.bincount(rows[upper], minlength=K.shape[0]), out=indptr[1:])
            self._spd = (PyPardisoSolver(mtype=2), upper, K.indices[upper], indptr, False)
        solver, upper, indices, indptr, analysed = self._spd
        A = sp.csr_matrix((K.data[upper], indices, indptr), shape=K.shape)
        b = F.reshape(F.shape[0], -1)
        try:
            solver._check_A(A)
            b = solver._check_b(A, b)
            if not analysed:
                solver.set_phase(11)
                solver._call_pardiso(A, b)
                self._spd = self._spd[:4] + (True,)
            solver.set_phase(23)
            U = solver._call_pardiso(A, b)
        except PyPardisoError as err:
            raise SolverError(f"PARDISO failed ({err}): is the stiffness positive definite "
                              f"(supports enough to prevent rigid motion)?") from None
        return U.reshape(F.shape)

    def setup(self, K_solid):
        """Build the AMG prolongators from the solid stiffness (no-op for direct)."""
        if self.method != "amg":
            return
        import pyamg
        ml = pyamg.smoothed_aggregation_solver(K_solid, B=self.B, symmetry="hermitian",
                                               max_coarse=500, keep=False)
        self.hierarchy = [(level.P.tocsr(), level.R.tocsr()) for level in ml.levels[:-1]]

    def _preconditioner(self, K):
        from pyamg.multilevel import MultilevelSolver
        from pyamg.relaxation.smoothing import change_smoothers
        levels, A = [], K
        for P, R in self.hierarchy:
            level = MultilevelSolver.Level()
            level.A, level.P, level.R = A, P, R
            levels.append(level)
            A = (R @ (A @ P)).tocsr()
        last = MultilevelSolver.Level()
        last.A = A
        levels.append(last)
        ml = MultilevelSolver(levels, coarse_solver="pinv")
        smoother = ("block_gauss_seidel", {"sweep": "symmetric"})
        change_smoothers(ml, smoother, smoother)
        return ml.aspreconditioner()

    def solve(self, K, F, U0=None, scale=None):
        """``U`` with the shape of ``F`` (``(n,)`` or ``(n, nloads)``); ``scale``: the cell
        factors of ``K`` (the multigrid's coarse levels are built from them)."""
        F = np.asarray(F, dtype=np.float64)
        if self.method == "direct":
            # SuperLU with diagonal pivots in symmetric mode (fe.solvers.SPD_SPLU)
            if has_pardiso():
                U = self._pardiso(K, F)
            else:
                with factorize_spd(K) as owned:
                    U = owned.solve(F)
            residual = np.linalg.norm(K @ U - F) / max(np.linalg.norm(F), 1e-300)
            if not np.isfinite(residual) or residual > 1e-6:
                raise SolverError(f"direct solve failed (relative residual {residual:.2e}): "
                                  f"are the supports enough to prevent rigid motion?")
            return U
        return self._iterate(K, F, U0, scale)

    @one_blas_thread          # not the direct path: PARDISO's threads are MKL's
    def _iterate(self, K, F, U0, scale):
        A = K
        if self.multigrid is not None:
            self.multigrid.update(K, scale)
            M, A = self.multigrid.preconditioner(), self.multigrid.operators[0]
        else:
            if self.hierarchy is None:
                self.setup(K)
            M = self._preconditioner(K)
        columns = F.reshape(F.shape[0], -1)
        start = None if U0 is None else np.asarray(U0).reshape(columns.shape)
        U = np.empty_like(columns)
        self.iterations = 0
        for k in range(columns.shape[1]):
            count = [0]

            def step(_, count=count):
                count[0] += 1

            U[:, k], info = spla.cg(A, columns[:, k], x0=None if start is None else start[:, k],
                                    rtol=self.rtol, maxiter=self.maxiter, M=M, callback=step)
            self.iterations += count[0]
            if info != 0:
                raise SolverError(f"{self.method}-CG did not converge in {self.maxiter} iterations "
                                  f"(load case {k + 1}); try solver = \"direct\"")
        return U.reshape(F.shape)
