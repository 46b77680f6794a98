"""Cell measures and shape quality, vectorized over cells.

Orientation convention: meshio/VTK node order. A positively oriented triangle or quad is
counter-clockwise; a positively oriented tetrahedron or hexahedron has a positive Jacobian
determinant at every corner.

VTK (through pyvista's ``cell_quality`` and ``compute_cell_sizes``) gives the same qualities
and measures (a test compares them), but mesh loading needs the signed corner Jacobians in
every process, including study workers, and these few numpy lines spare it a VTK import.
"""

import numpy as np

# For each corner of a VTK-ordered cell, the neighbouring corners in right-handed order.
# The determinant of the edge vectors towards them is the corner Jacobian (up to a constant).
CORNER_NEIGHBOURS = {
    "triangle": np.array([[1, 2], [2, 0], [0, 1]]),
    "quad": np.array([[1, 3], [2, 0], [3, 1], [0, 2]]),
    "tetra": np.array([[1, 2, 3], [2, 0, 3], [0, 1, 3], [1, 0, 2]]),
    "hexahedron": np.array([[1, 3, 4], [2, 0, 5], [3, 1, 6], [0, 2, 7],
                            [7, 5, 0], [4, 6, 1], [5, 7, 2], [6, 4, 3]]),
}

# Node order that reverses the orientation of a cell.
FLIPPED_ORDER = {
    "line": [1, 0],
    "triangle": [0, 2, 1],
    "quad": [0, 3, 2, 1],
    "tetra": [0, 2, 1, 3],
    "hexahedron": [0, 3, 2, 1, 4, 7, 6, 5],
}

# Edges of each cell type as pairs of local nodes (VTK order).
CELL_EDGES = {
    "line": [(0, 1)],
    "triangle": [(0, 1), (1, 2), (2, 0)],
    "quad": [(0, 1), (1, 2), (2, 3), (3, 0)],
    "tetra": [(0, 1), (1, 2), (2, 0), (0, 3), (1, 3), (2, 3)],
    "hexahedron": [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4),
                   (0, 4), (1, 5), (2, 6), (3, 7)],
}


def edge_lengths(points, cells, cell_type):
    """Lengths of every cell edge, shape ``(ncells, nedges)``."""
    pairs = np.array(CELL_EDGES[cell_type])
    vectors = points[cells[:, pairs[:, 1]]] - points[cells[:, pairs[:, 0]]]
    return np.linalg.norm(vectors, axis=-1)


def corner_jacobians(points, cells, cell_type):
    """Signed corner Jacobians, shape ``(ncells, ncorners)``.

    For triangles and tetrahedra every corner gives the same value (twice the area, six times
    the volume). For quads and hexahedra all corners positive means convex and positively
    oriented; a sign change means inverted or non-convex.
    """
    if cell_type == "line":
        return (points[cells[:, 1], 0] - points[cells[:, 0], 0])[:, None]
    neighbours = CORNER_NEIGHBOURS[cell_type]
    corners = points[cells]                                # (ncells, nnodes, dim)
    edges = corners[:, neighbours] - corners[:, :, None]   # (ncells, ncorners, dim, dim)
    return np.linalg.det(edges)


def signed_measures(points, cells, cell_type):
    """Signed length/area/volume of each cell (exact for simplices, corner mean otherwise)."""
    jac = corner_jacobians(points, cells, cell_type)
    scale = {"line": 1.0, "triangle": 0.5, "quad": 1.0, "tetra": 1.0 / 6.0,
             "hexahedron": 1.0}[cell_type]
    return scale * jac.mean(axis=1)


def shape_quality(points, cells, cell_type):
    """Shape quality in ``[0, 1]`` per cell; 1 for the equilateral/square/cubic cell.

    Simplices: the mean ratio ``c * measure^(2/d) / sum(edge length^2)``, normalized to 1 for
    the regular simplex and 0 for a flat one. Quads and hexahedra: the minimum scaled Jacobian
    (corner Jacobian over the product of its edge lengths), negative for an inverted corner.
    """
    if cell_type == "line":
        return np.ones(len(cells))
    if cell_type in ("triangle", "tetra"):
        dim = 2 if cell_type == "triangle" else 3
        # mean ratio: equals 1 for the regular simplex (4 sqrt(3) A / sum l^2 in 2D)
        lengths_sq = (edge_lengths(points, cells, cell_type) ** 2).sum(axis=1)
        measure = np.abs(signed_measures(points, cells, cell_type))
        if dim == 2:
            return 4.0 * np.sqrt(3.0) * measure / lengths_sq
        return 12.0 * (3.0 * measure) ** (2.0 / 3.0) / lengths_sq
    neighbours = CORNER_NEIGHBOURS[cell_type]
    corners = points[cells]
    edges = corners[:, neighbours] - corners[:, :, None]
    lengths = np.linalg.norm(edges, axis=-1).prod(axis=-1)
    scaled = np.linalg.det(edges) / np.where(lengths > 0, lengths, 1.0)
    return np.clip(scaled.min(axis=1), -1.0, 1.0)


def positively_oriented(points, cells, cell_type):
    """The cells with node order reversed where their orientation is negative."""
    cells = np.array(cells, copy=True)
    negative = signed_measures(points, cells, cell_type) < 0
    cells[negative] = cells[negative][:, FLIPPED_ORDER[cell_type]]
    return cells
