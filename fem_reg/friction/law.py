"""The friction law on the interface: slip-weakening Coulomb friction.

``mu(kappa) = mu_d + (mu_s - mu_d) max(0, 1 - kappa / D_c)`` with ``kappa`` the accumulated
plastic slip (Ida 1972; Palmer & Rice 1973). ``D_c = 0`` is the abrupt drop: ``mu_s`` until
the first slip, ``mu_d`` after. ``mu_s = mu_d`` is constant (Coulomb) friction.
"""

from dataclasses import dataclass

import numpy as np

from ..checks import non_negative
from ..errors import ParameterError


@dataclass(frozen=True)
class SlipWeakening:
    """Friction coefficient as a function of the accumulated slip ``kappa``."""

    mu_s: float
    mu_d: float
    D_c: float = 0.0

    def __post_init__(self):
        non_negative("mu_s", self.mu_s)
        non_negative("mu_d", self.mu_d)
        non_negative("D_c", self.D_c)
        if self.mu_d > self.mu_s:
            raise ParameterError(f"mu_d ({self.mu_d}) must not exceed mu_s ({self.mu_s}): "
                                 f"the law weakens, it does not harden")

    @property
    def constant(self):
        return self.mu_s == self.mu_d

    def mu(self, kappa):
        kappa = np.asarray(kappa, dtype=np.float64)
        if self.constant:
            return np.full_like(kappa, self.mu_s)
        if self.D_c == 0.0:
            return np.where(kappa > 0.0, self.mu_d, self.mu_s)
        return self.mu_d + (self.mu_s - self.mu_d) * np.maximum(0.0, 1.0 - kappa / self.D_c)

    def slope(self, kappa):
        """``d mu / d kappa`` (zero where ``mu`` is constant; the drop at ``D_c = 0`` has no
        finite slope and is handled by the active-set logic)."""
        kappa = np.asarray(kappa, dtype=np.float64)
        if self.constant or self.D_c == 0.0:
            return np.zeros_like(kappa)
        return np.where(kappa < self.D_c, -(self.mu_s - self.mu_d) / self.D_c, 0.0)
