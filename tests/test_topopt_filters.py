"""Helmholtz density filter and Heaviside projection: closed forms and finite-difference
gradients of the chain."""

import numpy as np
import pytest
from conftest import central_difference

from fem_reg.errors import ParameterError
from fem_reg.mesh import cantilever_box, rectangle
from fem_reg.topopt import HelmholtzFilter, heaviside, helmholtz_radius


@pytest.mark.parametrize("make", [lambda: rectangle(h=0.1),
                                  lambda: rectangle(h=0.1, cell_type="quad"),
                                  lambda: cantilever_box(h=0.5)], ids=["tri", "quad", "tet"])
def test_filter_keeps_constants_and_mass(make):
    mesh = make()
    filt = HelmholtzFilter(mesh, 0.05)
    assert np.allclose(filt(np.full(mesh.nelements, 0.37)), 0.37, atol=1e-12)
    rho = np.random.default_rng(1).random(mesh.nelements)
    # zero normal flux: the filter conserves the total material
    assert filt.volume @ filt(rho) == pytest.approx(filt.volume @ rho, rel=1e-10)
    assert filt(rho).min() >= rho.min() - 1e-12 and filt(rho).max() <= rho.max() + 1e-12


def test_filter_smooths_a_step_with_the_closed_form_width():
    """A step in x on a long strip: the 1D solution of -r^2 u'' + u = step is
    1/2 exp(-|x|/r) mirrored, so the filtered value one radius past the step is
    1 - exp(-1)/2."""
    r = 0.05
    mesh = rectangle(h=0.004, width=1.0, height=0.02, structured=True)
    centers = mesh.p[:, mesh.t].mean(axis=1)
    rho = (centers[0] > 0.5).astype(float)
    smooth = HelmholtzFilter(mesh, r)(rho)
    near = np.abs(centers[0] - (0.5 + r)) < 0.003
    assert smooth[near].mean() == pytest.approx(1 - np.exp(-1) / 2, abs=0.01)


def test_chain_gradient_matches_finite_differences():
    mesh = rectangle(h=0.2)
    filt = HelmholtzFilter(mesh, 0.15)
    rng = np.random.default_rng(0)
    rho = rng.uniform(0.2, 0.8, mesh.nelements)
    weights = rng.random(mesh.nelements)

    def objective(x):
        projected, _ = heaviside(filt(x), beta=4.0, eta=0.4)
        return weights @ projected ** 3

    projected, slope = heaviside(filt(rho), beta=4.0, eta=0.4)
    gradient = filt.adjoint(3 * weights * projected ** 2 * slope)
    for e in rng.choice(mesh.nelements, 8, replace=False):
        fd = central_difference(objective, rho, np.eye(len(rho))[e], 1e-6)
        assert gradient[e] == pytest.approx(fd, rel=1e-6, abs=1e-12)


def test_heaviside_limits_and_derivative():
    x = np.linspace(0, 1, 11)
    value, slope = heaviside(x, beta=1e-3, eta=0.5)
    assert np.allclose(value, x, atol=1e-6)                     # beta -> 0: identity
    value, _ = heaviside(np.array([0.0, 1.0]), beta=64.0, eta=0.3)
    assert np.allclose(value, [0.0, 1.0])
    sharp, _ = heaviside(np.array([0.2, 0.4]), beta=200.0, eta=0.3)
    assert sharp[0] < 1e-6 and sharp[1] > 1 - 1e-6
    fd = central_difference(lambda y: heaviside(y, 8.0, 0.4)[0], x, np.ones_like(x), 1e-7)
    assert np.allclose(heaviside(x, 8.0, 0.4)[1], fd, rtol=1e-6)


def test_radius_relation_and_errors():
    assert helmholtz_radius(2 * np.sqrt(3)) == pytest.approx(1.0)
    with pytest.raises(ParameterError, match="radius"):
        HelmholtzFilter(rectangle(h=0.5), 0.0)
    with pytest.raises(ParameterError, match="the mesh has"):
        HelmholtzFilter(rectangle(h=0.5), 0.1)(np.ones(3))
    with pytest.raises(ParameterError, match="beta"):
        heaviside(0.5, beta=-1)


def test_helmholtz_filter_by_multigrid_equals_the_factorized_one():
    """On a 3D grid of boxes the filter can be solved by multigrid-CG (large meshes are,
    under auto): the filtered field and the adjoint are those of the factorized operator,
    and the total material is kept."""
    from fem_reg.topopt.filters import cell_volumes
    mesh = cantilever_box(h=0.125, length=2.0, width=1.0, height=1.0, cell_type="hexahedron",
                          structured=True)
    rho = np.random.default_rng(0).random(mesh.nelements)
    direct = HelmholtzFilter(mesh, helmholtz_radius(0.3), solver="direct")
    multigrid = HelmholtzFilter(mesh, helmholtz_radius(0.3), solver="multigrid")
    assert np.abs(multigrid(rho) - direct(rho)).max() < 1e-9
    assert np.abs(multigrid.adjoint(rho) - direct.adjoint(rho)).max() < 1e-9
    volumes = cell_volumes(mesh)
    assert volumes @ multigrid(rho) == pytest.approx(volumes @ rho, rel=1e-9)
