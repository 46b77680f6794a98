"""Where a phase-field crack went: the direction it leaves a point (the notch tip), and
how finely the mesh resolves its profile."""

import numpy as np

from ..errors import ParameterError
from ..mesh import cell_sizes


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


def profile_resolution(mesh, damage, length, slope=0.1):
    """The crack profile's element size over ``length``: the median edge of the cells where
    the damage's slope ``l |grad d|`` (its change across the cell over the cell's size in
    units of ``l``) exceeds ``slope``, where the profile is (it reaches 1 at the crack);
    ``None`` when the damage is uniform (no profile to resolve). The profile needs about
    ``h <= l/2`` (Miehe et al. 2010); the toughness it dissipates grows like ``1 + c h / l``
    (Bourdin et al. 2008).

    >>> from skfem import MeshLine
    >>> line = MeshLine(np.linspace(0.0, 1.0, 11))
    >>> round(profile_resolution(line, np.exp(-np.abs(line.p[0] - 0.5) / 0.2), 0.2), 9)
    0.5
    """
    d = np.asarray(damage)[mesh.t]
    size = cell_sizes(mesh) / length
    profile = (d.max(axis=0) - d.min(axis=0)) / size > slope
    if not profile.any():
        return None
    return float(np.median(size[profile]))
