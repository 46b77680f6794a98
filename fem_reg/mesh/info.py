"""A summary of a mesh: sizes, quality, names (what ``fem-reg mesh info`` prints)."""

import numpy as np
from skfem.io.meshio import HEX_MAPPING

from .names import names
from .quality import edge_lengths, shape_quality, signed_measures
from .raw import CELL_TYPE_OF_MESH

POOR_QUALITY = 0.2


def vtk_cells(mesh):
    """Connectivity in meshio/VTK node order, shape ``(ncells, nodes_per_cell)``."""
    t = mesh.t
    if CELL_TYPE_OF_MESH[type(mesh)] == "hexahedron":
        t = t[HEX_MAPPING[:8]]
    return np.ascontiguousarray(t.T)


def cell_sizes(mesh):
    """The mean edge length of every cell (the ``h`` a mesh generator's size field sets)."""
    return edge_lengths(mesh.p.T, vtk_cells(mesh), CELL_TYPE_OF_MESH[type(mesh)]).mean(axis=1)


def mesh_info(mesh):
    """Counts, bounding box, edge lengths, shape quality and names of a mesh.

    Returns
    -------
    dict
        JSON-serializable. ``quality`` is the mean ratio for simplices and the minimum scaled
        Jacobian for quads/hexahedra (1 best, <= 0 inverted); ``poor_cells`` counts cells with
        quality below 0.2.
    """
    cell_type = CELL_TYPE_OF_MESH[type(mesh)]
    points, cells = mesh.p.T, vtk_cells(mesh)
    lengths = edge_lengths(points, cells, cell_type)
    quality = shape_quality(points, cells, cell_type)
    measure = np.abs(signed_measures(points, cells, cell_type)).sum()
    worst = int(np.argmin(quality))
    return {
        "cell_type": cell_type,
        "dim": int(mesh.dim()),
        "cells": int(mesh.nelements),
        "nodes": int(mesh.nvertices),
        "facets": int(mesh.nfacets),
        "boundary_facets": int(len(mesh.boundary_facets())),
        "bounding_box": {"min": mesh.p.min(axis=1).tolist(), "max": mesh.p.max(axis=1).tolist()},
        "measure": float(measure),
        "edge_length": {"min": float(lengths.min()), "mean": float(lengths.mean()),
                        "max": float(lengths.max())},
        "quality": {"min": float(quality.min()), "mean": float(quality.mean()),
                    "worst_cell": worst, "poor_cells": int((quality < POOR_QUALITY).sum())},
        **names(mesh),
    }
