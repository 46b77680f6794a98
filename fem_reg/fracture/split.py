"""Miehe's spectral split of the elastic energy (Miehe, Hofacker & Welschinger 2010), cell by
cell for P1 simplices (constant strain):

    psi+ = lambda/2 <tr eps>+^2 + mu sum_a <eps_a>+^2,   psi- = the same with <.>-

where ``eps_a`` are the principal strains. Only ``psi+`` is degraded and drives the damage.
The stress ``g sigma+ + sigma-`` is positively homogeneous of degree one in the strain but not
piecewise linear (the principal directions turn), so the equilibrium is solved by Newton's
method. The tangent is taken by central differences of the exact stress, per cell and strain
component: the residual is exact, the tangent accurate to about 1e-8, and Newton converges to
round-off all the same. A closed-form tangent (Miehe 1998) would save five stress evaluations
per cell; the eigen decompositions are batched, so the differences cost milliseconds.
"""

import numpy as np

RELATIVE_STEP = 1e-7


def spectral_parts(eps, lam, mu):
    """``(psi_plus, psi_minus, sigma_plus, sigma_minus)`` for symmetric strains ``eps`` of
    shape ``(..., dim, dim)``. In plane strain the 2 x 2 in-plane block is enough: the zero
    zz strain is a principal strain that adds nothing to either part (and the in-plane
    equilibrium needs no sigma_zz)."""
    values, vectors = _eigh_2x2(eps) if eps.shape[-1] == 2 else np.linalg.eigh(eps)
    positive, negative = np.maximum(values, 0.0), np.minimum(values, 0.0)
    eps_plus = (vectors * positive[..., None, :]) @ np.swapaxes(vectors, -1, -2)
    trace = np.trace(eps, axis1=-2, axis2=-1)
    tr_plus, tr_minus = np.maximum(trace, 0.0), np.minimum(trace, 0.0)
    psi_plus = 0.5 * lam * tr_plus ** 2 + mu * np.sum(positive ** 2, axis=-1)
    psi_minus = 0.5 * lam * tr_minus ** 2 + mu * np.sum(negative ** 2, axis=-1)
    identity = np.eye(eps.shape[-1])
    sigma_plus = lam * tr_plus[..., None, None] * identity + 2.0 * mu * eps_plus
    sigma_minus = lam * tr_minus[..., None, None] * identity + 2.0 * mu * (eps - eps_plus)
    return psi_plus, psi_minus, sigma_plus, sigma_minus


def energy_parts(eps, lam, mu, kind):
    """``(psi_plus, psi_minus, sigma_plus)`` of strains ``eps`` (``(..., dim, dim)``; plane
    strain in 2D) for the split ``kind``: ``"none"`` (all of the energy is degraded),
    ``"volumetric_deviatoric"`` (Amor et al. 2009: ``psi+ = K/2 <tr eps>+^2 + mu
    |dev eps|^2``, ``psi- = K/2 <tr eps>-^2``, the deviator in 3D) or ``"spectral"``.

    >>> eps = np.array([[1e-3, 0.0], [0.0, -2e-3]])          # tr eps < 0
    >>> plus, minus, _ = energy_parts(eps, 100.0, 50.0, "volumetric_deviatoric")
    >>> bulk = 100.0 + 2.0 * 50.0 / 3.0
    >>> bool(np.isclose(minus, 0.5 * bulk * 1e-6))
    True
    >>> total = sum(energy_parts(eps, 100.0, 50.0, "none")[:2])
    >>> bool(np.isclose(plus + minus, total))
    True
    """
    identity = np.eye(eps.shape[-1])
    trace = np.trace(eps, axis1=-2, axis2=-1)
    if kind == "spectral":
        plus, minus, sigma_plus, _ = spectral_parts(eps, lam, mu)
        return plus, minus, sigma_plus
    if kind == "none":
        psi = 0.5 * lam * trace ** 2 + mu * np.sum(eps * eps, axis=(-2, -1))
        sigma = lam * trace[..., None, None] * identity + 2.0 * mu * eps
        return psi, np.zeros_like(psi), sigma
    bulk = lam + 2.0 * mu / 3.0
    tension, compression = np.maximum(trace, 0.0), np.minimum(trace, 0.0)
    deviator = eps - trace[..., None, None] / 3.0 * identity      # in-plane block of 3D's
    plus = 0.5 * bulk * tension ** 2 + mu * (np.sum(eps * eps, axis=(-2, -1)) - trace ** 2 / 3.0)
    sigma_plus = bulk * tension[..., None, None] * identity + 2.0 * mu * deviator
    return plus, 0.5 * bulk * compression ** 2, sigma_plus


def components(dim):
    """The independent strain components ``(i, j)``: xx, yy, xy in 2D; and zz, yz, xz in 3D."""
    pairs = [(0, 0), (1, 1), (0, 1)]
    return pairs + [(2, 2), (1, 2), (0, 2)] if dim == 3 else pairs


def unit_strains(dim):
    """``E[k]``: the symmetric unit tensor of component k (ones at (i, j) and (j, i))."""
    pairs = components(dim)
    E = np.zeros((len(pairs), dim, dim))
    for k, (i, j) in enumerate(pairs):
        E[k, i, j] = E[k, j, i] = 1.0
    return E


def stress(eps, g, lam, mu):
    """``g sigma+ + sigma-`` (``g`` per cell)."""
    _, _, plus, minus = spectral_parts(eps, lam, mu)
    return g[:, None, None] * plus + minus


def stress_derivatives(eps, g, lam, mu, dim):
    """``D[e, k] = d sigma / d eps`` in the direction of component k's unit strain, by
    central differences with a step relative to each cell's strain."""
    E = unit_strains(dim)
    step = RELATIVE_STEP * np.maximum(np.abs(eps).max(axis=(1, 2)), 1e-12)
    D = np.empty((eps.shape[0], len(E), dim, dim))
    for k, direction in enumerate(E):
        shift = step[:, None, None] * direction
        D[:, k] = (stress(eps + shift, g, lam, mu) - stress(eps - shift, g, lam, mu)) \
            / (2.0 * step[:, None, None])
    return D


def _eigh_2x2(eps):
    """Eigenvalues and eigenvectors (columns) of symmetric 2 x 2 tensors in closed form: the
    mean plus or minus the radius of Mohr's circle, along the angle ``atan2(2 b, a - c) / 2``
    (five times faster than the batched LAPACK call)."""
    a, b, c = eps[..., 0, 0], eps[..., 0, 1], eps[..., 1, 1]
    mean, radius = 0.5 * (a + c), np.hypot(0.5 * (a - c), b)
    angle = 0.5 * np.arctan2(2.0 * b, a - c)
    cos, sin = np.cos(angle), np.sin(angle)
    values = np.stack((mean + radius, mean - radius), axis=-1)
    vectors = np.stack((np.stack((cos, sin), axis=-1), np.stack((-sin, cos), axis=-1)),
                       axis=-1)
    return values, vectors
