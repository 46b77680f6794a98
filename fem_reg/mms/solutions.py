"""Smooth exact solutions and their source terms, derived by hand (checked in the tests by
finite differences).

All callables take coordinates ``x`` of shape ``(dim, ...)`` as scikit-fem passes them.
"""

import numpy as np

WAVENUMBERS = np.array([2.0, 3.0, 1.0])     # scalar solution: sin(2x + 1/2) cos(3y) cos(z)
PHASE = 0.5


def scalar(x):
    """``u = sin(k0 x0 + 1/2) prod_i cos(k_i x_i)``; ``-lap u = |k|^2 u``."""
    k = WAVENUMBERS[: x.shape[0]]
    u = np.sin(k[0] * x[0] + PHASE)
    for i in range(1, x.shape[0]):
        u = u * np.cos(k[i] * x[i])
    return u


def scalar_gradient(x):
    k = WAVENUMBERS[: x.shape[0]]
    factors = [np.sin(k[0] * x[0] + PHASE)] + [np.cos(k[i] * x[i]) for i in range(1, len(k))]
    derivatives = [k[0] * np.cos(k[0] * x[0] + PHASE)] + \
        [-k[i] * np.sin(k[i] * x[i]) for i in range(1, len(k))]
    grad = []
    for i in range(len(k)):
        g = derivatives[i]
        for j in range(len(k)):
            if j != i:
                g = g * factors[j]
        grad.append(g)
    return np.array(grad)


def scalar_minus_laplacian(x):
    return float(np.sum(WAVENUMBERS[: x.shape[0]] ** 2)) * scalar(x)


# displacement u_i = sin(a_i . x + c_i), rows a_i of A
ELASTIC_A = {2: np.array([[1.0, 2.0], [2.0, -1.0]]),
             3: np.array([[1.0, 2.0, 1.0], [2.0, -1.0, 1.0], [1.0, 1.0, -2.0]])}
ELASTIC_C = {2: np.array([0.0, 0.5 * np.pi]), 3: np.array([0.0, 0.5 * np.pi, 0.3])}


def _phases(x):
    dim = x.shape[0]
    A, c = ELASTIC_A[dim], ELASTIC_C[dim]
    return np.einsum("ij,j...->i...", A, x) + c.reshape((dim,) + (1,) * (x.ndim - 1)), A


def displacement(x):
    phi, _ = _phases(x)
    return np.sin(phi)


def displacement_gradient(x):
    """``G[i, j] = d u_i / d x_j = a_ij cos(phi_i)``."""
    phi, A = _phases(x)
    return A.reshape(A.shape + (1,) * (x.ndim - 1)) * np.cos(phi)[:, None]


def elastic_body_force(x, lam, mu):
    """``f = -div sigma(u) = -(lam + mu) grad div u - mu lap u`` for the displacement above:
    ``f_j = (lam + mu) sum_i a_ii a_ij sin(phi_i) + mu |a_j|^2 sin(phi_j)``."""
    phi, A = _phases(x)
    s = np.sin(phi)
    grad_div = -np.einsum("i,ij,i...->j...", np.diag(A), A, s)
    laplacian = -np.sum(A ** 2, axis=1).reshape((-1,) + (1,) * (x.ndim - 1)) * s
    return -(lam + mu) * grad_div - mu * laplacian


def interface_profile(t, length):
    """``s(t) = cos(pi t/L) + cos(2 pi t/L)/2``: zero slope at both ends (natural BC)."""
    w = np.pi / length
    return np.cos(w * t) + 0.5 * np.cos(2 * w * t)


def interface_slope(t, length):
    w = np.pi / length
    return -w * np.sin(w * t) - w * np.sin(2 * w * t)


def interface_source(t, length, gamma):
    """``-gamma s'' + s``."""
    w = np.pi / length
    return gamma * w ** 2 * (np.cos(w * t) + 2.0 * np.cos(2 * w * t)) \
        + interface_profile(t, length)
