"""Quantities of interest of a slip profile along the interface."""

import numpy as np


def _crossing(x, a, level):
    """First position (walking from ``x[0]``) where ``a`` reaches ``level``, linearly
    interpolated between nodes."""
    k = int(np.argmax(a >= level))
    if k == 0:
        return x[0]
    t = (level - a[k - 1]) / (a[k] - a[k - 1])
    return x[k - 1] + t * (x[k] - x[k - 1])


def transition_width(x, slip, scale=None, low=0.1, high=0.9):
    """Distance over which ``|slip|`` rises from ``low`` to ``high`` times ``scale`` across
    the slip front, walking in from the end with less slip (the stick side).

    ``scale`` is the slip the front carries: a number or one value per node (the stress-drop
    slip ``(mu_s - mu_d) p / k_t`` of slip weakening, see :func:`front_slip`); default the
    largest ``|slip|``. ``nan`` when nothing slips, when the stick end already slips more than
    ``low`` (no front), or when the slip never reaches ``high``."""
    x, a = np.asarray(x, dtype=np.float64), np.abs(np.asarray(slip, dtype=np.float64))
    order = np.argsort(x)
    x, a = x[order], a[order]
    if scale is None:
        scale = a.max() if a.size else 0.0
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), a.shape)
    if a.size == 0 or a.max() <= 0.0 or np.all(scale <= 0.0):
        return float("nan")
    # slip in units of the front's slip (a node that carries none counts as fully slipped)
    a = np.where(scale > 0.0, a / np.where(scale > 0.0, scale, 1.0), np.where(a > 0, np.inf, 0))
    if a[0] > a[-1]:
        x, a = x[::-1], a[::-1]
    if a[0] >= low or a.max() < high:
        return float("nan")
    return float(abs(_crossing(x, a, high) - _crossing(x, a, low)))


def front_slip(law, pressure, k_t):
    """The slip a slip-weakening front carries: ``(mu_s - mu_d) p / k_t``, the slip at which
    the stick traction has relaxed by the static-to-dynamic drop (the local law jumps by
    exactly this much at the front when ``D_c`` is smaller). ``None`` for constant friction."""
    if law.constant:
        return None
    return (law.mu_s - law.mu_d) * np.maximum(np.asarray(pressure, dtype=np.float64), 0.0) / k_t


def slip_zone_length(weights, kappa, thickness=1.0):
    """Interface length (nodal weights ``m_i / thickness``) of the nodes that have slipped."""
    return float(np.sum(np.asarray(weights)[np.asarray(kappa) > 0.0]) / thickness)
