"""Meshes and mesh sequences from a plain description (a case file's ``[mesh]`` table).

``{"geometry": "cook_membrane", "h": 4.0, "cell_type": "quad"}`` meshes a canonical geometry;
``{"file": "meshes/cook_membrane.msh"}`` reads a file (relative to ``base_dir``); either may
add ``refine = n`` uniform refinements.
"""

import inspect
from pathlib import Path

from ..checks import integer, number, one_of
from ..errors import CaseError, FemRegError, UnknownNameError
from .estimate import estimate_geometry, estimate_refined, estimate_remeshing
from .geometry import GEOMETRIES
from .io import load_mesh
from .make import make_geometry
from .refine import Remeshing, UniformRefinement, refine

REFINEMENTS = ("remesh", "uniform")


def geometry_options(name):
    """Keyword options of a canonical geometry, with their defaults."""
    signature = inspect.signature(GEOMETRIES[name])
    return {k: p.default for k, p in signature.parameters.items()}


def _split(spec, source):
    if not isinstance(spec, dict):
        raise CaseError(f"{source}: must be a table of keys, got {spec!r}")
    has_file, has_geometry = "file" in spec, "geometry" in spec
    if has_file == has_geometry:
        raise CaseError(f"{source}: give either 'file' or 'geometry' (one of "
                        f"{', '.join(GEOMETRIES)})")
    options = {k: v for k, v in spec.items() if k not in ("file", "geometry", "refine")}
    levels = integer(f"{source} refine", spec.get("refine", 0), low=0)
    if has_file:
        if options:
            raise CaseError(f"{source}: unknown key '{next(iter(options))}' for a mesh file; "
                            f"allowed: file, refine")
        return None, options, levels
    geometry = spec["geometry"]
    if geometry not in GEOMETRIES:
        raise UnknownNameError(f"{source}: unknown geometry '{geometry}'; known: "
                               f"{', '.join(GEOMETRIES)}")
    allowed = geometry_options(geometry)
    for key in options:
        if key not in allowed:
            raise CaseError(f"{source}: unknown key '{key}' for geometry '{geometry}'; "
                            f"allowed: file, geometry, refine, {', '.join(allowed)}")
    return geometry, options, levels


def mesh_from_spec(spec, base_dir=".", source="[mesh]"):
    """Build the mesh a ``[mesh]`` table describes."""
    geometry, options, levels = _split(spec, source)
    if geometry is None:
        path = Path(spec["file"])
        mesh = load_mesh(path if path.is_absolute() else Path(base_dir) / path)  # names file
    else:
        try:
            mesh = make_geometry(geometry, **options)
        except FemRegError as err:
            raise err.within(source)
    return refine(mesh, levels)


def sequence_from_spec(spec, levels, base_dir=".", refinement="remesh", ratio=2.0,
                       source="[mesh]"):
    """A :class:`MeshSequence` starting at the ``[mesh]`` description.

    ``refinement="remesh"`` meshes the geometry again at ``h / ratio^k``; ``"uniform"``
    splits the cells of the level-0 mesh (the only way for a mesh file).
    """
    one_of("refinement", refinement, REFINEMENTS)
    geometry, options, pre = _split(spec, source)
    try:
        if refinement == "uniform" or geometry is None:
            if refinement == "remesh":
                raise CaseError(f"{source}: refinement 'remesh' needs a geometry; a mesh "
                                f"file can only be refined uniformly (refinement = "
                                f"\"uniform\")")
            return UniformRefinement(mesh_from_spec(spec, base_dir, source), levels)
        if pre:
            raise CaseError(f"{source}: 'refine' is for uniform refinement; with "
                            f"refinement 'remesh' set a smaller h instead")
        options = dict(options)
        h = options.pop("h", geometry_options(geometry)["h"])
        return Remeshing(geometry, h, levels, number("ratio", ratio, low=1.0, low_open=True),
                         **options)
    except CaseError:
        raise
    except FemRegError as err:
        raise err.within(source)


def estimate_spec(spec, levels=1, base_dir=".", refinement="remesh", ratio=2.0,
                  source="[mesh]"):
    """Estimated cells and nodes of each level (one for a run) of a ``[mesh]`` description,
    without making any fine mesh (a mesh file is read: its cells are known)."""
    one_of("refinement", refinement, REFINEMENTS)
    geometry, options, pre = _split(spec, source)
    try:
        if geometry is None:
            base = mesh_from_spec({"file": spec["file"]}, base_dir, source)
            return [estimate_refined(base, pre + k) for k in range(levels)]
        options = dict(options)
        h = options.pop("h", geometry_options(geometry)["h"])
        h = number(f"{source} h", h, low=0.0, low_open=True)
        if refinement == "remesh" and levels > 1:
            return estimate_remeshing(geometry, h, levels,
                                      number("ratio", ratio, low=1.0, low_open=True), options)
        first = estimate_geometry(geometry, h, options)
        return [first.refined(pre + k) for k in range(levels)]
    except CaseError:
        raise
    except FemRegError as err:
        raise err.within(source)
