"""Splitting a conforming mesh along an internal interface (two bodies in contact)."""

import numpy as np

from ..errors import MeshError
from .names import boundary, subdomain
from .raw import match_rows


def split_interface(mesh, interface, side, keep=()):
    """The mesh with the nodes of an internal boundary doubled, so that the two bodies it
    separates share coincident nodes but no DOFs (a crack, or a contact interface).

    ``interface`` names the internal boundary (every facet between a cell of subdomain
    ``side`` and a cell outside it); the cells outside ``side`` get the new copies of its
    nodes. In the result, ``interface`` names the facets on that body (the copies) and
    ``f"{interface}_{side}"`` the facets on ``side`` (the original nodes); every other named
    boundary follows the cells it belongs to, and the subdomains are unchanged.

    ``keep``: interface nodes that stay shared (the tip of a slit, where the crack ends in
    the uncracked ligament).

    Returns ``(split mesh, twins)``: ``twins[i]`` is the copy of original node ``i`` for the
    nodes of the interface (``-1`` elsewhere).
    """
    facets = boundary(mesh, interface)
    cells_of_side = np.zeros(mesh.nelements, dtype=bool)
    cells_of_side[subdomain(mesh, side)] = True
    owners = mesh.f2t[:, facets]
    if (owners < 0).any() or (cells_of_side[owners[0]] == cells_of_side[owners[1]]).any():
        raise MeshError(f"interface '{interface}' must separate subdomain '{side}' from the "
                        f"rest of the mesh: each of its facets needs a cell of '{side}' on "
                        f"one side and a cell of the other body on the other")
    extra = f"{interface}_{side}"
    if extra in (mesh.boundaries or {}):
        raise MeshError(f"cannot split interface '{interface}': the mesh already has a "
                        f"boundary named '{extra}'")
    nodes = np.setdiff1d(np.unique(mesh.facets[:, facets]), np.asarray(keep, dtype=np.int64))
    twins = np.full(mesh.nvertices, -1, dtype=np.int64)
    twins[nodes] = mesh.nvertices + np.arange(len(nodes))
    # the other body's cells move to the copies
    t = mesh.t.copy()
    moved = ~cells_of_side
    block = t[:, moved]
    block = np.where(twins[block] >= 0, twins[block], block)
    t[:, moved] = block
    p = np.hstack((mesh.p, mesh.p[:, nodes]))

    def nodes_of(facet_ids, on_side):
        """Node pairs of facets, as seen from their cell on (or off) ``side``."""
        pairs = mesh.facets[:, facet_ids].T
        return pairs if on_side else np.where(twins[pairs] >= 0, twins[pairs], pairs)

    named = {}
    for name, ids in (mesh.boundaries or {}).items():
        if name == interface:
            named[name] = nodes_of(ids, False)
            named[extra] = nodes_of(ids, True)
            continue
        owner = mesh.f2t[0, ids]
        named[name] = np.vstack((nodes_of(ids[cells_of_side[owner]], True),
                                 nodes_of(ids[~cells_of_side[owner]], False)))
    split = type(mesh)(p, t)
    boundaries = {}
    for name, pairs in named.items():
        index = match_rows(split.facets.T, pairs)
        if (index < 0).any():                      # cannot happen for a valid split
            raise MeshError(f"splitting interface '{interface}' lost facets of '{name}'")
        boundaries[name] = np.unique(index).astype(np.int32)
    split = type(mesh)(p, t, _boundaries=boundaries, _subdomains=mesh.subdomains)
    return split, twins
