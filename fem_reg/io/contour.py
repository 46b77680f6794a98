"""Smooth boundaries of a design: the iso-line (2D) of a field at a level, or the closed
surface of the region above it (3D), after averaging cell fields to the vertices (VTK's
contour and clip filters through pyvista)."""

from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import ParameterError, UnknownNameError
from .plot import _pyvista


SOLID_CELLS = ("tetra", "hexahedron", "wedge", "pyramid")


def write_contour(result, field, value, path):
    """Write the contour of ``field`` at ``value`` as ``.vtp`` (ParaView) or ``.stl`` (3D, for
    CAD). ``result`` is a :class:`~fem_reg.io.Result` or a ``meshio.Mesh`` (a written
    ``.vtu`` read back). Returns the path; an empty contour is an error naming the field's
    range."""
    path = Path(path)
    if path.suffix.lower() not in (".vtp", ".stl"):
        raise ParameterError(f"{path}: contours are written as .vtp or .stl")
    mesh = result.to_meshio() if hasattr(result, "to_meshio") else result
    values, kind = _named_field(mesh, field)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ParameterError(f"contour field '{field}' must be a scalar field")
    if not values.min() < value < values.max():
        raise ParameterError(f"contour of '{field}' at {value:g}: the field ranges over "
                             f"[{values.min():.3g}, {values.max():.3g}]")
    solid = any(block.type in SOLID_CELLS for block in mesh.cells)
    if path.suffix.lower() == ".stl" and not solid:
        raise ParameterError(f"{path}: STL is for 3D iso-surfaces; use .vtp in 2D")
    pv = _pyvista()
    grid = pv.from_meshio(mesh)
    grid.clear_data()
    if kind == "cell":
        grid.cell_data[field] = values
        grid = grid.cell_data_to_point_data()
    else:
        grid.point_data[field] = values
    if solid:                       # closed surface of the region above the level
        contour = grid.clip_scalar(scalars=field, value=value, invert=False) \
            .extract_surface(algorithm="dataset_surface").triangulate()
    else:
        contour = grid.contour([value], scalars=field)
    with atomic_path(path) as tmp:
        contour.save(str(tmp))
    return path


def _named_field(mesh, name):
    """``(values, "point" | "cell")`` of a field of a single-block ``meshio.Mesh``."""
    if name in mesh.point_data:
        return mesh.point_data[name], "point"
    if name in mesh.cell_data:
        return np.concatenate(mesh.cell_data[name]), "cell"
    fields = list(mesh.point_data) + list(mesh.cell_data)
    raise UnknownNameError(f"no field named '{name}'; fields: {', '.join(fields) or 'none'}")
