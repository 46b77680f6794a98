"""Closed forms of AT1 and AT2 in one dimension (Pham, Amor, Marigo & Maurini 2011; Tanne,
Li, Bourdin, Marigo & Maurini 2018, JMPS 110), the references of the tests.

* The homogeneous solution of a bar under growing strain: AT2 damages from the first load,
  its stress peaks at ``sigma_c = (9/16) sqrt(E Gc / (3 l))``; AT1 stays elastic up to
  ``sigma_c = sqrt(3 E Gc / (8 l))``.
* The optimal crack profile, whose fracture energy is ``Gc``: AT2 ``exp(-|x| / l)``, AT1
  ``(1 - |x| / (2 l))^2`` on ``|x| <= 2 l`` (zero beyond).
"""

import numpy as np


def critical_stress(E, Gc, length, model):
    """The peak stress of the homogeneous solution."""
    if model == "AT2":
        return 9.0 / 16.0 * np.sqrt(E * Gc / (3.0 * length))
    return np.sqrt(3.0 * E * Gc / (8.0 * length))


def homogeneous_stress(strain, E, Gc, length, model):
    """Stress of the homogeneous solution at ``strain`` (``d`` minimizes the energy at
    each strain; the strain grows monotonically so irreversibility is inactive)."""
    strain = np.asarray(strain, dtype=np.float64)
    psi = 0.5 * E * strain ** 2
    if model == "AT2":
        d = 2.0 * psi / (2.0 * psi + Gc / length)
    else:
        d = np.clip(1.0 - 3.0 * Gc / (16.0 * length * psi + 1e-300), 0.0, 1.0)
    return (1.0 - d) ** 2 * E * strain


def crack_profile(x, length, model):
    """The optimal damage profile of a crack at ``x = 0``."""
    r = np.abs(np.asarray(x, dtype=np.float64)) / length
    if model == "AT2":
        return np.exp(-r)
    return np.where(r <= 2.0, (1.0 - r / 2.0) ** 2, 0.0)
