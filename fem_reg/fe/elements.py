"""Lagrange elements by mesh type and polynomial order."""

from skfem import (ElementHex1, ElementHex2, ElementLineP1, ElementLineP2, ElementQuad1,
                   ElementQuad2, ElementTetP1, ElementTetP2, ElementTriP1, ElementTriP2,
                   ElementVector, MeshHex1, MeshLine1, MeshQuad1, MeshTet1, MeshTri1)

from ..checks import integer
from ..errors import ParameterError

LAGRANGE = {
    MeshLine1: (ElementLineP1, ElementLineP2),
    MeshTri1: (ElementTriP1, ElementTriP2),
    MeshQuad1: (ElementQuad1, ElementQuad2),
    MeshTet1: (ElementTetP1, ElementTetP2),
    MeshHex1: (ElementHex1, ElementHex2),
}


def lagrange(mesh, order=1, vector=False):
    """The continuous Lagrange element of ``order`` (1 or 2) for the mesh's cell type;
    ``vector=True`` gives one copy per space dimension (displacements)."""
    integer("order", order, low=1, high=2)
    try:
        element = LAGRANGE[type(mesh)][order - 1]()
    except KeyError:
        raise ParameterError(f"no Lagrange element for {type(mesh).__name__}") from None
    return ElementVector(element) if vector else element
