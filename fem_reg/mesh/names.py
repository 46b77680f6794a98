"""Named boundaries and subdomains, looked up with errors that list what exists."""

import numpy as np

from ..errors import ParameterError, UnknownNameError


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


def _point(x):
    return "(" + ", ".join(f"{v:g}" for v in x) + ")"


def vertex_at(mesh, point, what):
    """Index of the mesh vertex at ``point`` (to 1e-8 of the mesh's extent)."""
    point = np.asarray(point, dtype=np.float64)
    if point.shape != (mesh.dim(),):
        raise ParameterError(f"{what} at {point.tolist()}: needs {mesh.dim()} coordinates")
    distance = np.linalg.norm(mesh.p - point[:, None], axis=0)
    k = int(np.argmin(distance))
    extent = np.ptp(mesh.p, axis=1).max()
    if distance[k] > 1e-8 * extent:
        raise ParameterError(f"{what} at {_point(point)}: no mesh vertex there "
                             f"(nearest {_point(mesh.p[:, k])}, distance "
                             f"{distance[k]:.3g}); put a geometry corner there or use a "
                             f"traction")
    return k
