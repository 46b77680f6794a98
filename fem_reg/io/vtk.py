"""VTU files and PVD collections that ParaView opens, written atomically.

A PVD collection is an XML index of VTU files with a time value each (load steps, optimization
iterations, refinement levels). :class:`PvdWriter` adds one step at a time and rewrites the
index after each, so an interrupted run leaves a valid collection of the steps done so far.

A mesh's named boundaries and subdomains reach ParaView as two integer fields,
:func:`named_sets`: ``boundary`` on the vertices and ``subdomain`` on the cells (0 = none),
with the names in the file's field data (``boundary:clamped = 1``, ...), which meshio's VTU
writer drops and :func:`write_vtu` adds.
"""

from pathlib import Path
from xml.sax.saxutils import quoteattr

import meshio
import numpy as np

from ..arrays import pad_to_3d
from ..atomic import atomic_path, write_text


def named_sets(mesh):
    """A scikit-fem mesh's names as integer fields ParaView can colour and threshold by.

    Returns
    -------
    boundary
        Per vertex: the number of the named boundary it lies on (1, 2, ... in the order of
        ``mesh.boundaries``), 0 on none; a vertex on several (a corner) shows the last.
    subdomain
        Per cell: the number of its named subdomain, 0 in none; a cell in several shows
        the last.
    legend
        ``{"boundary:NAME": number, "subdomain:NAME": number}``, the file's field data.

    Examples
    --------
    >>> from fem_reg.mesh import rectangle
    >>> boundary, subdomain, legend = named_sets(rectangle(h=0.5))
    >>> legend["boundary:bottom"], legend["boundary:left"], legend["subdomain:domain"]
    (1, 4, 1)
    >>> int((boundary > 0).sum()), int((subdomain == 1).all())     # 3x3 nodes, 8 outside
    (8, 1)
    """
    boundary = np.zeros(mesh.nvertices, dtype=np.int32)
    subdomain = np.zeros(mesh.nelements, dtype=np.int32)
    legend = {}
    for number, (name, facets) in enumerate((mesh.boundaries or {}).items(), start=1):
        boundary[np.unique(mesh.facets[:, np.asarray(facets)])] = number
        legend[f"boundary:{name}"] = number
    for number, (name, cells) in enumerate((mesh.subdomains or {}).items(), start=1):
        subdomain[np.asarray(cells)] = number
        legend[f"subdomain:{name}"] = number
    return boundary, subdomain, legend


def _field_data_xml(field_data):
    arrays = "".join(f'<DataArray type="Int32" Name={quoteattr(name)} NumberOfTuples='
                     f'"{np.size(value)}" format="ascii">'
                     f'{" ".join(str(int(v)) for v in np.ravel(value))}</DataArray>\n'
                     for name, value in field_data.items())
    return f"<FieldData>\n{arrays}</FieldData>\n"


def write_vtu(path, mesh):
    """Write a ``meshio.Mesh`` to ``path`` (.vtu, zlib-compressed binary) atomically, with its
    integer ``field_data`` (meshio's writer leaves it out)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        meshio.write(tmp, mesh, file_format="vtu")
        if mesh.field_data:
            text = Path(tmp).read_text()
            if "<FieldData>" not in text:
                head, tail = text.split("<UnstructuredGrid>\n", 1)
                Path(tmp).write_text(f"{head}<UnstructuredGrid>\n"
                                     f"{_field_data_xml(mesh.field_data)}{tail}")
    return path


def pvd_text(entries):
    """The XML of a PVD collection; ``entries`` are ``(time, relative file name)``."""
    lines = ['<?xml version="1.0"?>',
             '<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">',
             "  <Collection>"]
    for time, name in entries:
        lines.append(f'    <DataSet timestep={quoteattr(repr(float(time)))} group="" part="0" '
                     f"file={quoteattr(str(name))}/>")
    lines += ["  </Collection>", "</VTKFile>", ""]
    return "\n".join(lines)


class PvdWriter:
    """Write steps of a time/iteration series as ``STEM/STEM_0000.vtu`` plus ``STEM.pvd``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from fem_reg.io import Result
    >>> from fem_reg.mesh import rectangle
    >>> mesh = rectangle(h=0.5)
    >>> writer = PvdWriter(pathlib.Path(tempfile.mkdtemp()) / "history.pvd")
    >>> for step in range(3):
    ...     _ = writer.add(Result(mesh, point_data={"u": step * mesh.p[0]}).to_meshio(),
    ...                    time=0.5 * step)
    >>> [p.name for p in writer.files]
    ['history.pvd', 'history_0000.vtu', 'history_0001.vtu', 'history_0002.vtu']
    """

    def __init__(self, path):
        self.path = Path(path)
        if self.path.suffix != ".pvd":
            self.path = self.path.with_suffix(".pvd")
        self.folder = self.path.with_suffix("")
        self.entries = []

    def add(self, mesh, time):
        """Write one step (a ``meshio.Mesh``) and rewrite the index."""
        name = f"{self.folder.name}_{len(self.entries):04d}.vtu"
        write_vtu(self.folder / name, mesh)
        self.entries.append((float(time), f"{self.folder.name}/{name}"))
        write_text(self.path, pvd_text(self.entries))
        return self.folder / name

    @property
    def files(self):
        return [self.path] + [self.path.parent / name for _, name in self.entries]


def pad_vectors(array, n):
    """Point/cell arrays for VTK: 2-component vectors get a zero third component, 2x2
    tensors become 3x3 (9 components)."""
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 2 and array.shape[1] == 2:
        return pad_to_3d(array)
    if array.ndim == 3 and array.shape[1:] == (2, 2):
        full = np.zeros((n, 3, 3))
        full[:, :2, :2] = array
        return full.reshape(n, 9)
    if array.ndim == 3:
        return array.reshape(n, -1)
    return array
