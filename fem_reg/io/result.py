"""What every problem's ``solve()`` returns."""

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from skfem.io.meshio import to_meshio

from ..arrays import pad_to_3d
from ..errors import ParameterError, UnknownNameError
from .vtk import PvdWriter, named_sets, pad_vectors, write_vtu


@dataclass
class Result:
    """A solved problem: the mesh, named fields, quantities of interest.

    Parameters
    ----------
    mesh
        The scikit-fem mesh (its named boundaries and subdomains are written along).
    point_data
        Name -> values at the mesh vertices, ``(nvertices,)`` or ``(nvertices, ncomp)``.
    cell_data
        Name -> values per cell, ``(ncells,)``, ``(ncells, ncomp)`` or ``(ncells, d, d)``.
    qoi
        Name -> scalar quantity of interest (what a refinement study watches).
    meta
        Anything JSON-serializable describing the run (problem, parameters, DOFs, seconds).
    history
        ``(time, Result)`` steps (load steps, iterations) written as a PVD collection.
    series
        Name -> table ``{column: list of numbers}`` (e.g. an optimization's convergence
        history), written as CSV and plotted against the first column.
    """

    mesh: object
    point_data: dict = field(default_factory=dict)
    cell_data: dict = field(default_factory=dict)
    qoi: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    series: dict = field(default_factory=dict)

    def __post_init__(self):
        nv, nc = self.mesh.nvertices, self.mesh.nelements
        for kind, data, n in (("point", self.point_data, nv), ("cell", self.cell_data, nc)):
            for name, values in data.items():
                values = np.asarray(values)
                if values.shape[:1] != (n,):
                    raise ParameterError(f"{kind} field '{name}' has shape {values.shape}; "
                                         f"the mesh has {n} {'vertices' if kind == 'point' else 'cells'}")
                data[name] = values
        for name, value in self.qoi.items():
            if not isinstance(value, (int, float, np.floating, np.integer)) \
                    or isinstance(value, bool):
                raise ParameterError(f"qoi '{name}' must be a number, got {value!r}")
            self.qoi[name] = float(value)

    @property
    def fields(self):
        """Names of all point and cell fields."""
        return list(self.point_data) + list(self.cell_data)

    def field(self, name):
        """``(values, "point" | "cell")`` of a named field."""
        if name in self.point_data:
            return self.point_data[name], "point"
        if name in self.cell_data:
            return self.cell_data[name], "cell"
        raise UnknownNameError(f"no field named '{name}'; fields: "
                               f"{', '.join(self.fields) or 'none'}")

    def to_meshio(self):
        """A ``meshio.Mesh`` with 3D points, 3-component vectors and the mesh's names as the
        integer fields ``boundary`` and ``subdomain`` (:func:`fem_reg.io.vtk.named_sets`)."""
        nv, nc = self.mesh.nvertices, self.mesh.nelements
        point_data = {k: pad_vectors(v, nv) for k, v in self.point_data.items()}
        cell_data = {k: [pad_vectors(v, nc)] for k, v in self.cell_data.items()}
        boundary, subdomain, legend = named_sets(self.mesh)
        if self.mesh.boundaries:
            point_data.setdefault("boundary", boundary)
        if self.mesh.subdomains:
            cell_data.setdefault("subdomain", [subdomain])
        out = to_meshio(self.mesh, point_data=point_data, cell_data=cell_data,
                        encode_cell_data=False)
        out.points = pad_to_3d(out.points)
        out.field_data = {name: np.array([number]) for name, number in legend.items()}
        return out

    def write(self, path):
        """Write ``.vtu`` (this result) or ``.pvd`` (the history, or this result as its only
        step). Returns the list of files written."""
        path = Path(path)
        if path.suffix == ".vtu":
            return [write_vtu(path, self.to_meshio())]
        if path.suffix == ".pvd":
            writer = PvdWriter(path)
            for time, step in (self.history or [(0.0, self)]):
                writer.add(step.to_meshio(), time)
            return writer.files
        raise ParameterError(f"{path}: results are written as .vtu or .pvd, "
                             f"got '{path.suffix or 'no suffix'}'")

    def plot(self, field, path, **options):
        """Off-screen PNG of a field; see :func:`fem_reg.io.plot.plot_field`."""
        from .plot import plot_field
        return plot_field(self, field, path, **options)

    def summary(self):
        """The QoIs as ``name = value`` lines."""
        return "\n".join(f"{k} = {_format(v)}" for k, v in self.qoi.items())


def _format(value):
    return f"{value:.6g}" if math.isfinite(value) else str(value)
