"""Refinement that keeps names, and mesh sequences for refinement studies.

Two ways to make a sequence, both consumed the same way by the study harness:

* :class:`UniformRefinement` splits every cell of a base mesh (h, h/2, h/4, ...): nested meshes,
  exact ratio 2, the base geometry's facets kept (polygonal boundaries stay polygonal).
* :class:`Remeshing` meshes a canonical geometry again at h, h/r, h/r^2, ...: non-nested,
  unstructured at every level, the true geometry at every level.
"""

import contextlib
import hashlib
import itertools
import json
import logging

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree
from skfem import Mesh, MeshTet1

from ..checks import integer, number, positive
from ..errors import ParameterError, UnknownNameError
from .geometry import GEOMETRIES
from .raw import match_rows


def _facet_subpoints(mesh, facets):
    """Where refined nodes on each facet can be: its vertices, the midpoints of each pair of
    its vertices, and its centre. Shape ``(dim, npoints_per_facet, nfacets)``."""
    nodes = mesh.facets[:, facets]
    corners = mesh.p[:, nodes]                                   # (dim, k, nf)
    pairs = list(itertools.combinations(range(nodes.shape[0]), 2))
    parts = [corners]
    if pairs:
        a, b = np.array(pairs).T
        parts.append(0.5 * (corners[:, a] + corners[:, b]))
    if nodes.shape[0] > 3:
        parts.append(corners.mean(axis=1, keepdims=True))
    return np.concatenate(parts, axis=1)


def _restore_boundaries(coarse, fine):
    """Named facets of ``fine`` lying on the named facets of ``coarse`` (any cell type)."""
    tree = cKDTree(fine.p.T)
    scale = np.linalg.norm(np.ptp(coarse.p, axis=1))
    boundaries = {}
    for name, facets in coarse.boundaries.items():
        facets = np.asarray(facets)
        sub = _facet_subpoints(coarse, facets)                   # (dim, m, nf)
        dist, node = tree.query(sub.reshape(sub.shape[0], -1).T)
        found = dist <= 1e-9 * scale
        owner = np.tile(np.arange(len(facets)), sub.shape[1])   # column order of reshape
        incidence = sparse.csr_matrix(
            (np.ones(found.sum()), (node[found], owner[found])),
            shape=(fine.p.shape[1], len(facets)))
        incidence.data[:] = 1.0
        candidates = np.nonzero(np.asarray(incidence.sum(axis=1)).ravel()[fine.facets]
                                .all(axis=0))[0]
        on_same = incidence[fine.facets[0, candidates]]
        for row in fine.facets[1:]:
            on_same = on_same.multiply(incidence[row[candidates]])
        hits = np.unique(on_same.tocoo().row)
        boundaries[name] = candidates[hits].astype(np.int32)
    return boundaries


# Bey's ordered red refinement of a tetrahedron (x0, x1, x2, x3); "ij" is the midpoint of
# edge ij. Keeping the children's vertex order as listed, repeated refinement produces at most
# three similarity classes per initial tetrahedron (J. Bey, Computing 55, 1995; Numer. Math.
# 85, 2000), so shape quality stays bounded; refining each level with a re-sorted vertex order
# (scikit-fem's shortest-diagonal rule) lets it decay.
BEY_CHILDREN = [("0", "01", "02", "03"), ("01", "1", "12", "13"), ("02", "12", "2", "23"),
                ("03", "13", "23", "3"), ("01", "02", "03", "13"), ("01", "02", "12", "13"),
                ("02", "03", "13", "23"), ("02", "12", "13", "23")]
TET_EDGES = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
# a triangular face (a, b, c) splits into these four, in terms of its corners and midpoints
FACE_CHILDREN = [("a", "ab", "ac"), ("ab", "b", "bc"), ("ac", "bc", "c"), ("ab", "bc", "ac")]


def _bey_level(p, t, subdomains, facet_sets):
    """One level of Bey's refinement on ordered arrays; p (3, n), t (4, nt) ordered."""
    n, nt = p.shape[1], t.shape[1]
    ends = np.sort(np.concatenate([t[[a, b]] for a, b in TET_EDGES], axis=1), axis=0)
    keys, inverse = np.unique(ends[0].astype(np.int64) * n + ends[1], return_inverse=True)
    midpoint = n + inverse.reshape(len(TET_EDGES), nt)
    p = np.hstack((p, 0.5 * (p[:, keys // n] + p[:, keys % n])))
    local = {str(i): t[i] for i in range(4)}
    local.update({f"{a}{b}": midpoint[k] for k, (a, b) in enumerate(TET_EDGES)})
    t = np.hstack([np.vstack([local[v] for v in child]) for child in BEY_CHILDREN])
    # child c of element e is element c * nt + e
    subdomains = {name: (np.arange(8)[:, None] * nt + ids[None, :]).ravel()
                  for name, ids in subdomains.items()}

    def mid(a, b):
        lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
        return n + np.searchsorted(keys, lo * n + hi)

    refined_facets = {}
    for name, faces in facet_sets.items():
        a, b, c = faces.T
        nodes = {"a": a, "b": b, "c": c, "ab": mid(a, b), "bc": mid(b, c), "ac": mid(a, c)}
        refined_facets[name] = np.vstack([np.column_stack([nodes[v] for v in child])
                                          for child in FACE_CHILDREN])
    return p, t, subdomains, refined_facets


def _shortest_diagonal_first(p, t):
    """Reorder each tetrahedron so that Bey's interior diagonal (midpoints of edges 02 and
    13) is the shortest of the three: the best first split, whose classes Bey's rule then
    keeps (at most three per tetrahedron) on every further level."""
    # the three diagonals join midpoints of opposite edges: (02,13), (01,23), (03,12);
    # their lengths are |x0 + x2 - x1 - x3| / 2 and so on
    x = p[:, t]
    lengths = np.stack([np.linalg.norm(x[:, 0] + x[:, 2] - x[:, 1] - x[:, 3], axis=0),
                        np.linalg.norm(x[:, 0] + x[:, 1] - x[:, 2] - x[:, 3], axis=0),
                        np.linalg.norm(x[:, 0] + x[:, 3] - x[:, 1] - x[:, 2], axis=0)])
    orders = np.array([[0, 1, 2, 3], [0, 2, 1, 3], [0, 1, 3, 2]])
    return np.take_along_axis(t, orders[np.argmin(lengths, axis=0)].T, axis=0)


def _refine_tetrahedra(mesh, times):
    p, t = mesh.p, _shortest_diagonal_first(mesh.p, mesh.t.astype(np.int64))
    subdomains = {k: np.asarray(v, dtype=np.int64) for k, v in (mesh.subdomains or {}).items()}
    facet_sets = {k: mesh.facets[:, np.asarray(v)].T.astype(np.int64)
                  for k, v in (mesh.boundaries or {}).items()}
    levels = []
    for _ in range(times):
        levels.append((p, t))
        p, t, subdomains, facet_sets = _bey_level(p, t, subdomains, facet_sets)
    fine = MeshTet1(p, t)
    boundaries = {}
    for name, faces in facet_sets.items():
        boundaries[name] = np.unique(match_rows(fine.facets.T, faces)).astype(np.int32)
    fine = MeshTet1(fine.doflocs, fine.t, _boundaries=boundaries or None,
                    _subdomains={k: np.sort(v).astype(np.int32) for k, v in subdomains.items()}
                    or None)
    # the base and the intermediate levels, as they were split
    return fine, [mesh] + [MeshTet1(p, t) for p, t in levels[1:]]


@contextlib.contextmanager
def _quiet_skfem():
    logger = logging.getLogger("skfem.mesh.mesh")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def refine(mesh, times=1):
    """Split every cell ``times`` times, keeping named boundaries and subdomains.

    Triangles, quads and hexahedra are split by scikit-fem (which keeps subdomains, and
    boundaries for triangles and quads; hexahedral boundaries are found again here).
    Tetrahedra are split here by Bey's ordered rule, all ``times`` levels in one go, so that
    shape quality does not decay with the number of levels.
    """
    times = integer("times", times, low=0)
    if times == 0:
        return mesh
    base = mesh
    if isinstance(mesh, MeshTet1):
        mesh, chain = _refine_tetrahedra(mesh, times)
    else:
        chain = []
        for _ in range(times):
            chain.append(mesh)
            with _quiet_skfem():    # it warns that boundaries were dropped; we restore them
                fine = mesh.refined(1)
            if mesh.boundaries and not fine.boundaries:
                fine = type(fine)(fine.doflocs, fine.t,
                                  _boundaries=_restore_boundaries(mesh, fine),
                                  _subdomains=fine.subdomains)
            mesh = fine
    # the hierarchy, for geometric multigrid on the refined mesh (coarser_meshes)
    setattr(mesh, _COARSER, tuple(coarser_meshes(base)) + tuple(chain))
    return mesh


_COARSER = "_fem_reg_coarser"


def coarser_meshes(mesh):
    """The meshes that :func:`refine` split into ``mesh``, coarsest first: each one's
    vertices are the first vertices of the next (nested meshes), the last one's those of
    ``mesh``. Empty for a mesh not made by :func:`refine`."""
    return getattr(mesh, _COARSER, ())


class MeshSequence:
    """Meshes at levels ``0 .. levels-1`` (0 coarsest), built on demand.

    Subclasses define :meth:`mesh` and :meth:`describe`; instances are picklable so that a
    study can build each level in a worker process.
    """

    levels: int

    def mesh(self, level):
        raise NotImplementedError

    def describe(self):
        """A JSON-serializable description that identifies the sequence (for caches)."""
        raise NotImplementedError

    def key(self, level):
        """A short hash identifying the mesh of ``level``."""
        text = json.dumps({**self.describe(), "level": level}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _check_level(self, level):
        if not 0 <= level < self.levels:
            raise ParameterError(f"level must be in 0..{self.levels - 1}, got {level}")

    def __len__(self):
        return self.levels

    def __iter__(self):
        return (self.mesh(level) for level in range(self.levels))


class UniformRefinement(MeshSequence):
    """``base`` refined uniformly 0, 1, ..., levels-1 times (names kept)."""

    def __init__(self, base, levels):
        if not isinstance(base, Mesh):
            raise ParameterError(f"base must be a scikit-fem mesh, got {type(base).__name__}")
        self.base = base
        self.levels = integer("levels", levels, low=1)

    def mesh(self, level):
        # always from the base: tetrahedral refinement keeps its quality bound only when all
        # levels are made in one go (the cost is a geometric series, under 15% extra)
        self._check_level(level)
        return refine(self.base, level)

    def describe(self):
        digest = hashlib.sha256()
        digest.update(type(self.base).__name__.encode())
        digest.update(np.ascontiguousarray(self.base.p).tobytes())
        digest.update(np.ascontiguousarray(self.base.t).tobytes())
        for group in (self.base.boundaries or {}, self.base.subdomains or {}):
            for name in sorted(group):
                digest.update(name.encode())
                digest.update(np.ascontiguousarray(group[name]).tobytes())
        return {"kind": "uniform", "base": digest.hexdigest()[:16]}


class Remeshing(MeshSequence):
    """A canonical geometry meshed at ``h / ratio**level``.

    Parameters
    ----------
    geometry
        A name from :data:`fem_reg.mesh.GEOMETRIES` (``"cook_membrane"``, ...).
    h
        Target size at level 0.
    levels
        Number of levels.
    ratio
        Refinement ratio between levels (> 1; Celik et al. recommend at least 1.3).
    options
        Keyword arguments of the geometry function (``cell_type``, ``structured``, sizes).
        Local sizes, the options named ``h_...`` (``h_crack``), shrink with ``h``.
    """

    def __init__(self, geometry, h, levels, ratio=2.0, **options):
        if geometry not in GEOMETRIES:
            raise UnknownNameError(f"unknown geometry '{geometry}'; known: "
                                   f"{', '.join(GEOMETRIES)}")
        self.geometry = geometry
        self.h = positive("h", h)
        self.levels = integer("levels", levels, low=1)
        self.ratio = number("ratio", ratio, low=1.0, low_open=True)
        self.options = dict(options)

    def mesh(self, level):
        self._check_level(level)
        from .make import make_geometry       # below this module: make imports geometry only
        factor = self.ratio ** level
        options = {key: value / factor if key.startswith("h_") and value is not None
                   else value for key, value in self.options.items()}
        return make_geometry(self.geometry, h=self.h / factor, **options)

    def describe(self):
        return {"kind": "remesh", "geometry": self.geometry, "h": self.h,
                "ratio": self.ratio, "options": self.options}
