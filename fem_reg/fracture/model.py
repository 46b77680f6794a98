"""The phase-field (gradient-damage) energy of AT1 and AT2 and its damage subproblem.

    E(u, d) = int g(d) psi(eps(u)) dx + Gc / c_w int ( w(d) / l + l |grad d|^2 ) dx
    g(d) = (1 - d)^2 + k,   AT2: w(d) = d^2, c_w = 2;   AT1: w(d) = d, c_w = 8/3

(Bourdin, Francfort & Marigo 2000; Pham, Amor, Marigo & Maurini 2011; Tanne et al. 2018).
For a fixed displacement the energy is quadratic in ``d``: its minimization under the
irreversibility bounds ``d_prev <= d <= 1`` is a bound-constrained quadratic program with
the matrix ``M(2 psi + Gc w'' / (c_w l)) + 2 Gc l / c_w * L`` and the right-hand side
``int (2 psi - Gc w'(0) / (c_w l)) phi`` (``M``: mass, ``L``: Laplacian).
"""

from dataclasses import dataclass

import numpy as np
from skfem import BilinearForm, Functional, LinearForm
from skfem.helpers import dot, grad

from ..checks import flag, non_negative, one_of, positive

MODELS = ("AT1", "AT2")


@dataclass(frozen=True)
class PhaseField:
    """A phase-field model: toughness ``Gc`` (energy per crack area), regularization length
    ``length`` (``l``), ``model`` AT1 or AT2, and the residual stiffness ``residual``
    (``k`` in ``g(d)``; it keeps a fully damaged cell's stiffness positive).

    ``local=True`` drops the gradient term ``l |grad d|^2``: a local softening-damage law
    with the same homogeneous response, kept as the ill-posed contrast (its damage localizes
    in one row of elements and the energy it dissipates vanishes with the element size)."""

    Gc: float
    length: float
    model: str = "AT2"
    residual: float = 1e-6
    local: bool = False

    def __post_init__(self):
        positive("Gc", self.Gc)
        positive("length", self.length)
        one_of("model", self.model, MODELS)
        non_negative("residual", self.residual)
        flag("local", self.local)

    @property
    def c_w(self):
        """The normalization ``c_w = 4 int_0^1 sqrt(w(s)) ds``: 2 (AT2) or 8/3 (AT1)."""
        return 2.0 if self.model == "AT2" else 8.0 / 3.0

    def w(self, d):
        return d ** 2 if self.model == "AT2" else d

    def degradation(self, d):
        """``g(d) = (1 - d)^2 + k``."""
        return (1.0 - d) ** 2 + self.residual

    def damage_coefficients(self, psi):
        """``(mass, spread, drive)`` of the damage subproblem for the elastic energy density
        ``psi``: ``A = M(mass) + spread * L`` and ``b = int drive phi`` (``M(c)``: the mass
        matrix weighted by ``c``, ``L``: the Laplacian)."""
        gc, l, c_w = self.Gc, self.length, self.c_w
        curvature = 2.0 if self.model == "AT2" else 0.0             # w''
        slope = 0.0 if self.model == "AT2" else 1.0                 # w'(0)
        spread = 0.0 if self.local else 2.0 * gc * l / c_w
        return 2.0 * psi + gc * curvature / (c_w * l), spread, 2.0 * psi - gc * slope / (c_w * l)

    def damage_system(self, basis, psi):
        """``(A, b)`` of the damage subproblem ``min 1/2 d.A d - b.d`` for the elastic
        energy density ``psi`` (at the basis's quadrature points, shape ``(ncells, nqp)``,
        or a constant)."""
        mass, spread, drive = self.damage_coefficients(_at_points(basis, psi))

        @BilinearForm
        def hessian(d, v, w):
            return w.mass * d * v + spread * dot(grad(d), grad(v))

        @LinearForm
        def load(v, w):
            return w.drive * v

        return hessian.assemble(basis, mass=mass), load.assemble(basis, drive=drive)

    def fracture_energy(self, basis, d):
        """``Gc / c_w int (w(d) / l + l |grad d|^2)`` of the nodal damage ``d`` (without
        the gradient term when local)."""
        gc, l, c_w, model = self.Gc, self.length, self.c_w, self.model
        spread = 0.0 if self.local else l

        @Functional
        def energy(w):
            value = w.d if model == "AT1" else w.d ** 2
            return gc / c_w * (value / l + spread * dot(grad(w.d), grad(w.d)))

        return float(energy.assemble(basis, d=basis.interpolate(d)))


def _at_points(basis, values):
    values = np.asarray(values, dtype=np.float64)
    shape = (basis.mesh.t.shape[1], len(basis.quadrature[1]))
    return np.broadcast_to(values, shape) if values.ndim == 0 else values.reshape(shape)
