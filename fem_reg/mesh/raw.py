"""From raw arrays with named groups to a validated scikit-fem mesh.

Every way into fem_reg (a file read by meshio, a geometry meshed by the gmsh API) produces a
:class:`RawMesh`; :func:`build_mesh` is the one place that validates it and builds the
scikit-fem mesh with named boundaries (facet sets) and subdomains (element sets).
"""

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree
from skfem import MeshHex1, MeshLine1, MeshQuad1, MeshTet1, MeshTri1
from skfem.io.meshio import INV_HEX_MAPPING

from ..errors import MeshError, MeshFileError
from .quality import FLIPPED_ORDER, corner_jacobians, edge_lengths

MESH_CLASSES = {
    "line": MeshLine1,
    "triangle": MeshTri1,
    "quad": MeshQuad1,
    "tetra": MeshTet1,
    "hexahedron": MeshHex1,
}
CELL_DIM = {"line": 1, "triangle": 2, "quad": 2, "tetra": 3, "hexahedron": 3}
FACET_TYPES = {"line": ("vertex",), "triangle": ("line",), "quad": ("line",),
               "tetra": ("triangle",), "hexahedron": ("quad",)}
CELL_TYPE_OF_MESH = {cls: name for name, cls in MESH_CLASSES.items()}

# Relative tolerances, scale-free: a cell is degenerate when its corner Jacobian is below
# DEGENERATE * (longest edge)^dim; two nodes are duplicates when closer than
# DUPLICATE * (bounding-box diagonal).
DEGENERATE = 1e-10
DUPLICATE = 1e-10


@dataclass
class RawMesh:
    """Nodes, cells of one type, and named groups, before validation.

    Parameters
    ----------
    points
        Node coordinates, shape ``(nnodes, 3)`` or ``(nnodes, dim)``.
    cell_type
        meshio name of the cell type (``triangle``, ``quad``, ``tetra``, ``hexahedron``, ``line``).
    cells
        Connectivity in meshio/VTK node order, shape ``(ncells, nodes_per_cell)``.
    subdomains
        Name -> indices into ``cells``.
    facet_sets
        Name -> facet connectivity, shape ``(nfacets, nodes_per_facet)``, node indices.
    encoded_boundaries
        Name -> per-cell facet bitfield (scikit-fem's encoding in VTU/XDMF files).
    source
        What to call this mesh in error messages (usually the file name).
    """

    points: np.ndarray
    cell_type: str
    cells: np.ndarray
    subdomains: dict = field(default_factory=dict)
    facet_sets: dict = field(default_factory=dict)
    encoded_boundaries: dict = field(default_factory=dict)
    source: str = "mesh"


def id_list(ids, limit=8):
    """'3, 17, 42' or '3, 17, ... (25 in all)' for error messages."""
    ids = [int(i) for i in ids]
    if len(ids) <= limit:
        return ", ".join(map(str, ids))
    return ", ".join(map(str, ids[:limit])) + f", ... ({len(ids)} in all)"


# odd 64-bit multipliers for hashing sorted node tuples (arithmetic wraps modulo 2^64)
_ROW_HASH = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                      0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53,
                      0x94D049BB133111EB, 0xBF58476D1CE4E5B9], dtype=np.uint64)


def match_rows(reference, query):
    """Index of each row of ``query`` in ``reference`` (rows compared as sets), or -1.

    Rows are hashed to one 64-bit key each; a candidate found by key is accepted only if its
    nodes are equal, so a hash collision can cause a miss but never a wrong match.
    """
    ref = np.sort(np.asarray(reference, dtype=np.int64), axis=1)
    qry = np.sort(np.asarray(query, dtype=np.int64), axis=1)
    if len(qry) == 0 or len(ref) == 0:
        return np.full(len(qry), -1, dtype=np.int64)
    weights = _ROW_HASH[: ref.shape[1]]
    with np.errstate(over="ignore"):
        ref_key = (ref.astype(np.uint64) * weights).sum(axis=1)
        qry_key = (qry.astype(np.uint64) * weights).sum(axis=1)
    order = np.argsort(ref_key)
    found = np.clip(np.searchsorted(ref_key[order], qry_key), 0, len(ref) - 1)
    candidate = order[found]
    same = (ref[candidate] == qry).all(axis=1)
    return np.where(same, candidate, -1)


def _planar_points(raw, dim):
    points = np.asarray(raw.points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] < dim:
        raise MeshFileError(f"{raw.source}: node coordinates have shape {points.shape}, "
                            f"need at least {dim} columns for {raw.cell_type} cells")
    if not np.isfinite(points).all():
        bad = np.nonzero(~np.isfinite(points).all(axis=1))[0]
        raise MeshFileError(f"{raw.source}: non-finite coordinates at nodes {id_list(bad)}")
    extra = points[:, dim:]
    if extra.size and np.ptp(extra, axis=0).max() > DUPLICATE * max(np.ptp(points), 1e-300):
        if raw.cell_type == "line":
            raise MeshFileError(f"{raw.source}: only line cells, and they do not lie on one "
                                f"line; gmsh saves only elements in physical groups: add a "
                                f"physical group for the domain (or Mesh.SaveAll=1)")
        raise MeshFileError(f"{raw.source}: {raw.cell_type} cells with non-constant "
                            f"coordinate {'xyz'[dim]}; fem_reg needs {dim}D meshes to lie in "
                            f"a plane {'xyz'[dim]} = const (surface meshes are not supported)")
    return points[:, :dim]


def _drop_unused_nodes(raw, points):
    """Keep nodes used by cells; gmsh keeps geometry points that no cell uses."""
    used = np.unique(raw.cells)
    if used.size and (used[0] < 0 or used[-1] >= len(points)):
        raise MeshFileError(f"{raw.source}: cells refer to node index {used[-1]} "
                            f"but the file has {len(points)} nodes")
    renumber = np.full(len(points), -1, dtype=np.int64)
    renumber[used] = np.arange(len(used))
    return points[used], renumber


def _orient(raw, points, cells):
    """Reject degenerate and non-convex cells; return the cells positively oriented and
    the orientation each had in the input (+1 / -1)."""
    jac = corner_jacobians(points, cells, raw.cell_type)
    dim = CELL_DIM[raw.cell_type]
    longest = edge_lengths(points, cells, raw.cell_type).max(axis=1)
    tiny = DEGENERATE * longest ** dim
    degenerate = np.nonzero((np.abs(jac) <= tiny[:, None]).any(axis=1))[0]
    if degenerate.size:
        measure = {1: "length", 2: "area", 3: "volume"}[dim]
        raise MeshError(f"{raw.source}: {degenerate.size} degenerate {raw.cell_type} cell(s) "
                        f"with zero {measure}: cell ids {id_list(degenerate)} (0-based)")
    positive = (jac > 0).all(axis=1)
    negative = (jac < 0).all(axis=1)
    twisted = np.nonzero(~positive & ~negative)[0]
    if twisted.size:
        raise MeshError(f"{raw.source}: {twisted.size} inverted or non-convex {raw.cell_type} "
                        f"cell(s) (corner Jacobians of both signs): cell ids "
                        f"{id_list(twisted)} (0-based)")
    cells = cells.copy()
    cells[negative] = cells[negative][:, FLIPPED_ORDER[raw.cell_type]]
    return cells, np.where(positive, 1, -1)


def _facet_normals(p, facets):
    """Unnormalized normals of facets given as node columns; p is (dim, nnodes)."""
    if p.shape[0] == 1:
        return np.ones((1, facets.shape[1]))
    if p.shape[0] == 2:
        tangent = p[:, facets[1]] - p[:, facets[0]]
        return np.array([tangent[1], -tangent[0]])
    if facets.shape[0] == 3:
        return np.cross((p[:, facets[1]] - p[:, facets[0]]).T,
                        (p[:, facets[2]] - p[:, facets[0]]).T).T
    # quadrilateral face: the cross product of its diagonals
    return np.cross((p[:, facets[2]] - p[:, facets[0]]).T,
                    (p[:, facets[3]] - p[:, facets[1]]).T).T


def _check_folds(raw, mesh, orientation):
    """A mesh whose cells come in both orientations is fine (scikit-fem itself writes sorted
    simplices) unless it folds over itself: then both cells at an interior facet lie on the
    same side of it. The inverted cells are those of the minority orientation there."""
    f2t = mesh.f2t
    interior = np.nonzero(f2t[1] >= 0)[0]
    centroids = mesh.p[:, mesh.t].mean(axis=1)
    nodes = mesh.facets[:, interior]
    centre = mesh.p[:, nodes].mean(axis=1)
    normal = _facet_normals(mesh.p, nodes)
    side_a = np.sum(normal * (centroids[:, f2t[0, interior]] - centre), axis=0)
    side_b = np.sum(normal * (centroids[:, f2t[1, interior]] - centre), axis=0)
    folded = interior[side_a * side_b >= 0]
    if folded.size == 0:
        return
    involved = np.unique(f2t[:, folded])
    majority = 1 if (orientation > 0).sum() >= (orientation < 0).sum() else -1
    inverted = involved[orientation[involved] != majority]
    if inverted.size == 0:
        inverted = involved
    raise MeshError(f"{raw.source}: {inverted.size} inverted {raw.cell_type} cell(s): cell ids "
                    f"{id_list(inverted)} (0-based); the mesh folds over itself at "
                    f"{folded.size} facet(s)")


def _check_duplicate_nodes(raw, points):
    diagonal = np.linalg.norm(np.ptp(points, axis=0))
    pairs = cKDTree(points).query_pairs(DUPLICATE * diagonal, output_type="ndarray")
    if len(pairs):
        shown = ", ".join(f"{a}={b}" for a, b in pairs[:6])
        more = f", ... ({len(pairs)} pairs in all)" if len(pairs) > 6 else ""
        raise MeshError(f"{raw.source}: duplicate nodes (same coordinates, 0-based node ids "
                        f"after dropping unused nodes): {shown}{more}; merge them (gmsh: "
                        f"Geometry.Tolerance / Coherence) or the mesh has cracks")


def _facets_of(mesh, raw, renumber):
    """Facet indices of each named facet set, matched by node sets in one pass.

    skfem's reader matches facets too, but drops those that are no facet of the mesh without
    a word; here they are an error naming the set."""
    nodes_per_facet = mesh.facets.shape[0]
    named = {}
    for name, nodes in raw.facet_sets.items():
        nodes = np.asarray(nodes, dtype=np.int64)
        nodes = nodes[:, None] if nodes.ndim == 1 else nodes
        if nodes.shape[1] != nodes_per_facet:
            raise MeshFileError(f"{raw.source}: boundary '{name}' has facets with "
                                f"{nodes.shape[1]} nodes; {raw.cell_type} cells have facets "
                                f"with {nodes_per_facet}")
        mapped = renumber[nodes]
        if (mapped < 0).any():
            raise MeshFileError(f"{raw.source}: boundary '{name}' uses nodes that belong to "
                                f"no {raw.cell_type} cell")
        named[name] = mapped
    if not named:
        return {}
    index = match_rows(mesh.facets.T, np.vstack(list(named.values())))
    boundaries, start = {}, 0
    for name, nodes in named.items():
        ids = index[start:start + len(nodes)]
        start += len(nodes)
        missing = np.nonzero(ids < 0)[0]
        if missing.size:
            raise MeshFileError(f"{raw.source}: boundary '{name}': {missing.size} facet(s) "
                                f"are not faces of any cell (facet ids {id_list(missing)})")
        boundaries[name] = np.unique(ids).astype(np.int32)
    return boundaries


def _decode_boundaries(mesh, encoded):
    """scikit-fem's cell-data encoding: bit i of a cell's integer marks its local facet i.

    (skfem decodes it in ``Mesh._decode_cell_data``, a private method: these lines do not
    depend on it.)"""
    boundaries = {}
    for name, bits in encoded.items():
        bits = np.asarray(bits, dtype=np.int64)
        mask = ((1 << np.arange(mesh.t2f.shape[0]))[:, None] & bits[None, :]).astype(bool)
        boundaries[name] = np.unique(mesh.t2f[mask]).astype(np.int32)
    return boundaries


def build_mesh(raw):
    """Validate a :class:`RawMesh` and build the scikit-fem mesh with its names.

    Raises
    ------
    MeshFileError
        Unusable content (bad coordinates, facets that belong to no cell).
    MeshError
        Inverted (folded), non-convex or degenerate cells, duplicate nodes.
    """
    if raw.cell_type not in MESH_CLASSES:
        raise MeshFileError(f"{raw.source}: unsupported cell type '{raw.cell_type}'; "
                            f"supported: {', '.join(MESH_CLASSES)}")
    dim = CELL_DIM[raw.cell_type]
    cells = np.asarray(raw.cells, dtype=np.int64)
    if cells.ndim != 2 or len(cells) == 0:
        raise MeshFileError(f"{raw.source}: no {raw.cell_type} cells")
    points = _planar_points(raw, dim)
    points, renumber = _drop_unused_nodes(raw, points)
    cells = renumber[cells]
    cells, orientation = _orient(raw, points, cells)
    _check_duplicate_nodes(raw, points)

    mesh_class = MESH_CLASSES[raw.cell_type]
    t = cells.T
    if raw.cell_type == "hexahedron":
        t = t[INV_HEX_MAPPING[:8]]
    mesh = mesh_class(np.ascontiguousarray(points.T), np.ascontiguousarray(t))
    if (orientation < 0).any():
        _check_folds(raw, mesh, orientation)
    boundaries = _facets_of(mesh, raw, renumber)
    boundaries.update(_decode_boundaries(mesh, raw.encoded_boundaries))
    subdomains = {name: np.unique(np.asarray(ids, dtype=np.int32))
                  for name, ids in raw.subdomains.items()}
    if boundaries or subdomains:
        mesh = mesh_class(mesh.doflocs, mesh.t,
                          _boundaries=boundaries or None, _subdomains=subdomains or None)
    return mesh
