"""Membrane discretizations with an in-plane rotation field, as one sparse map.

Every element family is assembled on two ordinary scikit-fem bases, a vector displacement
basis and a scalar rotation basis, and mapped to its own unknowns ``q`` by a sparse matrix
``T`` built once per mesh: ``[u; theta] = T q``, ``K_q = T^T K T``, ``f_q = T^T f``.

* plain displacement elements (``cst``, ``p2``, ``q4``, ``q8``): no rotation, ``T = I``;
* mixed pairs (``p1p1``, ``p2p1``, ``q1q1``): independent displacement and rotation, ``T = I``;
* Allman-type (``allman`` on triangles, ``allman_quad`` on quadrilaterals): the unknowns are
  ``(u_x, u_y, theta)`` at each vertex; the displacement is the quadratic (P2) or serendipity
  (Q8) field whose mid-side values are ``(u_i + u_j)/2 + (L_ij/8)(theta_j - theta_i) n_ij``
  (Allman 1984; Ibrahimbegovic, Taylor & Wilson 1990), the rotation the linear (bilinear)
  field of the vertex rotations. ``L n = (y_j - y_i, -(x_j - x_i))`` for the edge run from
  ``i`` to ``j``; the product with ``theta_j - theta_i`` does not depend on that direction, so
  neighbouring elements agree on the edge and no orientation bookkeeping is needed.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from skfem import (Basis, ElementQuad1, ElementQuadS2, ElementTriP1, ElementTriP2,
                   ElementVector, MeshQuad1, MeshTri1)
from skfem.quadrature import get_quadrature

from ..checks import one_of
from ..errors import ParameterError


@dataclass(frozen=True)
class ElementSpec:
    mesh: type
    displacement: type
    rotation: type | None = None
    allman: bool = False
    stiffness_order: int = 2          # quadrature order of the strain energy
    description: str = ""


ELEMENTS = {
    "cst": ElementSpec(MeshTri1, ElementTriP1, description="constant-strain triangle"),
    "p2": ElementSpec(MeshTri1, ElementTriP2, description="6-node quadratic triangle"),
    "q4": ElementSpec(MeshQuad1, ElementQuad1, description="bilinear quadrilateral"),
    "q8": ElementSpec(MeshQuad1, ElementQuadS2, stiffness_order=4,
                      description="8-node serendipity quadrilateral (3x3 Gauss)"),
    "p1p1": ElementSpec(MeshTri1, ElementTriP1, ElementTriP1,
                        description="P1 displacement / P1 rotation (Hughes-Brezzi)"),
    "p2p1": ElementSpec(MeshTri1, ElementTriP2, ElementTriP1,
                        description="P2 displacement / P1 rotation (Hughes-Brezzi)"),
    "q1q1": ElementSpec(MeshQuad1, ElementQuad1, ElementQuad1,
                        description="Q1 displacement / Q1 rotation (Hughes-Brezzi)"),
    "allman": ElementSpec(MeshTri1, ElementTriP2, ElementTriP1, allman=True,
                          description="Allman-type triangle, vertex (u_x, u_y, theta)"),
    "allman_quad": ElementSpec(MeshQuad1, ElementQuadS2, ElementQuad1, allman=True,
                               stiffness_order=3,
                               description="Allman-type quadrilateral (Ibrahimbegovic, "
                                           "Taylor & Wilson 1990), 2x2 Gauss"),
}
# "auto": one point for the Allman-type elements (Allman 1984 and Ibrahimbegovic et al. 1990
# integrate the penalty at the centroid), the stiffness rule for the mixed pairs (with one
# point their independent rotation keeps spurious zero-energy modes: 5 instead of 3 on one
# P1/P1 triangle).
PENALTY_QUADRATURES = ("auto", "reduced", "full")
MESH_NAMES = {MeshTri1: "triangle", MeshQuad1: "quad"}


def element_spec(name, mesh):
    """The :class:`ElementSpec` called ``name``, checked against the mesh's cell type."""
    if name not in ELEMENTS:
        raise ParameterError(f"unknown membrane element '{name}'; known: {', '.join(ELEMENTS)}")
    spec = ELEMENTS[name]
    if type(mesh) is not spec.mesh:
        fits = [k for k, v in ELEMENTS.items() if v.mesh is type(mesh)]
        raise ParameterError(f"element '{name}' needs a {MESH_NAMES[spec.mesh]} mesh, this one "
                             f"is {type(mesh).__name__}; elements for it: "
                             f"{', '.join(fits) or 'none'}")
    return spec


def one_point_quadrature(element):
    """The centroid rule of the element's reference cell (reduced integration)."""
    X, W = get_quadrature(element.refdom, 2)
    return (X * W).sum(axis=1, keepdims=True) / W.sum(), np.array([W.sum()])


class Discretization:
    """The bases of one element family on one mesh and the map ``[u; theta] = T q``.

    Attributes
    ----------
    u_basis, theta_basis
        Displacement (vector) and rotation (scalar, or None) bases at the stiffness quadrature.
    T
        Sparse ``(Nu + Ntheta, nq)``.
    nq
        Number of unknowns.
    """

    def __init__(self, mesh, element, *, penalty_quadrature="auto"):
        self.mesh, self.name = mesh, element
        self.spec = spec = element_spec(element, mesh)
        one_of("penalty_quadrature", penalty_quadrature, PENALTY_QUADRATURES)
        if penalty_quadrature == "auto":
            penalty_quadrature = "reduced" if spec.allman else "full"
        self.penalty_quadrature = penalty_quadrature
        self.u_element = ElementVector(spec.displacement())
        self.u_basis = Basis(mesh, self.u_element, intorder=spec.stiffness_order)
        self.theta_basis = None
        self.Nu = self.u_basis.N
        self.Ntheta = 0
        if spec.rotation is not None:
            self.theta_element = spec.rotation()
            self.theta_basis = Basis(mesh, self.theta_element,
                                     quadrature=self.u_basis.quadrature)
            self.Ntheta = self.theta_basis.N
            quadrature = (one_point_quadrature(self.theta_element)
                          if penalty_quadrature == "reduced" else self.u_basis.quadrature)
            self.u_penalty_basis = Basis(mesh, self.u_element, quadrature=quadrature)
            self.theta_penalty_basis = Basis(mesh, self.theta_element, quadrature=quadrature)
        self.T = self._allman_map() if spec.allman else sp.identity(self.Nu + self.Ntheta,
                                                                    format="csr")
        self.nq = self.T.shape[1]

    def reduce(self, K):
        """``T^T K T`` (``K`` itself where ``T`` is the identity)."""
        return (self.T.T @ K @ self.T).tocsr() if self.spec.allman else K.tocsr()

    @property
    def has_rotation(self):
        return self.theta_basis is not None

    def _allman_map(self):
        mesh, ub, tb = self.mesh, self.u_basis, self.theta_basis
        nv = mesh.nvertices
        vertices = np.arange(nv)
        rows, cols, vals = [], [], []

        def add(r, c, v):
            rows.append(np.ravel(r))
            cols.append(np.ravel(c))
            vals.append(np.broadcast_to(v, np.shape(r)).ravel())

        for c in range(2):
            add(ub.nodal_dofs[c], 3 * vertices + c, 1.0)                 # vertex values
        i, j = mesh.facets                                              # edge i -> j
        d = mesh.p[:, j] - mesh.p[:, i]
        Ln = np.array([d[1], -d[0]])                                    # L * outward normal
        for c in range(2):
            mid = ub.facet_dofs[c]
            add(mid, 3 * i + c, 0.5)
            add(mid, 3 * j + c, 0.5)
            add(mid, 3 * j + 2, Ln[c] / 8.0)
            add(mid, 3 * i + 2, -Ln[c] / 8.0)
        add(self.Nu + tb.nodal_dofs[0], 3 * vertices + 2, 1.0)        # rotations
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                     np.concatenate(cols))),
                             shape=(self.Nu + self.Ntheta, 3 * nv))

    # -- unknowns of vertices and boundaries -------------------------------------------
    def vertex_u_dofs(self):
        """``(2, nvertices)`` indices in ``q`` of the vertex displacements."""
        if self.spec.allman:
            return 3 * np.arange(self.mesh.nvertices) + np.arange(2)[:, None]
        return self.u_basis.nodal_dofs

    def vertex_theta_dofs(self):
        """``(nvertices,)`` indices in ``q`` of the vertex rotations."""
        if not self.has_rotation:
            raise ParameterError(f"element '{self.name}' has no rotation unknowns; use one "
                                 f"of {', '.join(k for k, v in ELEMENTS.items() if v.rotation)}")
        if self.spec.allman:
            return 3 * np.arange(self.mesh.nvertices) + 2
        return self.Nu + self.theta_basis.nodal_dofs[0]

    def boundary_u_dofs(self, facets, component):
        """Indices in ``q`` fixing displacement ``component`` (0: x, 1: y) on ``facets``."""
        if self.spec.allman:
            return self.vertex_u_dofs()[component, np.unique(self.mesh.facets[:, facets])]
        dofs = self.u_basis.get_dofs(facets).all()
        return np.intersect1d(dofs, self.u_basis.split_indices()[component])

    def boundary_theta_dofs(self, facets):
        """Indices in ``q`` of the rotations on ``facets``."""
        if self.spec.allman:
            return self.vertex_theta_dofs()[np.unique(self.mesh.facets[:, facets])]
        self.vertex_theta_dofs()                                  # the error if none
        return self.Nu + self.theta_basis.get_dofs(facets).all()

    def split(self, q):
        """``(u, theta)`` coefficient vectors on the two bases (theta None without one)."""
        z = self.T @ q
        return z[:self.Nu], (z[self.Nu:] if self.has_rotation else None)

    def rigid_body_modes(self):
        """Two translations and the rotation ``u = (-y, x), theta = 1`` in ``q``; names."""
        modes = np.zeros((self.nq, 3))
        if self.spec.allman:
            x = self.mesh.p
            u = self.vertex_u_dofs()
            modes[u[0], 0] = modes[u[1], 1] = 1.0
            modes[u[0], 2], modes[u[1], 2] = -x[1], x[0]
        else:
            x = self.u_basis.doflocs
            for c, dofs in enumerate(self.u_basis.split_indices()):
                modes[dofs, c] = 1.0
                modes[dofs, 2] = -x[1, dofs] if c == 0 else x[0, dofs]
        if self.has_rotation:
            modes[self.vertex_theta_dofs() if self.spec.allman
                  else self.Nu + np.arange(self.Ntheta), 2] = 1.0
        return modes, ["translation x", "translation y", "rotation about z"]
