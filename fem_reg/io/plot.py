"""Pictures of fields, rendered off-screen by pyvista (no display needed)."""

import os
from pathlib import Path

import numpy as np

from ..arrays import pad_to_3d
from ..atomic import atomic_path, signals_held
from ..errors import ParameterError

COMPONENTS = {"x": 0, "y": 1, "z": 2}


def _pyvista():
    # VTK's module loader turns an exception raised inside it (Ctrl-C, SIGTERM) into an
    # ImportError that names a missing module: load with the signals held (about a second)
    with signals_held():
        # VTK tries X, then EGL, then OSMesa; without a display the failed X attempt warns
        from vtkmodules.vtkCommonCore import vtkLogger
        vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_ERROR)
        import pyvista
        import pyvista.plotting  # noqa: F401  (the rendering modules, loaded lazily otherwise)
    pyvista.OFF_SCREEN = True
    return pyvista


def _scalars(values, component, name):
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        return values, name
    if component is None or component == "magnitude":
        return np.linalg.norm(values.reshape(len(values), -1), axis=1), f"{name} magnitude"
    index = COMPONENTS.get(component, component)
    if not isinstance(index, (int, np.integer)) or not 0 <= index < values.shape[1]:
        raise ParameterError(f"component must be 'magnitude', x, y, z or 0..{values.shape[1] - 1}"
                             f" for field '{name}', got {component!r}")
    return values[:, index], f"{name}_{'xyz'[index] if index < 3 else index}"


def plot_field(result, field, path, *, component=None, warp=None, warp_scale=None,
               show_edges=None, cmap="viridis", title=None, window_size=(1200, 800),
               threshold=None):
    """Render one field of a :class:`~fem_reg.io.Result` to a PNG, off-screen.

    Parameters
    ----------
    field
        Name of a point or cell field.
    path
        Output ``.png`` (written atomically).
    component
        For vector fields: ``"magnitude"`` (default), ``"x"``, ``"y"``, ``"z"`` or an index.
    warp
        Name of a vector point field to displace the mesh by (e.g. ``"displacement"``).
    warp_scale
        Displacement magnification; default: largest displacement drawn as 10% of the size.
    show_edges
        Draw cell edges (default: for meshes under 5000 cells).
    threshold
        Show only cells whose value is at least this (e.g. 0.5 for a 3D design).
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ParameterError(f"{path}: pictures are written as .png")
    values, kind = result.field(field)
    scalars, label = _scalars(values, component, field)
    pv = _pyvista()
    grid = pv.from_meshio(result.to_meshio())
    grid.clear_data()
    if kind == "point":
        grid.point_data[label] = scalars
    else:
        grid.cell_data[label] = scalars
    dim = result.mesh.dim()
    if warp is not None:
        displacement, warp_kind = result.field(warp)
        displacement = np.asarray(displacement, dtype=np.float64)
        if warp_kind != "point" or displacement.ndim != 2:
            raise ParameterError(f"warp field '{warp}' must be a vector point field")
        size = np.linalg.norm(np.ptp(result.mesh.p, axis=1))
        largest = np.abs(displacement).max()
        scale = warp_scale if warp_scale is not None else \
            (0.1 * size / largest if largest > 0 else 0.0)
        grid.points = grid.points + scale * pad_to_3d(displacement)
    if threshold is not None:
        grid = grid.threshold(float(threshold), scalars=label)
        if grid.n_cells == 0:
            raise ParameterError(f"no cell of '{field}' reaches the threshold {threshold:g}")
    if show_edges is None:
        show_edges = result.mesh.nelements < 5000
    plotter = pv.Plotter(off_screen=True, window_size=list(window_size))
    plotter.set_background("white")
    plotter.add_mesh(grid, scalars=label, cmap=cmap, show_edges=show_edges,
                     edge_color="#555555", line_width=0.5,
                     scalar_bar_args={"title": label, "color": "black", "vertical": True,
                                      "position_x": 0.85, "position_y": 0.1})
    if title:
        plotter.add_text(title, font_size=12, color="black")
    if dim == 2:
        plotter.view_xy()
    else:
        plotter.view_isometric()
    plotter.reset_camera()
    with atomic_path(path) as tmp:
        plotter.screenshot(str(tmp))
    plotter.close()
    return path


def ensure_headless():
    """Off-screen rendering for scripts: no window even where a display exists."""
    os.environ.setdefault("PYVISTA_OFF_SCREEN", "true")
    _pyvista()
