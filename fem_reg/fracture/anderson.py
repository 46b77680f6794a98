"""Anderson acceleration of the alternate minimization, with a restart where it stops paying.

The staggered scheme is a fixed-point iteration ``d -> G(d)`` (a displacement solve at ``d``,
then the damage minimization at that displacement). Where the crack runs it converges slowly:
the crack advances a little at each pass. Anderson acceleration (Walker & Ni 2011, SIAM J.
Numer. Anal. 49) combines the last few passes: with the residuals ``f_k = G(d_k) - d_k``, it
takes the combination of the ``G(d_k)`` whose residuals' combination is least in the 2-norm,
then projects onto the bounds. A residual that grew clears the memory (a plain pass), so the
scheme keeps a decreasing tendency; Storvik, Both, Sargado, Nordbotten & Radu (2021, CMAME 381)
accelerate the staggered scheme in the same way, switching on the residual's evolution.
"""

import numpy as np


class Anderson:
    """The next iterate of a fixed-point iteration from the last ``depth + 1`` passes.

    ``next(d, g, lower, upper)`` takes the current iterate ``d`` and its image ``g = G(d)``
    and returns the accelerated iterate, clipped to ``[lower, upper]``; ``depth = 0`` is the
    plain iteration. ``restarts`` counts the memory clears."""

    def __init__(self, depth):
        self.depth = int(depth)
        self.images, self.residuals = [], []
        self.restarts = 0

    def reset(self):
        self.images.clear()
        self.residuals.clear()

    def next(self, d, g, lower, upper):
        f = g - d
        if self.residuals and np.linalg.norm(f) > np.linalg.norm(self.residuals[-1]):
            self.reset()
            self.restarts += 1
        self.images.append(g)
        self.residuals.append(f)
        if len(self.residuals) > self.depth + 1:
            del self.images[0], self.residuals[0]
        if len(self.residuals) == 1:
            return g
        dF = np.diff(np.array(self.residuals), axis=0).T
        dG = np.diff(np.array(self.images), axis=0).T
        gamma = np.linalg.lstsq(dF, f, rcond=None)[0]
        return np.clip(g - dG @ gamma, lower, upper)
