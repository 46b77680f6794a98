"""Where a phase-field crack went: the direction it leaves a point (the notch tip)."""

import numpy as np

from ..errors import ParameterError


def crack_direction(points, damage, tip, within, threshold=0.9):
    """The angle in degrees (counter-clockwise from +x) at which the crack leaves ``tip``:
    the direction of the mean offset from ``tip`` of the nodes ``points`` (``(2, n)``) whose
    ``damage`` is at least ``threshold`` at distances ``within = (r0, r1)`` from it. One
    branch is assumed: two branches average out (check the nodes themselves for that).

    >>> x = np.array([[0.0, 0.1, 0.2, 0.1], [0.0, -0.1, -0.2, 0.1]])
    >>> round(crack_direction(x, np.array([1.0, 1.0, 1.0, 0.2]), (0.0, 0.0), (0.05, 1.0)), 6)
    -45.0
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] != 2:
        raise ParameterError(f"crack_direction: points must be (2, n) (a 2D mesh's nodes); "
                             f"got shape {points.shape}")
    r0, r1 = within
    offset = points - np.asarray(tip, dtype=np.float64)[:, None]
    distance = np.linalg.norm(offset, axis=0)
    chosen = (np.asarray(damage) >= threshold) & (distance >= r0) & (distance <= r1)
    if not chosen.any():
        raise ParameterError(f"crack_direction: no node with damage >= {threshold:g} at "
                             f"{r0:g} to {r1:g} from {tuple(tip)}: no crack there")
    mean = offset[:, chosen].mean(axis=1)
    return float(np.degrees(np.arctan2(mean[1], mean[0])))
