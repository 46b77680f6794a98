"""Design updates: optimality criteria (OC) with bisection, and Svanberg's MMA.

* :func:`oc_update`: ``x_new = clip(x sqrt(-dc / (lambda dv)), x - move, x + move) ∩ [0, 1]``
  with ``lambda`` found by bisection so that the (linearized) volume meets its target
  (Bendsoe & Sigmund 2003; Andreassen et al. 2011). For a linear filter without projection the
  volume is linear in ``x`` and the linearization is exact.
* :class:`MMA`: the method of moving asymptotes (Svanberg 1987, IJNME 24) in the form of
  Svanberg's 2007 notes "MMA and GCMMA - two methods for nonlinear optimization": convex
  separable subproblems solved by a primal-dual interior-point Newton method whose linear
  systems are ``m x m`` (``m`` constraints), so the cost per iteration is ``O(n m^2)``.
  Written here because the maintained Python implementations are GPL-licensed.
"""

import numpy as np

from ..checks import integer, number
from ..errors import ParameterError


def oc_update(x, dc, dv, volume_excess, move=0.2, lower=0.0, upper=1.0, tol=1e-3,
              excess_of=None):
    """One OC step for ``min c(x)`` s.t. ``V(x) <= V*``.

    Parameters
    ----------
    x, dc, dv
        Current design and the gradients of objective and volume (``dv > 0``).
    volume_excess
        ``V(x) - V*`` at the current design; the constraint at the new design is taken as
        ``V(x) - V* + dv . (x_new - x)``.
    lower, upper
        Bounds (arrays or scalars).
    excess_of
        Optional ``x_new -> V(x_new) - V*`` evaluated exactly in the bisection (for a
        nonlinear volume, e.g. of a projected design) instead of the linearization.
    """
    ratio = np.maximum(-dc, 0.0) / dv
    low, high = np.maximum(lower, x - move), np.minimum(upper, x + move)
    base = volume_excess - dv @ x
    # lambda -> 0+: every element that can grow goes to its upper bound; if even that meets
    # the volume (a volume fraction of 1), the constraint is inactive and there is no
    # multiplier to bisect for (the bisection would close on lambda = 0)
    limit = np.where((ratio > 0) & (x > 0), high, low)
    if (base + dv @ limit if excess_of is None else excess_of(limit)) <= 0:
        return limit
    l1, l2 = 0.0, 1e9
    while (l2 - l1) / (l1 + l2) > tol:
        lmid = 0.5 * (l2 + l1)
        x_new = np.clip(x * np.sqrt(ratio / lmid), low, high)
        excess = base + dv @ x_new if excess_of is None else excess_of(x_new)
        if excess > 0:
            l1 = lmid
        else:
            l2 = lmid
    return x_new


class MMA:
    """Method of moving asymptotes for ``min f0(x)`` s.t. ``f_i(x) <= 0``, ``xmin <= x <= xmax``.

    Parameters
    ----------
    n, m
        Number of variables and of constraints (``m < n``).
    xmin, xmax
        Bounds (arrays or scalars).
    move
        Move limit as a fraction of ``xmax - xmin``.
    c
        Weight of the artificial variables ``y`` (large: constraints are met if possible).

    Examples
    --------
    Svanberg's (1987) cantilever of five segments, whose optimum weight is 1.340:

    >>> import numpy as np
    >>> c = np.array([61.0, 37.0, 19.0, 7.0, 1.0])
    >>> mma = MMA(n=5, m=1, xmin=1.0, xmax=10.0, move=1.0)
    >>> x = np.full(5, 5.0)
    >>> for _ in range(100):
    ...     x = mma.update(x, 0.0624 * x.sum(), np.full(5, 0.0624),
    ...                    np.array([np.sum(c / x ** 3) - 1.0]), (-3.0 * c / x ** 4)[None, :])
    >>> print(f"{0.0624 * x.sum():.3f}")
    1.340
    """

    asyinit, asyincr, asydecr = 0.5, 1.2, 0.7
    albefa, raa0, epsimin = 0.1, 1e-5, 1e-7

    def __init__(self, n, m, xmin=0.0, xmax=1.0, move=0.5, c=1000.0):
        self.n = integer("n", n, low=1)
        self.m = integer("m", m, low=1)
        if self.m >= self.n:
            raise ParameterError(f"MMA here needs fewer constraints than variables "
                                 f"(m = {m}, n = {n})")
        self.xmin = np.broadcast_to(np.asarray(xmin, dtype=np.float64), (n,)).copy()
        self.xmax = np.broadcast_to(np.asarray(xmax, dtype=np.float64), (n,)).copy()
        if np.any(self.xmax <= self.xmin):
            raise ParameterError("MMA: xmax must exceed xmin everywhere")
        self.move = number("move", move, low=0.0, low_open=True, high=1.0)
        self.a0 = 1.0
        self.a = np.zeros(m)
        self.c = np.full(m, float(c))
        self.d = np.ones(m)
        self.reset()

    def reset(self):
        """Forget the history (e.g. after a continuation step changed the problem)."""
        self.iteration = 0
        self.xold1 = self.xold2 = None
        self.low = self.upp = None

    def state(self):
        """Arrays that determine the next update (for checkpoints)."""
        empty = np.zeros(0)
        return {"mma_iteration": np.array(self.iteration),
                **{f"mma_{k}": empty if getattr(self, k) is None else getattr(self, k)
                   for k in ("xold1", "xold2", "low", "upp")}}

    def restore(self, state):
        self.iteration = int(state["mma_iteration"])
        for k in ("xold1", "xold2", "low", "upp"):
            value = np.asarray(state[f"mma_{k}"], dtype=np.float64)
            setattr(self, k, None if value.size == 0 else value.copy())

    def update(self, x, f0, df0, f, df):
        """The next design from values and gradients at ``x``.

        ``f`` has shape ``(m,)`` and ``df`` shape ``(m, n)``.
        """
        x = np.asarray(x, dtype=np.float64)
        f = np.atleast_1d(np.asarray(f, dtype=np.float64))
        df = np.atleast_2d(np.asarray(df, dtype=np.float64))
        self.iteration += 1
        span = self.xmax - self.xmin
        if self.iteration <= 2 or self.low is None:
            low = x - self.asyinit * span
            upp = x + self.asyinit * span
        else:
            sign = (x - self.xold1) * (self.xold1 - self.xold2)
            factor = np.ones(self.n)
            factor[sign > 0] = self.asyincr
            factor[sign < 0] = self.asydecr
            low = x - factor * (self.xold1 - self.low)
            upp = x + factor * (self.upp - self.xold1)
            low = np.clip(low, x - 10.0 * span, x - 0.01 * span)
            upp = np.clip(upp, x + 0.01 * span, x + 10.0 * span)
        alpha = np.maximum.reduce([low + self.albefa * (x - low), x - self.move * span,
                                   self.xmin])
        beta = np.minimum.reduce([upp - self.albefa * (upp - x), x + self.move * span,
                                  self.xmax])
        span_inv = 1.0 / np.maximum(span, 1e-5)
        ux2, xl2 = (upp - x) ** 2, (x - low) ** 2
        p0, q0 = np.maximum(df0, 0.0), np.maximum(-df0, 0.0)
        pq0 = 0.001 * (p0 + q0) + self.raa0 * span_inv
        p0, q0 = (p0 + pq0) * ux2, (q0 + pq0) * xl2
        P, Q = np.maximum(df, 0.0), np.maximum(-df, 0.0)
        PQ = 0.001 * (P + Q) + self.raa0 * span_inv[None, :]
        P, Q = (P + PQ) * ux2, (Q + PQ) * xl2
        b = P @ (1.0 / (upp - x)) + Q @ (1.0 / (x - low)) - f
        x_new = self._subsolve(low, upp, alpha, beta, p0, q0, P, Q, b)
        self.xold2 = self.xold1
        self.xold1 = x.copy()
        self.low, self.upp = low, upp
        return x_new

    def _subsolve(self, low, upp, alpha, beta, p0, q0, P, Q, b):
        """Primal-dual Newton method for the MMA subproblem (Svanberg 2007, sec. 5)."""
        m = self.m
        a0, a, c, d = self.a0, self.a, self.c, self.d
        x = 0.5 * (alpha + beta)
        y, z, lam = np.ones(m), 1.0, np.ones(m)
        xsi = np.maximum(1.0 / (x - alpha), 1.0)
        eta = np.maximum(1.0 / (beta - x), 1.0)
        mu, zet, s = np.maximum(1.0, 0.5 * c), 1.0, np.ones(m)

        def residual(x, y, z, lam, xsi, eta, mu, zet, s, epsi):
            ux1, xl1 = upp - x, x - low
            plam, qlam = p0 + P.T @ lam, q0 + Q.T @ lam
            gvec = P @ (1.0 / ux1) + Q @ (1.0 / xl1)
            parts = (plam / ux1 ** 2 - qlam / xl1 ** 2 - xsi + eta,
                     c + d * y - mu - lam,
                     [a0 - zet - a @ lam],
                     gvec - a * z - y + s - b,
                     xsi * (x - alpha) - epsi,
                     eta * (beta - x) - epsi,
                     mu * y - epsi,
                     [zet * z - epsi],
                     lam * s - epsi)
            r = np.concatenate([np.atleast_1d(p) for p in parts])
            return np.linalg.norm(r), np.abs(r).max()

        epsi = 1.0
        while epsi > self.epsimin:
            norm, worst = residual(x, y, z, lam, xsi, eta, mu, zet, s, epsi)
            inner = 0
            while worst > 0.9 * epsi and inner < 200:
                inner += 1
                ux1, xl1 = upp - x, x - low
                ux2, xl2 = ux1 ** 2, xl1 ** 2
                plam, qlam = p0 + P.T @ lam, q0 + Q.T @ lam
                gvec = P @ (1.0 / ux1) + Q @ (1.0 / xl1)
                G = P / ux2 - Q / xl2                                   # (m, n)
                delx = plam / ux2 - qlam / xl2 - epsi / (x - alpha) + epsi / (beta - x)
                dely = c + d * y - lam - epsi / y
                delz = a0 - a @ lam - epsi / z
                dellam = gvec - a * z - y - b + epsi / lam
                diagx = 2.0 * (plam / (ux1 * ux2) + qlam / (xl1 * xl2)) \
                    + xsi / (x - alpha) + eta / (beta - x)
                diagy = d + mu / y
                diaglamyi = s / lam + 1.0 / diagy
                blam = dellam + dely / diagy - G @ (delx / diagx)
                A = np.diag(diaglamyi) + (G / diagx) @ G.T
                AA = np.block([[A, a[:, None]], [a[None, :], np.array([[-zet / z]])]])
                solution = np.linalg.solve(AA, np.concatenate([blam, [delz]]))
                dlam, dz = solution[:m], solution[m]
                dx = -delx / diagx - (G.T @ dlam) / diagx
                dy = -dely / diagy + dlam / diagy
                dxsi = -xsi + epsi / (x - alpha) - xsi * dx / (x - alpha)
                deta = -eta + epsi / (beta - x) + eta * dx / (beta - x)
                dmu = -mu + epsi / y - mu * dy / y
                dzet = -zet + epsi / z - zet * dz / z
                ds = -s + epsi / lam - s * dlam / lam
                xx = np.concatenate([y, [z], lam, xsi, eta, mu, [zet], s])
                dxx = np.concatenate([dy, [dz], dlam, dxsi, deta, dmu, [dzet], ds])
                step_inv = max(np.max(-1.01 * dxx / xx), np.max(-1.01 * dx / (x - alpha)),
                               np.max(1.01 * dx / (beta - x)), 1.0)
                step = 1.0 / step_inv
                old = (x, y, z, lam, xsi, eta, mu, zet, s)
                for _ in range(50):
                    x, y, z, lam, xsi, eta, mu, zet, s = (
                        v + step * dv for v, dv in zip(old, (dx, dy, dz, dlam, dxsi, deta,
                                                              dmu, dzet, ds)))
                    new_norm, new_worst = residual(x, y, z, lam, xsi, eta, mu, zet, s, epsi)
                    if new_norm <= norm:
                        break
                    step /= 2.0
                norm, worst = new_norm, new_worst
            epsi *= 0.1
        return x
