"""Named boundaries and subdomains, looked up with errors that list what exists."""

import numpy as np

from ..errors import UnknownNameError


def _lookup(mesh, group, name, kind):
    sets = getattr(mesh, group) or {}
    if name not in sets:
        known = ", ".join(sorted(sets)) or "none"
        raise UnknownNameError(f"no {kind} named '{name}'; the mesh has: {known}")
    return np.asarray(sets[name])


def boundary(mesh, name):
    """Facet indices of the named boundary (or interface)."""
    return _lookup(mesh, "boundaries", name, "boundary")


def subdomain(mesh, name):
    """Element indices of the named subdomain."""
    return _lookup(mesh, "subdomains", name, "subdomain")


def boundary_nodes(mesh, name):
    """Vertex indices on the named boundary."""
    return np.unique(mesh.facets[:, boundary(mesh, name)])


def names(mesh):
    """``{"boundaries": {name: nfacets}, "subdomains": {name: ncells}}``."""
    return {"boundaries": {k: len(v) for k, v in (mesh.boundaries or {}).items()},
            "subdomains": {k: len(v) for k, v in (mesh.subdomains or {}).items()}}
