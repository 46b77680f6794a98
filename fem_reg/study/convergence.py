"""Grid convergence from numbers: observed order, Richardson extrapolation, GCI, a verdict.

Pure functions over ``(h, phi)`` pairs; no meshes, no physics.

* Three finest grids: the procedure of Celik, Ghia, Roache, Freitas, Coleman & Raad (2008),
  "Procedure for estimation and reporting of uncertainty due to discretization in CFD
  applications", J. Fluids Eng. 130, 078001 — apparent order as the root of their eq. 3
  (any refinement ratios), extrapolated value, approximate and extrapolated relative
  errors, GCI of the fine pair (21) and of the next pair (32) (Roache 1998).
* Classification on both differences before any order is trusted (Celik et al. 2008 with
  ``R = e21 / e32``): ``0 < R < 1`` monotonic convergence (``R < ln r21 / ln r32`` for
  non-constant ratios), ``-1 < R < 0`` oscillatory convergence, larger ``R`` monotonic
  divergence, ``R <= -1`` oscillatory divergence (the oscillation grows); both differences
  at round-off: converged; exactly one at round-off: indeterminate. ``docs/refinement_studies.md`` states the rules and their sources.
* Four or more grids: also the least-squares fit ``phi = phi0 + a h^p`` (Eca & Hoekstra 2014,
  J. Comput. Phys. 262) with its standard error, and the local order of each consecutive
  triplet — the asymptotic-range test that means something (with three grids the ratio
  ``GCI_32 / (r21^p GCI_21)`` equals ``phi1 / phi2`` identically).
* Code verification: the least-squares slope of ``log|phi - phi_ref|`` against ``log h``.
"""

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from ..checks import number, positive
from ..errors import ParameterError

SAFETY_THREE_GRIDS = 1.25
SAFETY_UNRELIABLE = 3.0
# A difference is round-off when it is below ROUND_OFF times the largest |phi| of the study:
# double precision (2.2e-16) amplified by assembly sums and a direct solve's conditioning
# (1e3..1e4 for the meshes a study runs) leaves 1e-13..1e-12 of relative noise.
ROUND_OFF = 1e-12
MAX_ORDER = 20.0           # search range of orders for the iterations and the fit


@dataclass
class GridConvergence:
    """Result of :func:`grid_convergence` for one quantity (finest grid first).

    ``convergence`` is ``monotonic``, ``oscillatory``, ``divergent`` (monotonic or
    oscillatory divergence: ``notes`` says which), ``converged`` (both differences at
    round-off), ``indeterminate`` (exactly one difference at round-off) or ``two-grid``
    (order assumed, not observed). Errors ``e_a21``, ``e_ext21`` and the GCIs are relative
    to the fine value unless ``relative`` is false (a fine value of zero), in which case they
    are absolute. ``gci_32`` is the GCI of the coarser pair (grids 2 and 3, relative to
    ``phi2``), the numerator of Roache's asymptotic ratio ``GCI_32 / (r21^p GCI_21)``.
    """

    h: list
    phi: list
    convergence: str
    r21: float
    r32: float | None = None
    order: float | None = None
    order_assumed: bool = False
    extrapolated: float | None = None
    e_a21: float | None = None
    e_ext21: float | None = None
    gci_fine: float | None = None
    gci_32: float | None = None
    asymptotic_ratio: float | None = None
    safety_factor: float | None = None
    relative: bool = True
    oscillation_bounds: tuple | None = None
    local_orders: list = field(default_factory=list)
    least_squares: dict | None = None
    notes: list = field(default_factory=list)

    def verdict(self, tolerance, asymptotic_tolerance=0.1):
        """``(mesh_independent, reason)``: monotonic (or round-off) convergence with
        ``gci_fine <= tolerance`` and ``|asymptotic_ratio - 1| <= asymptotic_tolerance``; or
        oscillatory convergence whose data-range uncertainty, the safety factor times the
        spread of the three finest values (Eca & Hoekstra 2014: the apparent order of
        oscillating data, and the GCI built on it, mean little), is within ``tolerance``."""
        tolerance = positive("tolerance", tolerance)
        unit = "" if self.relative else " (absolute)"
        if self.convergence == "converged":
            return True, "the three finest values agree to round-off"
        if self.convergence in ("divergent", "indeterminate"):
            return False, f"{self.convergence}: {self.notes[-1]}"
        if self.gci_fine is None:
            return False, "no GCI available"
        limit = _percent(tolerance, self.relative)
        if self.convergence == "oscillatory":
            uncertainty = self.uncertainty
            spread = uncertainty / self.safety_factor
            text = (f"oscillatory within {_percent(spread, self.relative)}: data-range "
                    f"uncertainty {self.safety_factor:g} x spread = "
                    f"{_percent(uncertainty, self.relative)}")
            if uncertainty > tolerance:
                return False, f"{text} > tolerance {limit}"
            return True, f"{text} <= {limit}"
        gci = f"GCI_fine = {_percent(self.gci_fine, self.relative)}{unit}"
        if self.gci_fine > tolerance:
            return False, f"{gci} > tolerance {limit}"
        if self.asymptotic_ratio is None and self.convergence == "monotonic":
            return False, f"{gci} <= {limit} but the asymptotic range is not shown " \
                          f"({self.notes[-1]})"
        if self.asymptotic_ratio is not None and \
                abs(self.asymptotic_ratio - 1.0) > asymptotic_tolerance:
            return False, (f"{gci} <= {limit} but not in the asymptotic range "
                           f"(ratio {self.asymptotic_ratio:.3f})")
        return True, f"{self.convergence}, {gci} <= {limit}"

    @property
    def uncertainty(self):
        """The band the verdict judges (relative to the finest value unless ``relative`` is
        False): ``gci_fine`` for monotonic convergence, the safety factor times the spread of
        the three finest values for oscillatory convergence; None when neither applies
        (divergent, indeterminate)."""
        if self.convergence == "oscillatory" and self.oscillation_bounds is not None:
            low, high = self.oscillation_bounds
            return self.safety_factor * (high - low) / (abs(self.phi[0]) if self.relative
                                                         else 1.0)
        if self.convergence in ("divergent", "indeterminate"):
            return None
        return self.gci_fine

    def to_dict(self):
        out = asdict(self)
        out["oscillation_bounds"] = None if self.oscillation_bounds is None else \
            list(self.oscillation_bounds)
        out["uncertainty"] = self.uncertainty
        return out


def _percent(value, relative=True):
    return f"{100 * value:.3g}%" if relative else f"{value:.3g}"


def _prepare(h, phi):
    h = np.asarray(h, dtype=np.float64).ravel()
    phi = np.asarray(phi, dtype=np.float64).ravel()
    if h.shape != phi.shape:
        raise ParameterError(f"h and phi must have the same length, got {h.size} and "
                             f"{phi.size}")
    if h.size < 2:
        raise ParameterError(f"grid convergence needs at least two grids, got {h.size}")
    if not (np.isfinite(h).all() and np.isfinite(phi).all()):
        raise ParameterError("h and phi must be finite numbers")
    if (h <= 0).any():
        raise ParameterError(f"h must be positive, got {h.tolist()}")
    order = np.argsort(h)
    h, phi = h[order], phi[order]
    if (np.diff(h) <= 1e-12 * h[1:]).any():
        raise ParameterError(f"h must be distinct (one value per grid), got {h.tolist()}")
    return h, phi


def _order_equation(e21, e32, r21, r32):
    """``f(p) = ln|e32/e21| + ln((r21^p - s)/(r32^p - s)) - p ln r21`` (Celik et al. 2008,
    eq. 3 without its absolute value), in a form that does not overflow, and its limit at
    ``p -> 0+``. ``f`` is strictly decreasing in ``p`` for either sign ``s``, so a positive
    root exists, and is unique, exactly when that limit is positive."""
    s = 1.0 if e32 / e21 > 0 else -1.0
    log_ratio = math.log(abs(e32 / e21))
    l21, l32 = math.log(r21), math.log(r32)

    def log_term(p, log_r):                  # ln(r^p - s) - p ln r = ln(1 - s r^-p)
        return math.log(-math.expm1(-p * log_r)) if s > 0 else math.log1p(math.exp(-p * log_r))

    def f(p):
        return log_ratio - p * l32 + log_term(p, l21) - log_term(p, l32)

    limit = log_ratio + (math.log(l21 / l32) if s > 0 else 0.0)
    return f, limit


def converges(e21, e32, r21, r32):
    """Whether three grids' differences fit ``phi0 + a h^p`` with some ``p > 0``: for a
    sign change ``|R| < 1`` with ``R = e21 / e32`` (oscillatory convergence, any ratios); for
    monotonic data ``R < ln r21 / ln r32`` (which is ``R < 1`` for a constant ratio, Celik's
    criterion; a coarse pair refined by a smaller ratio than the fine pair allows ``R`` above
    1 for a low order)."""
    return _order_equation(e21, e32, r21, r32)[1] > 0


def celik_order(e21, e32, r21, r32):
    """Apparent order from three grids: the root ``p > 0`` of Celik et al. (2008), eq. 3,
    ``p ln r21 = ln|e32/e21| + ln((r21^p - s)/(r32^p - s))``, ``s = sign(e32/e21)``. Solved by
    bracketing (the equation is monotonic in ``p``, so the root is unique); Celik's fixed-point
    iteration with an absolute value can land on a spurious root when the ratios differ
    (5.9 instead of 1 for ``h^1`` on ratios 1.5 and 3). None when no positive order fits
    (divergent data)."""
    f, limit = _order_equation(e21, e32, r21, r32)
    if limit <= 0:
        return None
    high = MAX_ORDER
    while f(high) > 0:
        high *= 2.0
    low = min(1e-9, high / 2.0)
    if f(low) <= 0:                          # the root is below any order that matters
        return low
    return float(brentq(f, low, high, xtol=1e-14, rtol=1e-13))


def least_squares_fit(h, phi):
    """Fit ``phi = phi0 + a h^p`` (Eca & Hoekstra 2014): for each ``p`` the best
    ``phi0, a`` are linear least squares; ``p`` minimizes the residual.

    Returns ``{"order", "extrapolated", "coefficient", "standard_error"}``;
    ``standard_error = sqrt(sum(residual^2) / (n - 3))``.
    """
    h, phi = np.asarray(h, float), np.asarray(phi, float)

    def fit(p):
        design = np.column_stack((np.ones_like(h), h ** p))
        coef, *_ = np.linalg.lstsq(design, phi, rcond=None)
        return coef, float(np.sum((design @ coef - phi) ** 2))

    grid = np.linspace(0.05, MAX_ORDER, 400)
    start = grid[np.argmin([fit(p)[1] for p in grid])]
    result = minimize_scalar(lambda p: fit(p)[1], bounds=(max(0.01, start - 0.1),
                                                          min(MAX_ORDER, start + 0.1)),
                             method="bounded", options={"xatol": 1e-10})
    p = float(result.x)
    (phi0, a), residual = fit(p)
    dof = len(h) - 3
    return {"order": p, "extrapolated": float(phi0), "coefficient": float(a),
            "standard_error": float(math.sqrt(residual / dof)) if dof > 0 else 0.0}


def loglog_slope(h, error, levels=None):
    """Least-squares slope of ``log|error|`` against ``log h`` over the ``levels`` finest
    grids (all by default): the observed order of a code-verification study."""
    h = np.asarray(h, float)
    error = np.abs(np.asarray(error, float))
    order = np.argsort(h)
    h, error = h[order], error[order]
    if levels is not None:
        h, error = h[:levels], error[:levels]
    if len(h) < 2:
        raise ParameterError("a slope needs at least two grids")
    if (error <= 0).any():
        raise ParameterError("errors must be non-zero for a log-log slope")
    return float(np.polyfit(np.log(h), np.log(error), 1)[0])


PLATEAU_FRACTION = 0.5     # a finest local order below this share of the expected: plateau


def error_convergence(h, error, expected_order=None, levels=3, order_tolerance=0.1):
    """Code verification of an error that tends to 0 (``|phi - phi_exact|``).

    A GCI relative to a value going to 0 means nothing; an error is judged by its observed
    order against the method's formal order (MOOSE's and scikit-fem's convention: the
    least-squares slope of ``log|error|`` against ``log h`` over the ``levels`` finest grids
    within ``order_tolerance`` of the expected order) and by its local orders, the slopes
    between consecutive grids: an error that stops decreasing (an iterative solver's
    tolerance, the round-off floor) shows as a finest local order far below the coarser ones
    and is flagged as a plateau instead of being fitted as if it converged.

    Returns
    -------
    dict
        ``observed_order`` (None when the errors are at round-off), ``local_orders`` (finest
        pair first), ``plateau``, ``order_ok`` (None without an expected order) and
        ``reason``.
    """
    h = np.asarray(h, float)
    error = np.abs(np.asarray(error, float))
    order = np.argsort(h)
    h, error = h[order], error[order]
    out = {"observed_order": None, "local_orders": [], "plateau": False, "order_ok": None}
    if len(h) < 2:
        out["reason"] = "one level: no order"
        return out
    if (error <= np.finfo(float).tiny).all():
        out["reason"] = "errors are zero on every level: the method is exact here"
        out["order_ok"] = True if expected_order is not None else None
        return out
    if (error <= np.finfo(float).tiny).any():
        out["reason"] = ("an error of exactly zero on some levels but not on others: "
                         "indeterminate")
        out["order_ok"] = False if expected_order is not None else None
        return out
    local = [float(math.log(error[k + 1] / error[k]) / math.log(h[k + 1] / h[k]))
             for k in range(len(h) - 1)]
    out["local_orders"] = local
    out["observed_order"] = loglog_slope(h, error, levels=min(levels, len(h)))
    target = expected_order if expected_order is not None else \
        (max(local[1:]) if len(local) > 1 else None)
    finest = local[0]
    if target is not None and target > 0 and len(local) > 1 and \
            finest < PLATEAU_FRACTION * target:
        out["plateau"] = True
        out["order_ok"] = False if expected_order is not None else None
        orders = ", ".join(f"{q:.2f}" for q in local)
        out["reason"] = (f"error plateau: local orders {orders} (finest first) fall below "
                         f"{PLATEAU_FRACTION:g} x {target:.3g} on the finest pair; the error "
                         f"stops decreasing at {error[0]:.3g} (solver tolerance or round-off?)")
        return out
    text = f"observed order {out['observed_order']:.3g}"
    if len(h) < 3:
        out["reason"] = f"{text} from two levels: one slope cannot show a plateau; add a level"
        return out
    if expected_order is None:
        out["reason"] = f"{text} (no expected order given)"
        return out
    out["order_ok"] = bool(abs(out["observed_order"] - expected_order) <= order_tolerance)
    relation = "within" if out["order_ok"] else "not within"
    out["reason"] = (f"{text} {relation} {order_tolerance:g} of the expected "
                     f"{expected_order:g}; finest error {error[0]:.3g}")
    return out


def grid_convergence(h, phi, *, expected_order=None, safety_factor=None):
    """Observed order, extrapolated value, GCI and convergence type of one quantity.

    Parameters
    ----------
    h
        Representative cell sizes, any order (sorted here, finest first); distinct.
    phi
        The quantity on each grid.
    expected_order
        Formal order of the method. Needed with two grids (the order cannot be observed);
        with three or more, an observed order differing from it by more than 25% counts as
        unreliable (safety factor 3).
    safety_factor
        Override the GCI safety factor (default: 1.25 for three or more grids with monotonic
        convergence and a reliable order, 3.0 otherwise).

    Returns
    -------
    GridConvergence
    """
    h, phi = _prepare(h, phi)
    if expected_order is not None:
        expected_order = positive("expected_order", expected_order)
    if safety_factor is not None:
        safety_factor = number("safety_factor", safety_factor, low=1.0)
    scale = max(np.abs(phi).max(), np.finfo(float).tiny)
    relative = bool(abs(phi[0]) > ROUND_OFF * scale)
    norm = abs(phi[0]) if relative else 1.0
    r21 = h[1] / h[0]
    e21 = phi[1] - phi[0]
    result = GridConvergence(h=h.tolist(), phi=phi.tolist(), convergence="", r21=float(r21),
                             relative=relative,
                             oscillation_bounds=(float(phi[:3].min()), float(phi[:3].max())))
    if not relative:
        result.notes.append("fine value is zero: errors and GCI are absolute")
    tiny = ROUND_OFF * scale

    if len(h) == 2:
        if expected_order is None:
            raise ParameterError("two grids cannot show an order: give expected_order (the "
                                 "formal order of the method), or add a third grid")
        result.convergence = "two-grid"
        p = expected_order
        result.order, result.order_assumed = p, True
        fs = safety_factor or SAFETY_UNRELIABLE
        _fine_pair(result, phi, r21, p, fs, norm, tiny)
        result.notes.append("two grids: order assumed, safety factor 3")
        return result

    r32 = h[2] / h[1]
    e32 = phi[2] - phi[1]
    result.r32 = float(r32)
    if abs(e21) <= tiny and abs(e32) <= tiny:
        result.convergence = "converged"
        result.extrapolated = float(phi[0])
        result.e_a21 = result.e_ext21 = result.gci_fine = result.gci_32 = 0.0
        result.notes.append("the three finest values agree to round-off")
        return result
    if abs(e21) <= tiny or abs(e32) <= tiny:
        # one pair agrees, the other does not: a plateau reached by chance, a value that
        # jumps, or a solver that stalled; no order or uncertainty can be estimated
        result.convergence = "indeterminate"
        which = ("the two finest values agree to round-off but the third differs by "
                 f"{_percent(abs(e32) / norm, relative)}") if abs(e21) <= tiny else \
                ("the two coarser values agree to round-off but the finest differs by "
                 f"{_percent(abs(e21) / norm, relative)}")
        result.notes.append(f"{which}: add a level")
        return result

    R = e21 / e32
    if not converges(e21, e32, r21, r32):
        result.convergence = "divergent"
        if R > 0:
            bound = math.log(r21) / math.log(r32)
            result.notes.append(f"monotonic divergence, R = e21/e32 = {R:.3g} >= "
                                f"{bound:.3g} (ln r21 / ln r32): the differences do not "
                                f"shrink like any power of h")
        else:
            result.notes.append(f"oscillatory divergence, R = e21/e32 = {R:.3g} <= -1: the "
                                f"oscillation grows with refinement")
        return result
    result.convergence = "monotonic" if R > 0 else "oscillatory"
    p = celik_order(e21, e32, r21, r32)
    result.order = p
    reliable = result.convergence == "monotonic"
    if expected_order is not None and abs(p - expected_order) > 0.25 * expected_order:
        reliable = False
        result.notes.append(f"observed order {p:.3g} differs from the expected "
                            f"{expected_order:g} by more than 25%")
    if result.convergence == "oscillatory":
        result.notes.append("oscillatory convergence: the apparent order is indicative only; "
                            "the oscillation bounds bracket the solution")
    fs = safety_factor or (SAFETY_THREE_GRIDS if reliable else SAFETY_UNRELIABLE)
    _fine_pair(result, phi, r21, p, fs, norm, tiny)
    if relative and abs(phi[1]) <= tiny:
        result.notes.append("the middle value is zero: no relative GCI_32 or asymptotic ratio")
    else:
        e_a32 = abs(e32) / (abs(phi[1]) if relative else 1.0)
        with np.errstate(over="ignore", divide="ignore"):   # extreme orders give inf: honest
            result.gci_32 = float(fs * e_a32 / (r32 ** p - 1.0))
            if result.gci_fine > 0:
                result.asymptotic_ratio = float(result.gci_32 / (r21 ** p * result.gci_fine))

    if len(h) >= 4:
        for k in range(len(h) - 2):
            a, b = phi[k + 1] - phi[k], phi[k + 2] - phi[k + 1]
            if abs(a) > tiny and abs(b) > tiny and a / b > 0 and \
                    converges(a, b, h[k + 1] / h[k], h[k + 2] / h[k + 1]):
                result.local_orders.append(celik_order(a, b, h[k + 1] / h[k],
                                                       h[k + 2] / h[k + 1]))
            else:
                result.local_orders.append(None)
        result.least_squares = least_squares_fit(h, phi)
    return result


def _fine_pair(result, phi, r21, p, fs, norm, tiny):
    """Extrapolation and GCI of the fine pair (Celik et al. 2008, eqs. 4-6)."""
    rp = r21 ** p
    extrapolated = (rp * phi[0] - phi[1]) / (rp - 1.0)
    result.extrapolated = float(extrapolated)
    result.safety_factor = float(fs)
    result.e_a21 = float(abs(phi[0] - phi[1]) / norm)
    ext_norm = abs(extrapolated) if result.relative and abs(extrapolated) > tiny else 1.0
    result.e_ext21 = float(abs(extrapolated - phi[0]) / ext_norm)
    result.gci_fine = float(fs * result.e_a21 / (rp - 1.0))
