"""Geometric multigrid for Q1 fields (vector or scalar) on structured grids of boxes.

A mesh of equal, axis-aligned quadrilaterals or hexahedra is an ``nx x ny (x nz)`` grid
(:class:`BoxGrid`). Halving it while the cell counts stay even gives a hierarchy whose
prolongation is bilinear/trilinear interpolation of the nodal values. The coarse operators
are Galerkin products ``P^T A P`` computed cell by cell: each coarse cell's matrix is the sum
of its children's matrices mapped by the interpolation inside it (exact, because a child's
nodal values depend only on its parent's corners), so a coarse level costs a small dense
product per cell instead of a sparse triple product (Amir, Aage & Lazarov 2014, SMO 49:
multigrid-preconditioned CG for topology optimization).

:class:`Multigrid` is a symmetric V-cycle (damped Jacobi smoothing, a sparse Cholesky-like
LU on the coarsest grid) for use as the preconditioner of CG.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.spatial import cKDTree
from skfem import Basis

from ..errors import ParameterError, SolverError
from .pattern import csr_pattern
from .solvers import SPD_SPLU


@dataclass(frozen=True)
class BoxGrid:
    """A structured grid of equal boxes: cells per direction, and the mesh's vertex and cell
    numbers in grid order (x fastest)."""

    shape: tuple
    vertices: np.ndarray        # mesh vertex of grid node (i, j, k), flattened x-fastest
    cells: np.ndarray           # mesh cell of grid cell (i, j, k), flattened x-fastest
    corners: np.ndarray         # (nverts_per_cell, dim) offsets in {0, 1} of a cell's nodes

    @classmethod
    def of(cls, mesh):
        """The grid a quadrilateral or hexahedral mesh is, or ``None`` if it is not one."""
        dim = mesh.dim()
        if mesh.t.shape[0] != 2 ** dim or dim < 2:
            return None
        tolerance = 1e-8 * np.ptp(mesh.p, axis=1).max()
        axes, index = zip(*(_levels_of(mesh.p[d], tolerance) for d in range(dim)))
        shape = tuple(len(a) - 1 for a in axes)
        if np.prod([n + 1 for n in shape]) != mesh.nvertices or \
                np.prod(shape) != mesh.nelements:
            return None
        steps = [np.diff(a) for a in axes]
        if any(np.ptp(s) > 1e-9 * s.mean() for s in steps):
            return None
        node = _flat(index, [n + 1 for n in shape])
        vertices = np.full(mesh.nvertices, -1, dtype=np.int64)
        vertices[node] = np.arange(mesh.nvertices)
        low = [index[d][mesh.t].min(axis=0) for d in range(dim)]
        offsets = np.stack([index[d][mesh.t] - low[d] for d in range(dim)], axis=-1)
        if offsets.max() > 1 or (offsets != offsets[:, :1]).any():
            return None              # cells are not unit boxes with one node order
        cells = np.full(mesh.nelements, -1, dtype=np.int64)
        cells[_flat(low, shape)] = np.arange(mesh.nelements)
        if (vertices < 0).any() or (cells < 0).any():
            return None
        return cls(shape, vertices, cells, offsets[:, 0, :])

    @property
    def dim(self):
        return len(self.shape)

    def levels(self, smallest=2):
        """How many times the grid halves with even cell counts and at least ``smallest``
        cells per direction left."""
        shape, count = np.array(self.shape), 0
        while (shape % 2 == 0).all() and (shape // 2 >= smallest).all():
            shape //= 2
            count += 1
        return count


    def coarsest_nodes(self, smallest=2):
        """Nodes of the coarsest grid of the full hierarchy (:meth:`levels` halvings)."""
        return int(np.prod(np.array(self.shape) // 2 ** self.levels(smallest) + 1))


# Nodes of the coarsest grid above which a multigrid is not offered: its sparse LU would
# dominate (a 200x100x50 grid halves once, leaving 134,000 nodes)
COARSEST_NODES_LIMIT = 10_000


def first_cell_matrix(form, mesh, element):
    """The matrix ``ke[i, j]`` of ``form`` on the mesh's first cell: the matrix of every
    cell when the cells are translates of one (grids of equal boxes)."""
    one = type(mesh)(mesh.p[:, mesh.t[:, 0]], np.arange(mesh.t.shape[0])[:, None])
    basis = Basis(one, element)
    return form.elemental(basis).data.reshape(basis.Nbfun, basis.Nbfun).T


def _levels_of(x, tolerance):
    """The distinct values of coordinates ``x`` (those closer than ``tolerance`` are one:
    gmsh's grids carry 1e-12 jitter) and the index of each coordinate among them."""
    order = np.argsort(x)
    new = np.concatenate(([True], np.diff(x[order]) > tolerance))
    index = np.empty(len(x), dtype=np.int64)
    index[order] = np.cumsum(new) - 1
    return x[order][new], index


def _flat(index, shape):
    """x-fastest flat index of grid positions ``index`` (one array per direction)."""
    flat, stride = 0, 1
    for i, n in zip(index, shape):
        flat = flat + np.asarray(i) * stride
        stride *= n
    return flat


def _interpolation_1d(n_coarse_cells):
    """Nodal linear interpolation from ``n + 1`` coarse nodes to ``2n + 1`` fine ones."""
    n = n_coarse_cells
    rows = np.concatenate((2 * np.arange(n + 1), 2 * np.arange(n) + 1, 2 * np.arange(n) + 1))
    cols = np.concatenate((np.arange(n + 1), np.arange(n), np.arange(n) + 1))
    values = np.concatenate((np.ones(n + 1), np.full(2 * n, 0.5)))
    return sp.csr_matrix((values, (rows, cols)), shape=(2 * n + 1, n + 1))


def _coarsen(shape, free, dim, components):
    """One halving of a grid of ``shape`` cells whose node-major DOFs are ``free`` (bool):
    each coarse cell's children (fine grid cells), the interpolation from the coarse DOFs to
    all fine DOFs (free coarse columns only), which coarse DOFs are free (those whose node
    coincides with a free fine DOF), and the coarse cells' free DOF numbers (-1 fixed)."""
    coarse = shape // 2
    parents = np.arange(np.prod(coarse))
    ijk = np.unravel_index(parents, tuple(coarse[::-1]))[::-1]            # x fastest
    corners = _grid_corners(dim)
    children = np.stack([_flat([2 * ijk[d] + corner[d] for d in range(dim)], shape)
                         for corner in corners], axis=1)
    P = _interpolation_1d(coarse[0])
    for d in range(1, dim):
        P = sp.kron(_interpolation_1d(coarse[d]), P, format="csr")
    P = sp.kron(P, sp.identity(components), format="csr")
    nodes = np.unravel_index(np.arange(np.prod(coarse + 1)), tuple((coarse + 1)[::-1]))[::-1]
    coincident = _flat([2 * i for i in nodes], shape + 1)
    coarse_free = free.reshape(-1, components)[coincident].reshape(-1)
    numbering = np.full(coarse_free.size, -1, dtype=np.int64)
    numbering[coarse_free] = np.arange(coarse_free.sum())
    cell_nodes = _flat([ijk[d][:, None] + corners[None, :, d] for d in range(dim)], coarse + 1)
    cell_dofs = numbering[(components * cell_nodes[:, :, None] + np.arange(components))
                          .reshape(len(parents), -1)]
    return children, P[:, coarse_free], coarse_free, cell_dofs


def _grid_corners(dim):
    """Corner offsets of a grid cell in fem_reg's coarse-level order (x fastest)."""
    return np.array([[(k >> d) & 1 for d in range(dim)] for k in range(2 ** dim)])


def _child_maps(dim, child_corners, components):
    """``Q[c]``: a child's local DOFs from its parent's, by (bi/tri)linear interpolation,
    for the ``2^dim`` children ``c`` (x fastest); ``child_corners`` orders the child's
    nodes. DOFs are node-major (``dim * node + component``)."""
    parent = _grid_corners(dim)
    maps = []
    for child in _grid_corners(dim):
        xi = (child[None, :] + child_corners) / 2.0                 # child nodes in parent
        weights = np.prod(np.where(parent[None, :, :] == 1, xi[:, None, :],
                                   1.0 - xi[:, None, :]), axis=-1)    # (child node, corner)
        maps.append(np.kron(weights, np.eye(components)))
    return np.array(maps)


def _workers():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)


_POOL = None


def _pool():
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max(1, _workers() - 1), thread_name_prefix="fem_reg spmv")
    return _POOL


class RowBlocks:
    """A CSR matrix whose product with a vector runs on all cores: one block of rows per
    core (scipy's CSR product releases the GIL; measured 1.65x on 2 cores at 80k rows).
    :meth:`update` takes new values on the same sparsity pattern without copying."""

    def __init__(self, A, blocks=None):
        self.count = blocks or _workers()
        self._indices = None
        self.update(A)

    def update(self, A):
        A = A.tocsr()
        if A.indices is not self._indices:
            self.shape = A.shape
            edges = np.searchsorted(A.indptr, np.linspace(0, A.nnz, self.count + 1)[1:-1])
            self.edges = np.concatenate(([0], edges, [A.shape[0]]))
            self.ranges = [(A.indptr[a], A.indptr[b])
                           for a, b in zip(self.edges[:-1], self.edges[1:])]
            # views of the rows: indptr shifted to the block's first entry
            self.blocks = [sp.csr_matrix((A.data[s:e], A.indices[s:e],
                                          A.indptr[a:b + 1] - s), shape=(b - a, A.shape[1]))
                           for (s, e), a, b in zip(self.ranges, self.edges[:-1],
                                                   self.edges[1:])]
            self._indices = A.indices
        else:
            for block, (s, e) in zip(self.blocks, self.ranges):
                block.data = A.data[s:e]
        self.matrix, self.dtype = A, A.dtype
        return self

    def __matmul__(self, x):
        if len(self.blocks) == 1:
            return self.matrix @ x
        out = np.empty(self.shape[0], dtype=np.result_type(self.dtype, x.dtype))
        pool = _pool()
        jobs = [pool.submit(_product, block, x, out[a:b])
                for block, a, b in zip(self.blocks[1:], self.edges[1:-1], self.edges[2:])]
        _product(self.blocks[0], x, out[:self.edges[1]])
        for job in jobs:
            job.result()
        return out

    dot = matvec = __matmul__


class _Diagonals:
    """Diagonals of CSR matrices that keep their sparsity pattern between calls: the
    positions of the diagonal entries are found once per pattern (scipy's ``diagonal()``
    searches every row on every call: 9 ms at 80k rows)."""

    def __init__(self):
        self._positions = {}

    def __call__(self, A):
        known = self._positions.get(id(A.indices))
        if known is None or known[0] is not A.indices:
            rows = np.repeat(np.arange(A.shape[0], dtype=A.indices.dtype), np.diff(A.indptr))
            positions = np.flatnonzero(A.indices == rows)
            known = (A.indices, positions if len(positions) == A.shape[0] else None)
            self._positions[id(A.indices)] = known
        return A.diagonal() if known[1] is None else A.data[known[1]]


SLAB_CELLS = 25_000        # cells per slab of the matrix-free product (cache-sized)


class GridOperator:
    """``K(s) = sum_e s_e K_e`` on a :class:`BoxGrid` without a matrix: each product gathers
    the cells' nodal values from the grid-shaped field by slicing (one slice per cell
    corner), multiplies them by the one element matrix (one dense product), scales them by
    ``s_e`` and adds them back by slicing. Nothing is stored per cell but ``s_e``; the
    assembled CSR of a 3D Q1 stiffness holds 81 entries per row (3.3 GB at 3.4M unknowns).

    The rows are the ``free`` DOFs of the discretization, in that order. The cells are
    taken in slabs of about :data:`SLAB_CELLS` along the grid's last axis, so that a slab's
    values stay in cache between the gather, the product and the scatter (one slab at a
    time: on this 2-core machine two threads on separate slabs were slower, 14 ms against
    12 ms at 314k unknowns, where the CSR product on both cores takes 15 ms).
    """

    def __init__(self, grid, ke, nodal_dofs, free, slabs=None):
        self.grid, self.ke = grid, np.ascontiguousarray(ke, dtype=np.float64)
        self.components = components = len(nodal_dofs)
        # the field as (component, z, y, x): slices of one component are contiguous rows
        self.nodes_shape = (components,) + tuple(n + 1 for n in grid.shape[::-1])
        self._cells = grid.shape[::-1]                                  # (nz, ny, nx)
        grid_dofs = nodal_dofs[:, grid.vertices].reshape(-1)
        position = np.empty(nodal_dofs.size, dtype=np.int64)
        position[grid_dofs] = np.arange(grid_dofs.size)
        self._where = position[np.asarray(free)]
        self.shape = (len(self._where),) * 2
        self.dtype = np.dtype(np.float64)
        # a corner's cells as slices of the node array (reversed axes: the last grid axis first)
        self._corners = [tuple(int(o) for o in offset[::-1]) for offset in grid.corners]
        count = slabs or -(-int(np.prod(self._cells)) // SLAB_CELLS)
        edges = np.linspace(0, self._cells[0], min(count, self._cells[0]) + 1).astype(int)
        self._slabs = [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]
        self._scale = None

    def update(self, scale):
        """Take new cell scales (in the mesh's cell order)."""
        scale = np.asarray(scale, dtype=np.float64)
        self._scale = scale[self.grid.cells].reshape(self._cells)
        return self

    def _slices(self, corner, low, high):
        return (slice(low + corner[0], high + corner[0]),) + tuple(
            slice(o, o + n) for o, n in zip(corner[1:], self._cells[1:]))

    def _slab(self, X, Y, low, high):
        c, cells = self.components, (high - low,) + self._cells[1:]
        values = np.empty((len(self._corners) * c,) + cells)
        for k, corner in enumerate(self._corners):
            where = self._slices(corner, low, high)
            for j in range(c):
                values[k * c + j] = X[j][where]
        forces = self.ke @ values.reshape(len(values), -1)               # ke is symmetric
        forces *= self._scale[low:high].reshape(1, -1)
        forces = forces.reshape(values.shape)
        for k, corner in enumerate(self._corners):
            where = self._slices(corner, low, high)
            for j in range(c):
                Y[j][where] += forces[k * c + j]

    def apply_grid(self, X):
        """The product on a grid-shaped field ``X`` (shape ``nodes_shape``), all DOFs."""
        Y = np.zeros(self.nodes_shape)
        for low, high in self._slabs:
            self._slab(X, Y, low, high)
        return Y

    def __matmul__(self, x):
        X = np.zeros(self.nodes_shape)
        X.reshape(-1)[self._where] = x
        return self.apply_grid(X).reshape(-1)[self._where]

    dot = matvec = __matmul__

    def diagonal(self):
        c = self.components
        D = np.zeros(self.nodes_shape)
        diagonal = np.diag(self.ke)
        for k, corner in enumerate(self._corners):
            where = self._slices(corner, 0, self._cells[0])
            for j in range(c):
                D[j][where] += self._scale * diagonal[k * c + j]
        return D.reshape(-1)[self._where]


def _product(block, x, out):
    out[:] = block @ x


PARALLEL_ROWS = 20_000     # rows above which a product is split over the cores
DIRECT_DEPTH = 3           # coarse levels computed straight from the fine cell scales


class _Assembler:
    """CSR assembly of per-cell matrices into the free DOFs (-1 in ``cell_dofs``): the CSR
    values are one sparse product with the cells' entries (``gather``, built once)."""

    def __init__(self, cell_dofs, n):
        ncells, nb = cell_dofs.shape
        rows = np.repeat(cell_dofs, nb, axis=1).reshape(-1)
        cols = np.tile(cell_dofs, (1, nb)).reshape(-1)
        keep = np.flatnonzero((rows >= 0) & (cols >= 0))
        self.indices, self.indptr, position = csr_pattern(rows[keep], cols[keep], n)
        gather = sp.csr_matrix((np.ones(len(keep)), (position, keep)),
                               shape=(len(self.indices), ncells * nb * nb))
        self.gather = RowBlocks(gather) if len(keep) > PARALLEL_ROWS * 50 else gather
        self.n = n

    def matrix(self, cell_matrices):
        """``cell_matrices`` of shape ``(ncells, nb, nb)``."""
        data = self.gather @ np.ascontiguousarray(cell_matrices).reshape(-1)
        return sp.csr_matrix((data, self.indices, self.indptr), shape=(self.n, self.n))


def _in_free_order(P, row_dofs, free):
    """The rows of ``P`` (row ``i`` belongs to DOF ``row_dofs[i]``) that are ``free`` DOFs,
    in the order of ``free``: the fine operator's rows."""
    position = np.full(len(row_dofs), -1, dtype=np.int64)
    position[np.asarray(free)] = np.arange(len(free))
    rows = position[row_dofs]
    return P[rows >= 0][np.argsort(rows[rows >= 0])]


class _VCycle:
    """A symmetric V-cycle over ``operators`` (fine first) with damped Jacobi smoothing
    (``_diagonals``: weight / diagonal), the ``_prolongations`` / ``_restrictions`` between
    levels and a sparse LU of the coarsest operator (``_coarse``)."""

    nlevels: int
    smoothing: int
    weight: float
    operators: list
    _diagonals: list
    _prolongations: list
    _restrictions: list

    def _install(self, operators, diagonals):
        """Take the levels' operators (fine first) and the diagonals of all but the
        coarsest: Jacobi factors, large CSR products split over the cores (the splits kept
        while the pattern is), the coarsest factorized."""
        self._diagonals = [self.weight / d for d in diagonals]
        if not self.operators:
            self.operators = [RowBlocks(A) if sp.issparse(A) and A.shape[0] > PARALLEL_ROWS
                              else A for A in operators]
        else:
            self.operators = [old.update(A) if isinstance(old, RowBlocks) else A
                              for old, A in zip(self.operators, operators)]
        self._factorize(operators[-1])

    def _factorize(self, coarsest):
        try:
            self._coarse = spla.splu(coarsest.tocsc(), **SPD_SPLU)
        except RuntimeError as err:
            raise SolverError(f"multigrid: the coarsest operator is singular ({err}); are "
                              f"the supports enough to prevent rigid motion?") from err

    recursions = 1          # coarse corrections per level: 1 a V-cycle, 2 a W-cycle

    def cycle(self, r, level=0):
        """One symmetric V-cycle (W-cycle with ``recursions = 2``) on ``A x = r`` from
        ``x = 0``."""
        if level == self.nlevels:
            return self._coarse.solve(r)
        A, D, P = self.operators[level], self._diagonals[level], self._prolongations[level]
        x = D * r
        for _ in range(self.smoothing - 1):
            x += D * (r - A @ x)
        for _ in range(self.recursions if level + 1 < self.nlevels else 1):
            x += P @ self.cycle(self._restrictions[level] @ (r - A @ x), level + 1)
        for _ in range(self.smoothing):
            x += D * (r - A @ x)
        return x

    def preconditioner(self):
        n = self.operators[0].shape[0]
        return spla.LinearOperator((n, n), matvec=self.cycle, dtype=np.float64)


class Multigrid(_VCycle):
    """V-cycle preconditioner on a :class:`BoxGrid` hierarchy for a sequence of stiffnesses
    ``K(s) = sum_e s_e K_e`` with one element matrix ``ke`` (equal boxes).

    Parameters
    ----------
    grid
        The fine grid.
    ke
        The element matrix in the mesh's local DOF order (node-major).
    nodal_dofs
        ``nodal_dofs`` of the fine discretization, shape ``(components, nvertices)``
        (``dim`` for a displacement, 1 for a scalar).
    free
        The free fine DOFs (the fine operator's rows, in this order).
    levels
        Coarse levels (default: as many as :meth:`BoxGrid.levels` allows, and enough that the
        coarsest has at most ``coarse_limit`` unknowns if possible).
    smoothing, weight
        Damped Jacobi sweeps before and after the coarse correction, and their weight.
    matrix_free
        The fine operator as a :class:`GridOperator` (:meth:`update` then takes no matrix)
        instead of the CSR matrix passed to :meth:`update`.
    """

    def __init__(self, grid, ke, nodal_dofs, free, levels=None, smoothing=1, weight=0.6,
                 coarse_limit=3_000, matrix_free=False):
        self.grid, self.dim = grid, grid.dim
        self.components = components = len(nodal_dofs)
        self.smoothing, self.weight = smoothing, weight
        dim = self.dim
        possible = grid.levels()
        if levels is None:
            levels = 0
            shape = np.array(grid.shape)
            while levels < possible and components * np.prod(shape + 1) > coarse_limit:
                shape //= 2
                levels += 1
            levels = max(levels, min(possible, 1))
        if levels < 1:
            raise SolverError(f"a {'x'.join(map(str, grid.shape))} grid cannot be halved "
                              f"(odd cell counts): no geometric multigrid")
        self.nlevels = levels

        self._children = []        # per coarse level: (nparents, 2^dim) child cells (x fastest)
        self._maps = []            # per coarse level: (2^dim, nb, nb) child from parent DOFs
        self._prolongations, self._restrictions, self._assemblers = [], [], []
        # the fine DOFs in grid order (node-major: grid node n, component c)
        grid_dofs = nodal_dofs[:, grid.vertices].T.reshape(-1)
        fine_free = np.zeros(nodal_dofs.size, dtype=bool)
        fine_free[free] = True
        free_now, shape = fine_free[grid_dofs], np.array(grid.shape)
        for level in range(1, levels + 1):
            children, P, coarse_free, cell_dofs = _coarsen(shape, free_now, dim, components)
            if level == 1:
                # rows in the fine operator's order (its free DOFs), cells the mesh's
                P = _in_free_order(P, grid_dofs, free)
                children = grid.cells[children]
            else:
                P = P[free_now]
            self._children.append(children)
            self._maps.append(_child_maps(dim, grid.corners if level == 1
                                          else _grid_corners(dim), components))
            self._prolongations.append(P.tocsr())
            self._restrictions.append(P.T.tocsr())
            self._assemblers.append(_Assembler(cell_dofs, int(coarse_free.sum())))
            free_now, shape = coarse_free, shape // 2
        # The first levels' cell matrices straight from the fine cell scales: a coarse cell
        # of level l is the sum over its 2^(dim l) fine descendants d of s_d M_l[d], with
        # M_l[d] = (Q_c1 ... Q_cl)^T ke (Q_c1 ... Q_cl) computed once (one small product per
        # level instead of a batched triple product per coarse cell); deeper levels from
        # the level above.
        ke = np.asarray(ke, dtype=np.float64)
        Q = self._maps[0]
        projected = np.einsum("cia,ij,cjb->cab", Q, ke, Q)
        descendants = self._children[0]
        self._direct = [(descendants, projected.reshape(len(Q), -1))]
        for level in range(1, min(self.nlevels, DIRECT_DEPTH)):
            Q = self._maps[level]
            descendants = descendants[self._children[level]].reshape(
                len(self._children[level]), -1)
            projected = np.einsum("cia,dij,cjb->cdab", Q, projected, Q).reshape(
                -1, *projected.shape[1:])
            self._direct.append((descendants, projected.reshape(len(projected), -1)))
        self.operators, self._diagonals, self._coarse = [], [], None
        self._diagonal = _Diagonals()
        self._fine = GridOperator(grid, ke, nodal_dofs, free) if matrix_free else None

    @property
    def matrix_free(self):
        return self._fine is not None

    def update(self, K, scale):
        """Take the fine operator ``K`` (free DOFs; ``None`` when matrix-free) of cell scale
        ``scale`` and build the coarse operators and the coarsest factorization."""
        side = 2 ** self.dim * self.components
        scale = np.asarray(scale, dtype=np.float64)
        operators = [K.tocsr() if K is not None else self._fine.update(scale)]
        for level in range(self.nlevels):
            if level < len(self._direct):
                descendants, projected = self._direct[level]
                cells = (scale[descendants] @ projected).reshape(-1, side, side)
            else:
                Q = self._maps[level]
                children = cells[self._children[level]]              # (npar, 2^dim, nb, nb)
                cells = np.einsum("cia,pcij,cjb->pab", Q, children, Q, optimize=True)
            operators.append(self._assemblers[level].matrix(cells))
        self._install(operators, [A.diagonal() if isinstance(A, GridOperator)
                                  else self._diagonal(A) for A in operators[:-1]])


def nested_interpolation(coarse, fine):
    """The P1/Q1 interpolation from the vertices of ``coarse`` to those of ``fine``, a
    uniform refinement of it whose first vertices are the coarse ones (as
    :func:`fem_reg.mesh.refine` makes): every new vertex is the midpoint of a coarse edge or
    the centre of a coarse face or cell, where the interpolant is the mean of its vertices.
    Sparse, ``(fine.nvertices, coarse.nvertices)``."""
    n = coarse.nvertices
    scale = np.ptp(coarse.p, axis=1).max()
    if fine.nvertices < n or np.abs(fine.p[:, :n] - coarse.p).max() > 1e-12 * scale:
        raise ParameterError("the fine mesh is not a refinement of the coarse one (its first "
                             "vertices are not the coarse vertices)")
    groups = [coarse.facets if coarse.dim() == 2 else coarse.edges, coarse.t]
    if coarse.dim() == 3:
        groups.insert(1, coarse.facets)
    new = fine.p[:, n:].T
    rows, cols, values = [np.arange(n)], [np.arange(n)], [np.ones(n)]
    found = np.zeros(len(new), dtype=bool)
    for vertices in groups:
        centres = coarse.p[:, vertices].mean(axis=1).T
        distance, index = cKDTree(centres).query(new, distance_upper_bound=1e-9 * scale)
        hit = np.flatnonzero(np.isfinite(distance) & ~found)
        found[hit] = True
        m = vertices.shape[0]
        rows.append(np.repeat(n + hit, m))
        cols.append(vertices[:, index[hit]].T.reshape(-1))
        values.append(np.full(len(hit) * m, 1.0 / m))
    if not found.all():
        raise ParameterError(f"{int((~found).sum())} vertices of the fine mesh are neither "
                             f"coarse vertices nor centres of coarse edges, faces or cells: "
                             f"not a uniform refinement")
    return sp.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(fine.nvertices, n))


class NestedMultigrid(_VCycle):
    """V-cycle preconditioner for a vector P1/Q1 field on a mesh made by uniform refinement
    (:func:`fem_reg.mesh.refine`) of coarser meshes: the refinement gives the
    prolongations (:func:`nested_interpolation`), the coarse operators are the Galerkin
    products ``P^T A P`` of each new fine operator (sparse triple products), smoothing is
    damped Jacobi and the coarsest mesh is solved by sparse LU.

    Parameters
    ----------
    meshes
        The coarser meshes, coarsest first (:func:`fem_reg.mesh.coarser_meshes`), and last
        the fine mesh.
    nodal_dofs, free
        As for :class:`Multigrid`.
    """

    def __init__(self, meshes, nodal_dofs, free, smoothing=1, weight=0.6):
        self.smoothing, self.weight = smoothing, weight
        self.components = components = len(nodal_dofs)
        self.nlevels = len(meshes) - 1
        if self.nlevels < 1:
            raise ParameterError("a nested multigrid needs at least one coarser mesh")
        # the fine operator's rows (free DOFs) in node-major order (node, component)
        fine_free = np.zeros(nodal_dofs.size, dtype=bool)
        fine_free[free] = True
        node_major = nodal_dofs.T.reshape(-1)                  # node-major -> the DOF
        free_now = fine_free[node_major]
        self._prolongations, self._restrictions = [], []
        for level in range(self.nlevels, 0, -1):
            fine, coarse = meshes[level], meshes[level - 1]
            P = sp.kron(nested_interpolation(coarse, fine), sp.identity(components),
                        format="csr")
            coarse_free = free_now[:components * coarse.nvertices]   # coarse vertices first
            if level == self.nlevels:
                P = _in_free_order(P, node_major, free)
            else:
                P = P[free_now]
            P = P[:, coarse_free].tocsr()
            self._prolongations.append(P)
            self._restrictions.append(P.T.tocsr())
            free_now = coarse_free
        self.operators, self._diagonals, self._coarse = [], [], None
        self.matrix_free = False

    def update(self, K, scale=None):
        """Take the fine operator ``K`` (free DOFs): Galerkin coarse operators and the
        coarsest factorization."""
        operators = [K.tocsr()]
        for P, R in zip(self._prolongations, self._restrictions):
            operators.append((R @ (operators[-1] @ P)).tocsr())
        # the products' patterns are new arrays every time: no cached diagonal positions
        self._install(operators, [A.diagonal() for A in operators[:-1]])
