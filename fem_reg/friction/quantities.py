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


def transition_width(x, slip, low=0.1, high=0.9):
    """Distance over which ``|slip|`` rises from ``low`` to ``high`` times its maximum across
    the slip front, walking in from the end with less slip (the stick side). ``nan`` when
    nothing slips or when the stick end already slips more than ``low`` (no front)."""
    x, a = np.asarray(x, dtype=np.float64), np.abs(np.asarray(slip, dtype=np.float64))
    order = np.argsort(x)
    x, a = x[order], a[order]
    peak = a.max() if a.size else 0.0
    if peak <= 0.0:
        return float("nan")
    if a[0] > a[-1]:
        x, a = x[::-1], a[::-1]
    if a[0] >= low * peak:
        return float("nan")
    return float(abs(_crossing(x, a, high * peak) - _crossing(x, a, low * peak)))


def slip_zone_length(weights, kappa, thickness=1.0):
    """Interface length (nodal weights ``m_i / thickness``) of the nodes that have slipped."""
    return float(np.sum(np.asarray(weights)[np.asarray(kappa) > 0.0]) / thickness)
