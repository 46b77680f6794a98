"""Cells and nodes of a mesh before it is made: the measure of the geometry (from its
coarsest mesh, made in milliseconds) over the cell size, or a file's mesh times the growth
of uniform refinement.

Cells per ``h^dim`` of gmsh's meshes at ``Mesh.MeshSizeMax = h``, measured on the unit
square and the 4 x 1 x 1 box: unstructured triangles 2.33 (equilateral: 2.31), quads 1.0,
structured triangles 2.0, unstructured tetrahedra 4.8, structured tetrahedra 6.0, hexahedra
1.0. Vertices per cell: triangles 0.52, quads 1.04, tetrahedra 0.22, hexahedra 1.24.
"""

from skfem import MeshHex1, MeshLine1, MeshQuad1, MeshTet1, MeshTri1

from ..errors import FemRegError
from ..resources import Estimate
from .geometry import GEOMETRIES
from .size import measure

CELLS_PER_H = {("triangle", False): 2.33, ("triangle", True): 2.0, ("quad", False): 1.0,
               ("quad", True): 1.0, ("tetra", False): 4.8, ("tetra", True): 6.0,
               ("hexahedron", True): 1.0, ("line", False): 1.0, ("line", True): 1.0}
NODES_PER_CELL = {MeshTri1: 0.52, MeshQuad1: 1.04, MeshTet1: 0.22, MeshHex1: 1.24,
                  MeshLine1: 1.01}
CELL_TYPES = {MeshTri1: "triangle", MeshQuad1: "quad", MeshTet1: "tetra",
              MeshHex1: "hexahedron", MeshLine1: "line"}
PROBE_H = 1e30               # gmsh then meshes with the boundary's points only


def _probe(geometry, options):
    """The coarsest mesh of a geometry (exact measure for polygonal shapes)."""
    try:
        return GEOMETRIES[geometry](h=PROBE_H, **options)
    except FemRegError:
        # a structured shape may need a few divisions per side: its default size does
        return GEOMETRIES[geometry](**options)


def estimate_geometry(geometry, h, options=None, probe=None):
    """Estimated cells and nodes of ``GEOMETRIES[geometry](h=h, **options)``."""
    options = dict(options or {})
    probe = _probe(geometry, options) if probe is None else probe
    kind = type(probe)
    dim = probe.dim()
    structured = bool(options.get("structured", False))
    factor = CELLS_PER_H.get((CELL_TYPES.get(kind, "triangle"), structured), 2.33)
    cells = max(float(probe.nelements), factor * measure(probe) / float(h) ** dim)
    return Estimate(cells=cells, nodes=cells * NODES_PER_CELL.get(kind, 1.0), dim=dim)


def estimate_refined(mesh, times):
    """Cells and nodes of ``mesh`` split uniformly ``times`` times (2^dim children each)."""
    cells = float(mesh.nelements)
    return Estimate(cells=cells, nodes=cells * NODES_PER_CELL.get(type(mesh), 1.0),
                    dim=mesh.dim()).refined(times)


def estimate_remeshing(geometry, h, levels, ratio, options=None):
    """One estimate per level of ``Remeshing(geometry, h, levels, ratio, **options)``."""
    probe = _probe(geometry, dict(options or {}))
    return [estimate_geometry(geometry, h / ratio ** k, options, probe)
            for k in range(levels)]

