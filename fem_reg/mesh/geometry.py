"""Canonical geometries meshed with the gmsh Python API, with named boundaries.

Every function takes a target element size ``h`` (in the geometry's length unit) and returns a
scikit-fem mesh whose ``boundaries`` and ``subdomains`` carry the names listed in its
docstring. Meshes are unstructured by default; ``structured=True`` gives the transfinite
(mapped) meshes used in the literature. ``cell_type`` chooses triangles or quadrilaterals in
2D, tetrahedra or hexahedra in 3D (hexahedra need ``structured=True``).

The 2D shapes are all made by one builder, :func:`planar_mesh`, from a list of corner points,
polygons over them and named edges; it is public so that new shapes need a few lines only.
"""

import contextlib
import math
import signal
import threading
from collections.abc import Callable

import gmsh
import numpy as np
from skfem import Mesh, MeshQuad1

from ..checks import flag, one_of, positive
from ..errors import MeshError, ParameterError
from .names import vertex_at
from .raw import RawMesh, build_mesh
from .split import split_interface

GMSH_CELL_TYPES = {1: "line", 2: "triangle", 3: "quad", 4: "tetra", 5: "hexahedron",
                   15: "vertex"}


@contextlib.contextmanager
def gmsh_model(name):
    """A fresh gmsh model, removed afterwards; gmsh is initialized and finalized here unless
    the caller has it running already. One thread at a time: gmsh's state is global, and two
    threads meshing at once crash the process (levels run by a thread pool, or a Dask worker
    with several threads)."""
    with _GMSH:
        with _gmsh_model(name):
            yield


_GMSH = threading.RLock()


@contextlib.contextmanager
def _gmsh_model(name):
    started = not gmsh.isInitialized()
    if started:
        # interruptible=False: leave Ctrl-C to Python; no config files: reproducible meshes
        handlers = _python_signal_handlers()
        gmsh.initialize(readConfigFiles=False, interruptible=False)
        # gmsh's initialize installs its own C handler for SIGTERM (the process then dies
        # with no message and no clean-up) and sets SIGPIPE back to its default (a write to
        # a closed pipe, e.g. a process pool's at shutdown, then kills the process): give
        # Python's handlers back
        for number, handler in handlers.items():
            signal.signal(number, handler)
    previous = None if started else gmsh.model.getCurrent()
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.option.setNumber("General.NumThreads", 1)
    gmsh.model.add(name)
    try:
        yield
    finally:
        gmsh.model.remove()
        if started:
            gmsh.finalize()
        elif previous:
            gmsh.model.setCurrent(previous)


def _python_signal_handlers():
    """The Python-level handlers of SIGINT, SIGTERM and SIGPIPE (main thread only: elsewhere
    they cannot be set, and the main thread's are kept)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {number: signal.getsignal(number)
            for number in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE)
            if signal.getsignal(number) is not None}


def raw_from_gmsh(source):
    """The current gmsh model's mesh, physical groups as names, as a :class:`RawMesh`."""
    node_tags, coords, _ = gmsh.model.mesh.getNodes()
    index = np.full(int(node_tags.max()) + 1, -1, dtype=np.int64)
    index[node_tags.astype(np.int64)] = np.arange(len(node_tags))
    points = coords.reshape(-1, 3)
    dim = gmsh.model.getDimension()

    types, element_tags, element_nodes = gmsh.model.mesh.getElements(dim)
    if len(types) != 1:
        names = ", ".join(f"{GMSH_CELL_TYPES.get(int(t), t)} ({len(e)})"
                          for t, e in zip(types, element_tags))
        raise MeshError(f"{source}: gmsh produced mixed cell types {names}")
    cell_type = GMSH_CELL_TYPES[int(types[0])]
    cells = index[element_nodes[0].astype(np.int64)].reshape(len(element_tags[0]), -1)
    order = np.argsort(element_tags[0])
    sorted_tags = element_tags[0][order]

    subdomains, facet_sets = {}, {}
    for group_dim, tag in gmsh.model.getPhysicalGroups():
        name = gmsh.model.getPhysicalName(group_dim, tag) or str(tag)
        if group_dim not in (dim, dim - 1):
            continue
        ids, facets = [], []
        for entity in gmsh.model.getEntitiesForPhysicalGroup(group_dim, tag):
            _, tags, nodes = gmsh.model.mesh.getElements(group_dim, entity)
            for block_tags, block_nodes in zip(tags, nodes):
                if group_dim == dim:
                    ids.append(order[np.searchsorted(sorted_tags, block_tags)])
                else:
                    facets.append(index[block_nodes.astype(np.int64)]
                                  .reshape(len(block_tags), -1))
        if ids:
            subdomains[name] = np.concatenate(ids)
        if facets:
            facet_sets[name] = np.vstack(facets)
    return RawMesh(points=points, cell_type=cell_type, cells=cells, subdomains=subdomains,
                   facet_sets=facet_sets, source=source)


def _bounds(points):
    array = np.asarray(points, dtype=np.float64)
    return array.min(axis=0), array.max(axis=0)


def size_advice(h, size):
    """What to change when gmsh fails at ``h`` on a shape of diameter ``size``: a size far
    below the shape's needs a larger h (round-off in the geometry), one near the shape's
    own size a smaller h (too few points on its edges)."""
    if h < 1e-6 * size:
        return (f"h is {h / size:.1g} of the shape's size {size:.3g}, below what gmsh can "
                f"resolve: use a larger h")
    if h > 0.25 * size:
        return f"h is coarse next to the shape's size {size:.3g}: try a smaller h"
    return "check the shape's dimensions, or try another h"


def _check_cell_type(cell_type, allowed, structured):
    one_of("cell_type", cell_type, allowed)
    flag("structured", structured)
    if cell_type == "hexahedron" and not structured:
        raise ParameterError("cell_type 'hexahedron' needs structured=true (gmsh has no "
                             "robust unstructured all-hexahedral mesher)")


def _mesh_options(h, cell_type):
    gmsh.option.setNumber("Mesh.MeshSizeMax", h)
    gmsh.option.setNumber("Mesh.MeshSizeMin", 0.0)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
    if cell_type == "quad":
        # frontal-Delaunay for quads + blossom full-quad recombination: all quadrilaterals
        gmsh.option.setNumber("Mesh.Algorithm", 8)
        gmsh.option.setNumber("Mesh.RecombineAll", 1)
        gmsh.option.setNumber("Mesh.RecombinationAlgorithm", 3)
    else:
        gmsh.option.setNumber("Mesh.Algorithm", 6)      # frontal-Delaunay
        gmsh.option.setNumber("Mesh.RecombineAll", 0)
    gmsh.option.setNumber("Mesh.Algorithm3D", 1)        # Delaunay


def _divisions(length, h):
    return max(1, int(round(length / h)))


def planar_mesh(points, polygons, edge_names, h, *, cell_type="triangle", structured=False,
                subdomain_names=None, corners=None, refine_box=None,
                source="planar geometry"):
    """Mesh polygons with shared edges; name edges and polygons.

    Parameters
    ----------
    points
        Corner coordinates ``[(x, y), ...]``.
    polygons
        Each polygon as a list of point indices, counter-clockwise. Polygons that share an edge
        share its nodes (a conforming interface).
    edge_names
        Name -> list of edges ``(i, j)`` (point indices, either direction).
    h
        Target element size.
    cell_type
        ``"triangle"`` or ``"quad"``.
    structured
        Transfinite (mapped) mesh: every polygon needs four ``corners`` and the edges of
        opposite sides must add up to the same number of divisions (``round(length / h)``).
    subdomain_names
        Name -> list of polygon indices (default: ``{"domain": all}``).
    corners
        For ``structured``: per polygon, the four point indices at its corners.
    refine_box
        ``(x0, x1, y0, y1, size)``: elements of ``size`` inside the box (a gmsh Box field),
        ``h`` outside.
    """
    h = positive("h", h)
    _check_cell_type(cell_type, ("triangle", "quad"), structured)
    points = [tuple(map(float, p)) for p in points]
    with gmsh_model(source):
        geo = gmsh.model.geo
        point_tags = [geo.addPoint(x, y, 0.0) for x, y in points]
        lines = {}

        def line(i, j):
            if (j, i) in lines:
                return -lines[(j, i)]
            if (i, j) not in lines:
                lines[(i, j)] = geo.addLine(point_tags[i], point_tags[j])
            return lines[(i, j)]

        surfaces = []
        for polygon in polygons:
            loop = [line(polygon[k], polygon[(k + 1) % len(polygon)])
                    for k in range(len(polygon))]
            surfaces.append(geo.addPlaneSurface([geo.addCurveLoop(loop)]))
        geo.synchronize()

        def length(i, j):
            return math.dist(points[i], points[j])

        if structured:
            if corners is None:
                raise ParameterError(f"{source}: structured meshing needs four corners per "
                                     f"polygon")
            for (i, j), tag in lines.items():
                gmsh.model.mesh.setTransfiniteCurve(tag, _divisions(length(i, j), h) + 1)
            for polygon, surface, corner in zip(polygons, surfaces, corners):
                _check_opposite_sides(polygon, corner, lambda i, j: _divisions(length(i, j), h),
                                      source)
                gmsh.model.mesh.setTransfiniteSurface(
                    surface, "Left", [point_tags[c] for c in corner])
                if cell_type == "quad":
                    gmsh.model.mesh.setRecombine(2, surface)

        for name, edges in edge_names.items():
            tags = [abs(line(i, j)) for i, j in edges]
            gmsh.model.addPhysicalGroup(1, tags, name=name)
        if subdomain_names is None:
            subdomain_names = {"domain": list(range(len(polygons)))}
        for name, ids in subdomain_names.items():
            gmsh.model.addPhysicalGroup(2, [surfaces[i] for i in ids], name=name)
        _mesh_options(h, cell_type)
        if refine_box is not None:
            x0, x1, y0, y1, size = map(float, refine_box)
            _refine_in_box(h, size, XMin=x0, XMax=x1, YMin=y0, YMax=y1)
        try:
            gmsh.model.mesh.generate(2)
        except Exception as err:          # gmsh raises bare Exception with its last error
            raise MeshError(f"{source}: gmsh could not mesh it at h = {h:g} with "
                            f"{cell_type} cells ({err}); "
                            f"{size_advice(h, math.dist(*_bounds(points)))}") from None
        return build_mesh(raw_from_gmsh(source))


def _refine_in_box(h, size, **bounds):
    """Elements of ``size`` inside the box ``bounds`` (gmsh's ``XMin``, ``XMax``, ...),
    grading to ``h`` over ``2 h`` outside it."""
    field = gmsh.model.mesh.field.add("Box")
    for key, value in (("VIn", positive("refine_box size", size)), ("VOut", h),
                       ("Thickness", 2.0 * h), *bounds.items()):
        gmsh.model.mesh.field.setNumber(field, key, value)
    gmsh.model.mesh.field.setAsBackgroundMesh(field)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)


def _check_opposite_sides(polygon, corner, divisions, source):
    """Transfinite meshing: opposite sides need equal total divisions."""
    start = [polygon.index(c) for c in corner]
    sides = []
    for k in range(4):
        a, b = start[k], start[(k + 1) % 4]
        idx = [polygon[(a + m) % len(polygon)] for m in range((b - a) % len(polygon) + 1)]
        sides.append(sum(divisions(idx[m], idx[m + 1]) for m in range(len(idx) - 1)))
    if sides[0] != sides[2] or sides[1] != sides[3]:
        raise ParameterError(f"{source}: structured mesh impossible with this h: opposite "
                             f"sides get {sides[0]}/{sides[2]} and {sides[1]}/{sides[3]} "
                             f"divisions; choose h so that every edge length (and split "
                             f"point) is a multiple of h")


def rectangle(h=0.1, *, width=1.0, height=1.0, cell_type="triangle", structured=False):
    """Rectangle ``[0, width] x [0, height]``.

    Boundaries: ``left``, ``right``, ``bottom``, ``top``. Subdomain: ``domain``.
    """
    pts = [(0, 0), (width, 0), (width, height), (0, height)]
    return planar_mesh(pts, [[0, 1, 2, 3]],
                       {"bottom": [(0, 1)], "right": [(1, 2)], "top": [(2, 3)],
                        "left": [(3, 0)]},
                       h, cell_type=cell_type, structured=structured, corners=[[0, 1, 2, 3]],
                       source="rectangle")


def cook_membrane(h=4.0, *, cell_type="triangle", structured=False):
    """Cook's tapered membrane: corners (0,0), (48,44), (48,60), (0,44).

    Boundaries: ``clamped`` (x = 0), ``loaded`` (x = 48), ``bottom``, ``top``.
    Subdomain: ``membrane``. Structured meshes have ``round(48 / h)`` elements per side
    (h = 48 / N for the literature's N x N meshes).
    """
    h = positive("h", h)
    pts = [(0, 0), (48, 44), (48, 60), (0, 44)]
    if structured:
        # N x N mapped mesh as in the literature, whatever the side lengths
        n = _divisions(48.0, h)
        return _mapped_quadrilateral(pts, n, cell_type, "cook_membrane",
                                     {"bottom": 0, "loaded": 1, "top": 2, "clamped": 3},
                                     "membrane")
    return planar_mesh(pts, [[0, 1, 2, 3]],
                       {"bottom": [(0, 1)], "loaded": [(1, 2)], "top": [(2, 3)],
                        "clamped": [(3, 0)]},
                       h, cell_type=cell_type, subdomain_names={"membrane": [0]},
                       source="cook_membrane")


def _mapped_quadrilateral(pts, n, cell_type, source, side_names, subdomain):
    """An n x n transfinite mesh of a four-sided polygon (sides named by index)."""
    _check_cell_type(cell_type, ("triangle", "quad"), True)
    with gmsh_model(source):
        geo = gmsh.model.geo
        tags = [geo.addPoint(x, y, 0.0) for x, y in pts]
        lines = [geo.addLine(tags[k], tags[(k + 1) % 4]) for k in range(4)]
        surface = geo.addPlaneSurface([geo.addCurveLoop(lines)])
        geo.synchronize()
        for line in lines:
            gmsh.model.mesh.setTransfiniteCurve(line, n + 1)
        gmsh.model.mesh.setTransfiniteSurface(surface, "Left", tags)
        if cell_type == "quad":
            gmsh.model.mesh.setRecombine(2, surface)
        for name, k in side_names.items():
            gmsh.model.addPhysicalGroup(1, [lines[k]], name=name)
        gmsh.model.addPhysicalGroup(2, [surface], name=subdomain)
        _mesh_options(48.0 / n, cell_type)
        gmsh.model.mesh.generate(2)
        return build_mesh(raw_from_gmsh(source))


def mbb_beam(h=1.0, *, length=60.0, height=20.0, load_width=1.0, support_width=1.0,
             cell_type="triangle", structured=False):
    """MBB half-beam ``[0, length] x [0, height]`` (the symmetric half of the full beam).

    Boundaries: ``symmetry`` (x = 0), ``load`` (top edge, ``0 <= x <= load_width``),
    ``support`` (bottom edge, ``length - support_width <= x <= length``), ``top``, ``bottom``,
    ``right`` (the remaining parts; ``top`` and ``bottom`` include the load and support).
    Subdomain: ``design``. Load and support act on segments, not points, so that compliance
    has a finite limit under refinement.
    """
    _check_positive(length=length, height=height, load_width=load_width,
                    support_width=support_width)
    if load_width >= length or support_width >= length:
        raise ParameterError("load_width and support_width must be shorter than length")
    L, H = float(length), float(height)
    pts = [(0, 0), (L - support_width, 0), (L, 0), (L, H), (load_width, H), (0, H)]
    return planar_mesh(pts, [[0, 1, 2, 3, 4, 5]],
                       {"symmetry": [(5, 0)], "load": [(4, 5)],
                        "support": [(1, 2)], "top": [(3, 4), (4, 5)],
                        "bottom": [(0, 1), (1, 2)], "right": [(2, 3)]},
                       h, cell_type=cell_type, structured=structured,
                       subdomain_names={"design": [0]}, corners=[[0, 2, 3, 5]],
                       source="mbb_beam")


def cantilever(h=0.05, *, length=2.0, height=1.0, load_width=0.1, cell_type="triangle",
               structured=False):
    """Cantilever ``[0, length] x [0, height]`` clamped at x = 0.

    Boundaries: ``clamped`` (x = 0), ``tip`` (x = length), ``load`` (the middle
    ``load_width`` of the tip), ``top``, ``bottom``. Subdomain: ``beam``.
    """
    _check_positive(length=length, height=height, load_width=load_width)
    if load_width >= height:
        raise ParameterError("load_width must be smaller than height")
    L, H = float(length), float(height)
    a, b = 0.5 * (H - load_width), 0.5 * (H + load_width)
    pts = [(0, 0), (L, 0), (L, a), (L, b), (L, H), (0, H)]
    return planar_mesh(pts, [[0, 1, 2, 3, 4, 5]],
                       {"clamped": [(5, 0)], "tip": [(1, 2), (2, 3), (3, 4)],
                        "load": [(2, 3)], "top": [(4, 5)], "bottom": [(0, 1)]},
                       h, cell_type=cell_type, structured=structured,
                       subdomain_names={"beam": [0]}, corners=[[0, 1, 4, 5]],
                       source="cantilever")


def l_bracket(h=0.05, *, size=1.0, arm=0.4, cell_type="triangle", structured=False):
    """L-shaped bracket: the square ``[0, size]^2`` without ``[arm, size] x [arm, size]``.

    The reentrant corner at ``(arm, arm)`` concentrates stress (a singularity for elasticity).
    Boundaries: ``clamped`` (top of the vertical arm, y = size), ``loaded`` (right end of the
    horizontal arm, x = size), ``reentrant`` (the two inner edges meeting at the corner),
    ``outer`` (x = 0 and y = 0). Subdomain: ``bracket``.
    """
    _check_positive(size=size, arm=arm)
    if arm >= size:
        raise ParameterError("arm must be smaller than size")
    S, A = float(size), float(arm)
    pts = [(0, 0), (A, 0), (S, 0), (S, A), (A, A), (A, S), (0, S), (0, A)]
    # three quadrilateral blocks so that a structured mesh exists
    polygons = [[0, 1, 4, 7], [1, 2, 3, 4], [7, 4, 5, 6]]
    return planar_mesh(pts, polygons,
                       {"clamped": [(5, 6)], "loaded": [(2, 3)],
                        "reentrant": [(3, 4), (4, 5)],
                        "outer": [(0, 1), (1, 2), (6, 7), (7, 0)]},
                       h, cell_type=cell_type, structured=structured,
                       subdomain_names={"bracket": [0, 1, 2]},
                       corners=[[0, 1, 4, 7], [1, 2, 3, 4], [7, 4, 5, 6]],
                       source="l_bracket")


def block_on_base(h=0.05, *, width=1.0, height=0.5, base_height=0.25, base_margin=0.25,
                  with_base=True, cell_type="triangle", structured=False):
    """An elastic block ``[0, width] x [0, height]`` resting on a base below ``y = 0``.

    Boundaries: ``interface`` (the contact line y = 0 under the block), ``block_top``,
    ``block_left``, ``block_right``; with the base also ``base_bottom``, ``base_left``,
    ``base_right``, ``base_top`` (its free top surface beside the block).
    Subdomains: ``block`` and, with the base, ``base``. Block and base share the interface
    nodes (a conforming mesh); ``with_base=False`` meshes the block alone (rigid base).
    """
    _check_positive(width=width, height=height)
    W, H = float(width), float(height)
    if not with_base:
        pts = [(0, 0), (W, 0), (W, H), (0, H)]
        return planar_mesh(pts, [[0, 1, 2, 3]],
                           {"interface": [(0, 1)], "block_right": [(1, 2)],
                            "block_top": [(2, 3)], "block_left": [(3, 0)]},
                           h, cell_type=cell_type, structured=structured,
                           subdomain_names={"block": [0]}, corners=[[0, 1, 2, 3]],
                           source="block_on_base")
    _check_positive(base_height=base_height, base_margin=base_margin)
    B, M = float(base_height), float(base_margin)
    pts = [(0, 0), (W, 0), (W, H), (0, H),                       # block
           (-M, -B), (W + M, -B), (W + M, 0), (-M, 0)]           # base
    # the base is split at x = 0 and x = width so that every block is four-sided
    pts += [(0, -B), (W, -B)]
    polygons = [[0, 1, 2, 3], [4, 8, 0, 7], [8, 9, 1, 0], [9, 5, 6, 1]]
    return planar_mesh(pts, polygons,
                       {"interface": [(0, 1)], "block_right": [(1, 2)],
                        "block_top": [(2, 3)], "block_left": [(3, 0)],
                        "base_bottom": [(4, 8), (8, 9), (9, 5)], "base_right": [(5, 6)],
                        "base_left": [(7, 4)], "base_top": [(6, 1), (0, 7)]},
                       h, cell_type=cell_type, structured=structured,
                       subdomain_names={"block": [0], "base": [1, 2, 3]},
                       corners=polygons, source="block_on_base")


def cantilever_box(h=0.25, *, length=4.0, width=1.0, height=1.0, cell_type="tetra",
                   structured=False):
    """3D cantilever box ``[0, length] x [0, width] x [0, height]`` clamped at x = 0.

    Boundaries: ``clamped`` (x = 0), ``tip`` (x = length), ``bottom``, ``top`` (z),
    ``front``, ``back`` (y). Subdomain: ``beam``. Hexahedra need ``structured=True``.
    """
    h = positive("h", h)
    _check_cell_type(cell_type, ("tetra", "hexahedron"), structured)
    _check_positive(length=length, width=width, height=height)
    size = (float(length), float(width), float(height))
    with gmsh_model("cantilever_box"):
        volume = gmsh.model.occ.addBox(0, 0, 0, *size)
        gmsh.model.occ.synchronize()
        eps = 1e-3 * min(size)   # OCC pads bounding boxes by ~1e-7
        faces = {}
        for axis, (low, high) in enumerate((("clamped", "tip"), ("front", "back"),
                                            ("bottom", "top"))):
            for name, value in ((low, 0.0), (high, size[axis])):
                box_min = [-eps, -eps, -eps]
                box_max = [s + eps for s in size]
                box_min[axis], box_max[axis] = value - eps, value + eps
                faces[name] = [tag for _, tag in
                               gmsh.model.getEntitiesInBoundingBox(*box_min, *box_max, 2)]
        if structured:
            for _, curve in gmsh.model.getEntities(1):
                x0, y0, z0, x1, y1, z1 = gmsh.model.getBoundingBox(1, curve)
                gmsh.model.mesh.setTransfiniteCurve(
                    curve, _divisions(max(x1 - x0, y1 - y0, z1 - z0), h) + 1)
            for _, surface in gmsh.model.getEntities(2):
                gmsh.model.mesh.setTransfiniteSurface(surface)
                if cell_type == "hexahedron":
                    gmsh.model.mesh.setRecombine(2, surface)
            gmsh.model.mesh.setTransfiniteVolume(volume)
        for name, tags in faces.items():
            gmsh.model.addPhysicalGroup(2, tags, name=name)
        gmsh.model.addPhysicalGroup(3, [volume], name="beam")
        _mesh_options(h, cell_type)
        gmsh.model.mesh.generate(3)
        return build_mesh(raw_from_gmsh("cantilever_box"))


def _fixed_mesh(points, quads, cell_type, boundaries, subdomain):
    """A hand-made element-test mesh: quadrilaterals, or each cut into two triangles along
    its first corner's diagonal ``a-c``; named boundary facets by their midpoints."""
    mesh = MeshQuad1(np.ascontiguousarray(points.T), np.ascontiguousarray(quads.T))
    if cell_type == "triangle":
        # skfem cuts (a, b, c, d) along b-d: start each quad at b to cut along a-c
        mesh = MeshQuad1(mesh.p, mesh.t[[1, 2, 3, 0]]).to_meshtri()
    return mesh.with_boundaries(boundaries) \
        .with_subdomains({subdomain: lambda x: np.ones(x.shape[1], dtype=bool)})


MACNEAL_HARDER_SHAPES = ("regular", "trapezoidal", "parallelogram")


def macneal_harder_beam(shape="regular", *, cell_type="quad", length=6.0, height=0.2,
                        elements=6):
    """The slender cantilever of MacNeal & Harder (1985): ``elements`` cells along
    ``[0, length] x [0, height]``, one through the height, with interior edges vertical
    (``regular``), inclined at 45 degrees alternately (``trapezoidal``) or all the same way
    (``parallelogram``). Triangles cut each quadrilateral along a diagonal.

    Boundaries: ``clamped`` (x = 0), ``tip`` (x = length), ``bottom``, ``top``.
    Subdomain: ``beam``.
    """
    one_of("shape", shape, MACNEAL_HARDER_SHAPES)
    one_of("cell_type", cell_type, ("quad", "triangle"))
    _check_positive(length=length, height=height)
    if elements < 2 or int(elements) != elements:
        raise ParameterError(f"elements must be an integer >= 2, got {elements!r}")
    x = np.linspace(0.0, length, int(elements) + 1)
    shift = np.zeros_like(x)
    if shape == "parallelogram":
        shift[1:-1] = height
    elif shape == "trapezoidal":
        shift[1:-1] = height * (-1.0) ** np.arange(1, len(x) - 1)
    if np.any(np.diff(x + shift) <= 0):
        raise ParameterError(f"{shape} beam: elements too short for 45-degree edges "
                             f"(length / elements must exceed 2 * height)")
    points = np.concatenate([np.stack([x, np.zeros_like(x)], 1),
                             np.stack([x + shift, np.full_like(x, height)], 1)])
    n = len(x)
    k = np.arange(n - 1)
    tol = 1e-9 * length
    return _fixed_mesh(points, np.stack([k, k + 1, n + k + 1, n + k], axis=1), cell_type, {
        "clamped": lambda m: np.abs(m[0]) < tol,
        "tip": lambda m: np.abs(m[0] - length) < tol,
        "bottom": lambda m: np.abs(m[1]) < tol,
        "top": lambda m: np.abs(m[1] - height) < tol}, "beam")


def distorted_patch(*, cell_type="quad"):
    """The patch-test domain of MacNeal & Harder (1985): the rectangle 0.24 x 0.12 cut
    into five distorted quadrilaterals (or ten triangles) around the interior nodes (0.04,
    0.02), (0.18, 0.03), (0.16, 0.08), (0.08, 0.08).

    Boundaries: ``left``, ``right``, ``bottom``, ``top``. Subdomain: ``patch``.
    """
    one_of("cell_type", cell_type, ("quad", "triangle"))
    points = np.array([[0.0, 0.0], [0.24, 0.0], [0.24, 0.12], [0.0, 0.12],
                       [0.04, 0.02], [0.18, 0.03], [0.16, 0.08], [0.08, 0.08]])
    quads = np.array([[0, 1, 5, 4], [1, 2, 6, 5], [2, 3, 7, 6], [3, 0, 4, 7], [4, 5, 6, 7]])
    return _fixed_mesh(points, quads, cell_type, {
        "left": lambda m: np.isclose(m[0], 0.0),
        "right": lambda m: np.isclose(m[0], 0.24),
        "bottom": lambda m: np.isclose(m[1], 0.0),
        "top": lambda m: np.isclose(m[1], 0.12)}, "patch")


def interval(h=0.05, *, length=1.0, structured=True):
    """The line ``[0, length]`` (a bar) in cells of size about ``h``; boundaries ``left`` and
    ``right``, subdomain ``bar``. ``structured=False`` moves the interior nodes by up to a
    quarter cell (reproducibly) for an irregular 1D mesh."""
    _check_positive(h=h, length=length)
    flag("structured", structured)
    n = max(1, math.ceil(length / h - 1e-9))
    x = np.linspace(0.0, float(length), n + 1)
    if not structured and n > 1:
        step = length / n
        x[1:-1] += np.random.default_rng(n).uniform(-0.25, 0.25, n - 1) * step
    from skfem import MeshLine1
    mesh = MeshLine1(x[None, :], np.vstack((np.arange(n), np.arange(1, n + 1))))
    return mesh.with_boundaries({"left": lambda p: np.isclose(p[0], 0.0),
                                 "right": lambda p: np.isclose(p[0], length)}) \
        .with_subdomains({"bar": lambda p: np.ones(p.shape[1], dtype=bool)})


def _check_positive(**values):
    for name, value in values.items():
        positive(name, value)


# name -> mesher(h, **options); the signatures differ by shape
def sent_specimen(h=0.05, *, h_crack=None, band=0.1, box=None, width=1.0, notch_length=0.5,
                  slit=True, cell_type="triangle"):
    """The single-edge-notched specimen of Miehe, Hofacker & Welschinger (2010): the square
    ``[0, width]^2`` with a horizontal notch from the left edge to ``x = notch_length`` at
    mid-height.

    ``slit = True`` makes the notch a geometric slit (its nodes doubled but for the tip);
    ``False`` leaves the mesh whole (the notch is then modelled by an initial damage band).
    Elements of ``h_crack`` (default ``h``) fill the band ``|y - width/2| <= band`` ahead of
    the notch, where the crack runs in tension, and without a slit also along the notch
    (a damage band there must be resolved by the mesh to act as a notch). ``box = [x0, x1,
    y0, y1]`` puts them in that rectangle instead: the shear test's crack runs from the tip
    down to the bottom right.

    Boundaries: ``bottom``, ``top``, ``left``, ``right``, ``notch`` (with a slit, its upper
    face; ``notch_lower`` the lower one), ``ligament`` (the mid-line ahead of the notch).
    Subdomains: ``upper``, ``lower``.
    """
    _check_positive(width=width, notch_length=notch_length, band=band)
    W, a, c = float(width), float(notch_length), float(width) / 2.0
    if not a < W:
        raise ParameterError(f"sent_specimen: notch_length = {a:g} must be below width = {W:g}")
    pts = [(0, 0), (W, 0), (W, c), (W, W), (0, W), (0, c), (a, c)]
    polygons = [[0, 1, 2, 6, 5], [5, 6, 2, 3, 4]]
    names = {"bottom": [(0, 1)], "right": [(1, 2), (2, 3)], "top": [(3, 4)],
             "left": [(4, 5), (5, 0)], "notch": [(5, 6)], "ligament": [(6, 2)]}
    size = h if h_crack is None else positive("h_crack", h_crack)
    if box is None:
        start = a - band if slit else -h
        box = (start, W + h, c - band, c + band)
    else:
        given = box
        try:
            box = tuple(float(v) for v in given)
        except (TypeError, ValueError):
            box = ()
        if len(box) != 4 or not (box[0] < box[1] and box[2] < box[3]):
            raise ParameterError(f"sent_specimen: box = {given!r} must be [x0, x1, y0, y1] "
                                 f"with x0 < x1 and y0 < y1")
    refine = (*box, size) if size < h else None
    mesh = planar_mesh(pts, polygons, names, h, cell_type=cell_type,
                       subdomain_names={"lower": [0], "upper": [1]}, refine_box=refine,
                       source="sent_specimen")
    if not slit:
        return mesh
    # the upper body's cells take the copies: 'notch' is its face, 'notch_lower' the other
    split, _ = split_interface(mesh, "notch", "lower", keep=[vertex_at(mesh, (a, c), "the notch tip")])
    return split


def sent_slab(h=0.05, *, h_crack=None, band=0.1, thickness=0.1, notch_width=None, width=1.0,
              notch_length=0.5):
    """The single-edge-notched specimen in 3D: the slab ``[0, width]^2 x [0, thickness]``
    with a notch of ``notch_width`` (default ``h_crack``, at most ``width / 20``) cut
    through its thickness from the left face to ``x = notch_length`` at mid-height;
    tetrahedra, those of ``h_crack`` in the band ``|y - width/2| <= band`` ahead of the
    notch.

    Boundaries: ``bottom``, ``top`` (y), ``left``, ``right`` (x), ``front``, ``back`` (z),
    ``notch`` (the cut's faces). Subdomain: ``slab``.
    """
    _check_positive(width=width, notch_length=notch_length, band=band, thickness=thickness)
    W, a, t = float(width), float(notch_length), float(thickness)
    if not a < W:
        raise ParameterError(f"sent_slab: notch_length = {a:g} must be below width = {W:g}")
    size = h if h_crack is None else positive("h_crack", h_crack)
    w = min(size, W / 20.0) if notch_width is None else positive("notch_width", notch_width)
    if not w < W / 2.0:
        raise ParameterError(f"sent_slab: notch_width = {w:g} must be below width / 2")
    c = W / 2.0
    with gmsh_model("sent_slab"):
        occ = gmsh.model.occ
        cut, _ = occ.cut([(3, occ.addBox(0.0, 0.0, 0.0, W, W, t))],
                         [(3, occ.addBox(-0.1 * W, c - w / 2.0, -t, a + 0.1 * W, w, 3.0 * t))])
        occ.synchronize()
        eps = 1e-6 * W

        def faces(x0, y0, z0, x1, y1, z1):
            return [tag for _, tag in gmsh.model.getEntitiesInBoundingBox(
                x0 - eps, y0 - eps, z0 - eps, x1 + eps, y1 + eps, z1 + eps, 2)]

        named = {"bottom": faces(0, 0, 0, W, 0, t), "top": faces(0, W, 0, W, W, t),
                 "left": faces(0, 0, 0, 0, W, t), "right": faces(W, 0, 0, W, W, t),
                 "front": faces(0, 0, 0, W, W, 0), "back": faces(0, 0, t, W, W, t),
                 "notch": faces(0, c - w / 2.0, 0, a, c + w / 2.0, t)}
        for name, tags in named.items():
            gmsh.model.addPhysicalGroup(2, tags, name=name)
        gmsh.model.addPhysicalGroup(3, [tag for _, tag in cut], name="slab")
        _mesh_options(h, "tetra")
        if size < h:
            _refine_in_box(h, size, XMin=a - band, XMax=W + h, YMin=c - band, YMax=c + band,
                           ZMin=-h, ZMax=t + h)
        try:
            gmsh.model.mesh.generate(3)
        except Exception as err:          # gmsh raises bare Exception with its last error
            raise MeshError(f"sent_slab: gmsh failed: {err}") from err
        return build_mesh(raw_from_gmsh("sent_slab"))


GEOMETRIES: dict[str, Callable[..., Mesh]] = {
    "rectangle": rectangle,
    "cook_membrane": cook_membrane,
    "mbb_beam": mbb_beam,
    "cantilever": cantilever,
    "l_bracket": l_bracket,
    "block_on_base": block_on_base,
    "cantilever_box": cantilever_box,
    "interval": interval,
    "sent_specimen": sent_specimen,
    "sent_slab": sent_slab,
}
# macneal_harder_beam and distorted_patch are fixed element-test meshes (no size h), so they
# are not in the registry that remeshing and case files draw from.
