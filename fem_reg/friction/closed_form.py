"""Closed-form solution of the 1D bar on a frictional foundation (derivation in
``docs/friction.md``).

Bar ``0 <= x <= L``, axial stiffness ``EA``, free at ``x = 0``, pulled at ``x = L`` to the
displacement ``Delta``. Foundation: elastic stick ``tau = k_t (u - s)``, constant friction
limit ``tau_y`` (force per unit length), gradient coefficient ``gamma`` on the plastic slip
``s``. Under monotonic loading slip zone ``[a, L]`` grows from the pulled end and every point
slips forward only, so the state depends on ``Delta`` alone:

* stick zone ``x < a``: ``u = C cosh(lambda x)``, ``lambda^2 = k_t / EA``, ``s = 0``;
* slip zone, ``xi = x - a``, ``w = u - s``: ``EA u'' = k_t w`` and
  ``gamma s'' + k_t w = tau_y``, with ``s(a) = s'(a) = 0`` and ``s'(L) = 0``.
  ``gamma = 0``: ``w = tau_y / k_t``, ``u`` a parabola. ``gamma > 0``:
  ``w = w_inf + alpha e^(-m xi) + beta e^(-m (L - x))``, ``m^2 = k_t (1/EA + 1/gamma)``,
  ``w_inf = tau_y EA / (k_t (EA + gamma))``.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from ..checks import non_negative, positive
from ..errors import ParameterError


@dataclass(frozen=True)
class BarSolution:
    """The closed-form state at one end displacement."""

    delta: float
    stick_length: float     # a
    force: float            # EA u'(L)
    C: float
    parameters: tuple       # (L, EA, k_t, tau_y, gamma)

    @property
    def slip_length(self):
        return self.parameters[0] - self.stick_length

    def displacement(self, x):
        return self._fields(np.asarray(x, dtype=np.float64))[0]

    def slip(self, x):
        return self._fields(np.asarray(x, dtype=np.float64))[1]

    def _fields(self, x):
        L, EA, k_t, tau_y, gamma = self.parameters
        lam = np.sqrt(k_t / EA)
        a, C = self.stick_length, self.C
        u = C * np.cosh(lam * np.minimum(x, a))
        s = np.zeros_like(x)
        xi = np.maximum(x - a, 0.0)
        inside = x > a
        dua = C * lam * np.sinh(lam * a)
        if gamma == 0.0:
            s_in = dua * xi + tau_y * xi ** 2 / (2.0 * EA)
            u_in = tau_y / k_t + s_in
        else:
            ell = L - a
            m, w_inf = _slip_zone_constants(EA, k_t, tau_y, gamma)
            alpha, beta = _decay_amplitudes(ell, a, EA, k_t, tau_y, gamma)[1:]
            w, s_in = _slip_zone(xi, ell, alpha, beta, m, w_inf, EA, k_t, tau_y, gamma)
            u_in = w + s_in
        return np.where(inside, u_in, u), np.where(inside, s_in, s)

    @property
    def dissipation(self):
        """``tau_y int s dx``: every point has slipped forward only."""
        L, tau_y = self.parameters[0], self.parameters[3]
        x = np.linspace(self.stick_length, L, 4001)
        return float(tau_y * np.trapezoid(self.slip(x), x))


def _slip_zone_constants(EA, k_t, tau_y, gamma):
    m = np.sqrt(k_t * (1.0 / EA + 1.0 / gamma))
    return m, tau_y * EA / (k_t * (EA + gamma))


def _state(ell, L, EA, k_t, tau_y, gamma):
    """``(C, Delta, F)`` for a slip zone of length ``ell``."""
    lam = np.sqrt(k_t / EA)
    a = L - ell
    ch, sh = np.cosh(lam * a), np.sinh(lam * a)
    if gamma == 0.0:
        C = tau_y / (k_t * ch)
        dua = C * lam * sh
        delta = tau_y / k_t + dua * ell + tau_y * ell ** 2 / (2.0 * EA)
        return C, delta, EA * dua + tau_y * ell
    C, alpha, beta = _decay_amplitudes(ell, a, EA, k_t, tau_y, gamma)
    m, w_inf = _slip_zone_constants(EA, k_t, tau_y, gamma)
    w, s = _slip_zone(np.array(ell), ell, alpha, beta, m, w_inf, EA, k_t, tau_y, gamma)
    return C, float(w + s), EA * m * (beta - alpha * np.exp(-m * ell))


def _decay_amplitudes(ell, a, EA, k_t, tau_y, gamma):
    """``(C, alpha, beta)`` of ``w = w_inf + alpha e^(-m xi) + beta e^(-m (ell - xi))`` (the
    exponentially scaled form: no cancellation when ``m ell`` is large). Three linear
    conditions: ``w(0) = u(a)``, ``w'(0) = u'(a)`` (``s(a) = s'(a) = 0``) and
    ``int_0^ell s'' = 0`` (``s'(L) = 0``)."""
    lam = np.sqrt(k_t / EA)
    m, w_inf = _slip_zone_constants(EA, k_t, tau_y, gamma)
    E = np.exp(-m * ell)
    A0 = tau_y / (EA + gamma)
    matrix = np.array([[np.cosh(lam * a), -1.0, -E],
                       [lam * np.sinh(lam * a), m, -m * E],
                       [0.0, 1.0 - E, 1.0 - E]])
    rhs = np.array([w_inf, 0.0, A0 * ell * gamma * m / k_t])
    C_, alpha, beta = np.linalg.solve(matrix, rhs)
    return C_, alpha, beta


def _slip_zone(xi, ell, alpha, beta, m, w_inf, EA, k_t, tau_y, gamma):
    """``(w, s)`` in the slip zone at ``xi = x - a``."""
    E = np.exp(-m * ell)
    grow = np.exp(-m * (ell - xi))
    w = w_inf + alpha * np.exp(-m * xi) + beta * grow
    s = tau_y / (EA + gamma) * xi ** 2 / 2.0 - k_t / gamma * (
        alpha * (xi / m - (1.0 - np.exp(-m * xi)) / m ** 2)
        + beta * ((grow - E) / m ** 2 - xi * E / m))
    return w, s


def bar_solution(delta, *, length, EA, k_t, tau_y, gamma=0.0):
    """The bar's state at end displacement ``delta`` (partial slip only)."""
    L, EA, k_t = positive("length", length), positive("EA", EA), positive("k_t", k_t)
    tau_y, gamma = positive("tau_y", tau_y), non_negative("gamma", gamma)
    delta = non_negative("delta", delta)
    params = (L, EA, k_t, tau_y, gamma)
    lam = np.sqrt(k_t / EA)
    onset = tau_y / k_t
    if delta <= onset:
        C = delta / np.cosh(lam * L)
        return BarSolution(delta, L, EA * C * lam * np.sinh(lam * L), C, params)
    _, full, _ = _state(L, *params)
    if delta >= full:
        raise ParameterError(f"delta = {delta:g} slides the whole bar (partial slip ends at "
                             f"{full:g}); the closed form covers partial slip")
    ell = brentq(lambda e: _state(e, *params)[1] - delta, 1e-12 * L, L, xtol=1e-15 * L,
                 rtol=1e-15, maxiter=500)
    C, _, F = _state(ell, *params)
    return BarSolution(delta, L - ell, F, C, params)
