"""Density filtering and projection, each with its adjoint.

* :class:`HelmholtzFilter`: the PDE filter ``-r^2 lap rho_f + rho_f = rho`` with zero normal
  flux (Lazarov & Sigmund 2011, IJNME 86), element densities in, element averages of the
  continuous P1 (Q1) filtered field out: ``rho_bar = A K^{-1} M rho``. ``K`` is factorized
  once per mesh; the adjoint ``M^T K^{-1} A^T`` reuses it (``K`` is symmetric).
  The Helmholtz radius ``r`` relates to the classic cone-filter radius ``R`` by
  ``r = R / (2 sqrt 3)`` (same second moment of the filter kernel in 1D; Lazarov & Sigmund).
* :class:`DensityFilter`: the classic distance-weighted (cone) filter of radius ``R``
  (Bruns & Tortorelli 2001; Bourdin 2001), ``rho_bar_i = sum_j w_ij v_j rho_j / sum_j w_ij v_j``
  with ``w_ij = max(0, R - |c_i - c_j|)`` between cell centroids and ``v_j`` the cell volumes;
  on a uniform grid it is the ``ft = 2`` filter of the 88-line code (Andreassen et al. 2011).
  :meth:`DensityFilter.sensitivities` is that code's ``ft = 1`` sensitivity filter (Sigmund
  1997), a heuristic kept for comparison with the literature.
* :func:`heaviside`: the tanh projection of Wang, Lazarov & Sigmund (2011) with threshold
  ``eta`` and sharpness ``beta``, and its derivative.
"""

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.spatial import cKDTree
from skfem import (Basis, BilinearForm, ElementHex0, ElementQuad0, ElementTetP0, ElementTriP0,
                   MeshHex1, MeshQuad1, MeshTet1, MeshTri1)

from ..checks import number, positive
from ..errors import ParameterError
from ..fe import helmholtz, lagrange
from ..fe.solvers import factorize_spd
from ..fe.multigrid import BoxGrid, Multigrid, first_cell_matrix

CELL_CONSTANT = {MeshTri1: ElementTriP0, MeshQuad1: ElementQuad0, MeshTet1: ElementTetP0,
                 MeshHex1: ElementHex0}


def helmholtz_radius(classic_radius):
    """The Helmholtz-filter radius equivalent to a classic (cone) filter radius."""
    return positive("classic_radius", classic_radius) / (2.0 * np.sqrt(3.0))


# Nodes of a 3D grid of boxes above which the filter is solved by multigrid-CG instead of
# factorized: at 198k nodes (192k hexahedra) the factorization had not finished in 10 min
ITERATIVE_FILTER_FROM = 20_000


class HelmholtzFilter:
    """``rho -> rho_bar`` on one mesh: its operator factorized once, or on large 3D grids of
    boxes solved by CG preconditioned by geometric multigrid (relative residual 1e-10, so
    the filter and its adjoint stay consistent to that accuracy).

    Parameters
    ----------
    mesh
        scikit-fem mesh (triangles, quadrilaterals, tetrahedra or hexahedra).
    radius
        Helmholtz radius ``r`` in the mesh's length unit (see :func:`helmholtz_radius`).
    solver
        ``"auto"`` (multigrid on 3D grids of boxes above :data:`ITERATIVE_FILTER_FROM`
        nodes, else direct), ``"direct"`` or ``"multigrid"``.
    """

    def __init__(self, mesh, radius, solver="auto"):
        if type(mesh) not in CELL_CONSTANT:
            raise ParameterError(f"no density filter for {type(mesh).__name__}")
        self.radius = positive("radius", radius)
        nodal = Basis(mesh, lagrange(mesh, 1))
        cells = Basis(mesh, CELL_CONSTANT[type(mesh)](), quadrature=nodal.quadrature)
        K = helmholtz(radius).assemble(nodal)
        self.M = BilinearForm(lambda u, v, w: u * v).assemble(cells, nodal).tocsr()
        volume = np.asarray(self.M.sum(axis=0)).ravel()                 # |cell|
        self.A = (self.M.T.multiply(1.0 / volume[:, None])).tocsr()
        self.volume = volume
        large = mesh.dim() == 3 and mesh.nvertices > ITERATIVE_FILTER_FROM
        grid = BoxGrid.of(mesh) if solver == "multigrid" or (solver == "auto" and large) \
            else None
        if solver == "multigrid" and (grid is None or grid.levels() == 0):
            raise ParameterError("a multigrid filter needs a grid of equal boxes that halves")
        if grid is not None and grid.levels() > 0:
            self._solve = _multigrid_solver(mesh, nodal, K, radius, grid)
        else:
            self._solve = factorize_spd(K).solve

    def __call__(self, rho):
        """Filtered element densities."""
        rho = np.asarray(rho, dtype=np.float64)
        if rho.shape != (self.M.shape[1],):
            raise ParameterError(f"rho has shape {rho.shape}; the mesh has "
                                 f"{self.M.shape[1]} cells")
        return self.A @ self._solve(self.M @ rho)

    def adjoint(self, gradient):
        """``d(f(filter(rho)))/d rho`` from ``d f / d rho_bar``."""
        return self.M.T @ self._solve(self.A.T @ np.asarray(gradient, dtype=np.float64))


def _multigrid_solver(mesh, nodal, K, radius, grid):
    """``b -> K^-1 b`` by multigrid-CG; the cells are equal boxes, so one element matrix."""
    ke = first_cell_matrix(helmholtz(radius), mesh, nodal.elem)
    multigrid = Multigrid(grid, ke, nodal.nodal_dofs, np.arange(K.shape[0]))
    multigrid.update(K.tocsr(), np.ones(mesh.nelements))
    A, M = multigrid.operators[0], multigrid.preconditioner()

    def solve(b):
        x, info = spla.cg(A, b, rtol=1e-10, maxiter=500, M=M)
        if info != 0:
            raise ParameterError("the Helmholtz filter's multigrid-CG did not converge")
        return x

    return solve


def cell_volumes(mesh):
    """Cell areas (2D) or volumes (3D)."""
    basis = Basis(mesh, CELL_CONSTANT[type(mesh)]())
    return np.asarray(basis.dx.sum(axis=1))


class DensityFilter:
    """The classic cone filter of radius ``R`` (mesh length units) between cell centroids.

    The weights are a sparse matrix built once with a k-d tree; the filter and its adjoint
    are one sparse product each.
    """

    def __init__(self, mesh, radius):
        if type(mesh) not in CELL_CONSTANT:
            raise ParameterError(f"no density filter for {type(mesh).__name__}")
        self.radius = positive("radius", radius)
        centroids = mesh.p[:, mesh.t].mean(axis=1).T
        tree = cKDTree(centroids)
        pairs = tree.sparse_distance_matrix(tree, radius, output_type="ndarray")
        weights = np.maximum(0.0, radius - pairs["v"])
        n = mesh.nelements
        W = sp.csr_matrix((weights, (pairs["i"], pairs["j"])), shape=(n, n))
        self.volume = cell_volumes(mesh)
        WV = W @ sp.diags(self.volume)
        self.H = sp.diags(1.0 / np.asarray(WV.sum(axis=1)).ravel()) @ WV     # rows sum to 1
        self.W = W
        self._w_sum = np.asarray(W.sum(axis=1)).ravel()
        self.HT = self.H.T.tocsr()

    def __call__(self, rho):
        rho = np.asarray(rho, dtype=np.float64)
        if rho.shape != (self.H.shape[1],):
            raise ParameterError(f"rho has shape {rho.shape}; the mesh has "
                                 f"{self.H.shape[1]} cells")
        return self.H @ rho

    def adjoint(self, gradient):
        return self.HT @ np.asarray(gradient, dtype=np.float64)

    def sensitivities(self, x, dc):
        """Sigmund's sensitivity filter ``sum_j w_ij x_j dc_j / (max(1e-3, x_i) sum_j w_ij)``
        (not the gradient of anything; OC only)."""
        return (self.W @ (x * dc)) / (np.maximum(1e-3, x) * self._w_sum)


def heaviside(x, beta, eta=0.5):
    """Smoothed Heaviside projection and its derivative ``(value, d value / d x)``."""
    beta = positive("beta", beta)
    eta = number("eta", eta, low=0.0, high=1.0)
    denominator = np.tanh(beta * eta) + np.tanh(beta * (1.0 - eta))
    t = np.tanh(beta * (np.asarray(x, dtype=np.float64) - eta))
    return (np.tanh(beta * eta) + t) / denominator, beta * (1.0 - t ** 2) / denominator
