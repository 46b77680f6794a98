"""Load and save meshes with named boundaries and subdomains.

Reading goes through meshio (Gmsh .msh v2/v4, .vtu, .xdmf and every other format meshio
reads). Names come from, in this order of preference:

* meshio ``cell_sets`` (Gmsh v4 physical groups, XDMF/MED sets);
* Gmsh v2 ``gmsh:physical`` tags with ``$PhysicalNames`` (an element in several physical
  groups is stored once per group; the copies are merged);
* scikit-fem's encoding in cell data (``skfem:s:NAME`` subdomains, ``skfem:b:NAME``
  boundaries), which is what :func:`save_mesh` writes to VTU/XDMF.

Cells of the highest dimension form the mesh; named cells one dimension lower are boundaries
(or interfaces); named cells of the highest dimension are subdomains.
"""

import contextlib
import io
from pathlib import Path

import meshio
import numpy as np
from skfem.io.meshio import to_meshio

from ..arrays import pad_to_3d
from ..atomic import atomic_path
from ..errors import MeshError, MeshFileError
from .quality import positively_oriented
from .raw import CELL_DIM, CELL_TYPE_OF_MESH, FACET_TYPES, RawMesh, build_mesh, id_list

# topological dimension of meshio cell types we may meet (supported or not)
TOPOLOGICAL_DIM = {
    "vertex": 0, "line": 1, "line3": 1,
    "triangle": 2, "triangle6": 2, "triangle7": 2, "quad": 2, "quad8": 2, "quad9": 2,
    "polygon": 2,
    "tetra": 3, "tetra10": 3, "hexahedron": 3, "hexahedron20": 3, "hexahedron27": 3,
    "wedge": 3, "wedge15": 3, "pyramid": 3, "pyramid13": 3, "polyhedron": 3,
}
FACET_TYPE_BY_DIM = {0: ("vertex",), 1: ("line",), 2: ("triangle", "quad")}


def _read(path):
    path = Path(path)
    if not path.exists():
        raise MeshFileError(f"{path}: no such file")
    if path.is_dir():
        raise MeshFileError(f"{path}: is a directory, not a mesh file")
    # .msh is ambiguous to meshio (ANSYS or Gmsh); fem_reg reads Gmsh
    file_format = "gmsh" if path.suffix.lower() == ".msh" else None
    # when no reader accepts a file, meshio prints the reasons (to stdout and stderr) and
    # calls sys.exit: keep both streams clean and turn the exit into an error
    chatter = io.StringIO()
    try:
        with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
            return meshio.read(path, file_format=file_format)
    except meshio.ReadError as err:
        raise MeshFileError(f"{path}: cannot read mesh ({err})") from err
    except SystemExit as err:
        said = chatter.getvalue().strip().splitlines()
        reason = said[0].removeprefix("Error: ") if said else "no meshio reader accepts it"
        raise MeshFileError(f"{path}: cannot read mesh ({reason})") from err
    except Exception as err:  # meshio raises many kinds on malformed content
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise MeshFileError(f"{path}: cannot read mesh, the file is malformed "
                            f"({type(err).__name__}: {reason})") from err


def _top_cell_type(m, source):
    present = {}
    for block in m.cells:
        present[block.type] = present.get(block.type, 0) + len(block.data)
    present = {k: v for k, v in present.items() if v}
    if not present:
        raise MeshFileError(f"{source}: the file has no cells")
    unknown = [k for k in present if k not in TOPOLOGICAL_DIM]
    if unknown:
        raise MeshFileError(f"{source}: unsupported cell type(s) {', '.join(unknown)}; "
                            f"supported: {', '.join(CELL_DIM)}")
    top_dim = max(TOPOLOGICAL_DIM[k] for k in present)
    top = [k for k in present if TOPOLOGICAL_DIM[k] == top_dim]
    if len(top) > 1:
        counts = ", ".join(f"{k} ({present[k]})" for k in top)
        raise MeshError(f"{source}: mixed cell types {counts}; fem_reg needs one cell type "
                        f"per mesh (gmsh: all-quad with Mesh.RecombineAll=1 and "
                        f"Mesh.SubdivisionAlgorithm=1, or no recombination)")
    if top[0] not in CELL_DIM:
        raise MeshFileError(f"{source}: unsupported cell type '{top[0]}' ({present[top[0]]} "
                            f"cells); supported: {', '.join(CELL_DIM)} (first order only)")
    if top_dim == 0:
        raise MeshFileError(f"{source}: the file has only vertex cells")
    return top[0], top_dim


def _named_groups_from_sets(m, top_type, offsets, facet_types):
    subdomains, facet_sets = {}, {}
    for name, per_block in m.cell_sets.items():
        if name.startswith("gmsh:"):
            continue
        cells, facets = [], []
        for block, ids in zip(m.cells, per_block):
            if ids is None or len(ids) == 0:
                continue
            ids = np.asarray(ids, dtype=np.int64)
            if block.type == top_type:
                cells.append(offsets[id(block)] + ids)
            elif block.type in facet_types:
                facets.append(block.data[ids])
        if cells:
            subdomains[name] = np.concatenate(cells)
        if facets:
            facet_sets[name] = np.vstack(facets)
    return subdomains, facet_sets


def _physical_names(m):
    names = {}
    for name, (tag, dim) in ((k, v[:2]) for k, v in m.field_data.items()):
        names[(int(dim), int(tag))] = name
    return names


def _named_groups_from_tags(m, top_type, top_dim, facet_types, source):
    """Gmsh v2: one integer tag per cell, duplicated cells for multiple groups."""
    names = _physical_names(m)
    tags = m.cell_data["gmsh:physical"]
    top_cells, top_tags = [], []
    facet_sets = {}
    for block, block_tags in zip(m.cells, tags):
        block_tags = np.asarray(block_tags, dtype=np.int64)
        if block.type == top_type:
            top_cells.append(block.data)
            top_tags.append(block_tags)
        elif block.type in facet_types:
            for tag in np.unique(block_tags[block_tags > 0]):
                name = names.get((top_dim - 1, int(tag)), str(int(tag)))
                rows = block.data[block_tags == tag]
                facet_sets[name] = np.vstack([facet_sets[name], rows]) \
                    if name in facet_sets else rows
    cells = np.vstack(top_cells)
    cell_tags = np.concatenate(top_tags)
    unique, first, inverse = np.unique(np.sort(cells, axis=1), axis=0,
                                       return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    if len(unique) < len(cells):
        # the same cell twice with the same tag is a broken file, not group overlap
        _, first_pair = np.unique(np.column_stack((inverse, cell_tags)), axis=0,
                                  return_index=True)
        duplicates = np.setdiff1d(np.arange(len(cells)), first_pair)
        if duplicates.size:
            raise MeshError(f"{source}: duplicate {top_type} cells with the same nodes: "
                            f"cell ids {id_list(duplicates)} (0-based)")
    subdomains = {}
    for tag in np.unique(cell_tags[cell_tags > 0]):
        name = names.get((top_dim, int(tag)), str(int(tag)))
        subdomains[name] = np.unique(inverse[cell_tags == tag])
    order = np.sort(first)          # keep the file's cell order for the merged cells
    position = np.empty(len(unique), dtype=np.int64)
    position[np.argsort(first)] = np.arange(len(unique))
    subdomains = {k: np.sort(position[v]) for k, v in subdomains.items()}
    return cells[order], subdomains, facet_sets


def raw_from_meshio(m, source="mesh"):
    """Turn a ``meshio.Mesh`` into a :class:`RawMesh` with its named groups.

    :func:`skfem.io.meshio.from_meshio` reads the same groups, but where a group cannot be
    matched it logs a warning and returns the mesh without it, and it reads only boundary
    facets from MSH 2 tags (an interior interface is lost); fem_reg raises instead, names the
    group, and keeps interfaces. Cell sets are offset per block here because
    ``meshio.Mesh.cell_sets_dict`` does not count the blocks a set leaves out (``None``).
    """
    top_type, top_dim = _top_cell_type(m, source)
    facet_types = FACET_TYPES[top_type]
    offsets, start = {}, 0
    for block in m.cells:
        if block.type == top_type:
            offsets[id(block)] = start
            start += len(block.data)
    cells = m.cells_dict[top_type]
    subdomains, facet_sets, encoded = {}, {}, {}

    named_sets = [k for k in m.cell_sets if not k.startswith("gmsh:")]
    if named_sets:
        subdomains, facet_sets = _named_groups_from_sets(m, top_type, offsets, facet_types)
    elif "gmsh:physical" in m.cell_data:
        cells, subdomains, facet_sets = _named_groups_from_tags(
            m, top_type, top_dim, facet_types, source)

    for key, per_type in m.cell_data_dict.items():
        parts = key.split(":")
        if len(parts) != 3 or parts[0] != "skfem" or top_type not in per_type:
            continue
        if parts[1] == "s":
            subdomains[parts[2]] = np.nonzero(per_type[top_type])[0]
        elif parts[1] == "b":
            encoded[parts[2]] = per_type[top_type]
    return RawMesh(points=m.points, cell_type=top_type, cells=cells, subdomains=subdomains,
                   facet_sets=facet_sets, encoded_boundaries=encoded, source=source)


def load_mesh(path):
    """Read a mesh file into a scikit-fem mesh with named boundaries and subdomains.

    Parameters
    ----------
    path
        Any file meshio reads: Gmsh ``.msh`` (v2 and v4), ``.vtu``, ``.xdmf``, ...

    Returns
    -------
    skfem.Mesh
        ``MeshTri1``, ``MeshQuad1``, ``MeshTet1``, ``MeshHex1`` or ``MeshLine1``; Gmsh physical
        groups become ``mesh.boundaries[name]`` (facet indices) and ``mesh.subdomains[name]``
        (element indices).

    Raises
    ------
    MeshFileError
        The file is missing, unreadable, or holds unsupported cells.
    MeshError
        Mixed cell types, inverted or degenerate cells, duplicate nodes.
    """
    return build_mesh(raw_from_meshio(_read(path), source=str(path)))


def _gmsh_blocks(mesh):
    """Cells and facets with Gmsh physical tags; cells in several groups are repeated,
    as Gmsh itself does in MSH 2."""
    top_type = CELL_TYPE_OF_MESH[type(mesh)]
    top = to_meshio(mesh, encode_cell_data=False).cells[0].data
    top = positively_oriented(mesh.p.T, top, top_type)
    facet_type = {2: "line", 3: "triangle" if top_type == "tetra" else "quad",
                  1: "vertex"}[mesh.dim()]
    dim = mesh.dim()
    subdomains = mesh.subdomains or {}
    boundaries = mesh.boundaries or {}
    field_data, blocks, tags = {}, [], []

    membership = np.zeros(mesh.nelements, dtype=np.int64)
    repeats = []
    for tag, (name, ids) in enumerate(subdomains.items(), start=1):
        field_data[name] = np.array([tag, dim])
        ids = np.asarray(ids)
        first = ids[membership[ids] == 0]
        membership[first] = tag
        again = ids[np.isin(ids, first, invert=True)]
        if again.size:
            repeats.append((tag, again))
    blocks.append(meshio.CellBlock(top_type, top))
    tags.append(membership)
    for tag, ids in repeats:
        blocks.append(meshio.CellBlock(top_type, top[ids]))
        tags.append(np.full(len(ids), tag))
    for tag, (name, ids) in enumerate(boundaries.items(), start=len(subdomains) + 1):
        field_data[name] = np.array([tag, dim - 1])
        facets = mesh.facets[:, np.asarray(ids)].T
        blocks.append(meshio.CellBlock(facet_type, facets))
        tags.append(np.full(len(facets), tag))
    tags = [np.asarray(t, dtype=np.int32) for t in tags]
    return blocks, {"gmsh:physical": tags, "gmsh:geometrical": tags}, field_data


def save_mesh(mesh, path):
    """Write a mesh with its names, atomically.

    Parameters
    ----------
    mesh
        A scikit-fem mesh (names in ``mesh.boundaries`` and ``mesh.subdomains``).
    path
        ``.msh``: Gmsh MSH 2.2 with physical groups (the version every tool reads; cells in no
        group get tag 0); any other suffix meshio knows (``.vtu``, ``.xdmf``, ...): names in
        scikit-fem's cell-data encoding (indicator arrays ParaView can threshold on).
    """
    path = Path(path)
    if path.suffix.lower() not in meshio.extension_to_filetypes:
        raise MeshFileError(f"{path}: unknown mesh format '{path.suffix or 'no suffix'}'; "
                            f"use .msh, .vtu, .xdmf or another suffix meshio knows")
    if path.suffix == ".msh":
        blocks, cell_data, field_data = _gmsh_blocks(mesh)
        out = meshio.Mesh(pad_to_3d(mesh.p.T), blocks, cell_data=cell_data,
                          field_data=field_data)
        kwargs = {"file_format": "gmsh22", "binary": False}
    else:
        out = to_meshio(mesh, encode_cell_data=True)
        block = out.cells[0]
        out.cells[0] = meshio.CellBlock(block.type,
                                        positively_oriented(mesh.p.T, block.data, block.type))
        out.points = pad_to_3d(out.points)
        kwargs = {"data_format": "XML"} if path.suffix == ".xdmf" else {}
    try:
        with atomic_path(path) as tmp:
            meshio.write(tmp, out, **kwargs)
    except (KeyError, ValueError, meshio.WriteError) as err:
        raise MeshFileError(f"{path}: cannot write this format ({err})") from err
    return path
