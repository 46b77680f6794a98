"""Properties that hold for every input, checked with hypothesis: the harness recovers exact
power laws, filters keep constants (and the PDE filter the total material), rigid-body
motions carry no elastic energy, stiffness matrices are symmetric positive semi-definite."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from skfem import Basis

from fem_reg.fe import Material, elasticity_form, lagrange
from fem_reg.mesh import block_on_base, cantilever_box, rectangle
from fem_reg.study import grid_convergence
from fem_reg.topopt.filters import DensityFilter, HelmholtzFilter, cell_volumes

FE = settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])


@given(phi0=st.floats(-10, 10), a=st.floats(0.1, 10), sign=st.sampled_from([-1, 1]),
       p=st.floats(0.5, 4.0), h1=st.floats(0.01, 1.0), r21=st.floats(1.3, 3.0),
       r32=st.floats(1.3, 3.0))
@settings(max_examples=200, deadline=None)
def test_harness_recovers_exact_power_laws(phi0, a, sign, p, h1, r21, r32):
    """phi = phi0 + a h^p on three grids with any refinement ratios: monotonic, order p,
    extrapolated phi0 (Celik's iteration for non-constant ratios)."""
    h = np.array([h1, h1 * r21, h1 * r21 * r32])
    phi = phi0 + sign * a * h ** p
    g = grid_convergence(h, phi)
    assert g.convergence == "monotonic"
    assert g.order == pytest.approx(p, rel=1e-4)
    assert g.extrapolated == pytest.approx(phi0, abs=1e-6 * max(1.0, abs(phi0)))


@given(phi=st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=3),
       h1=st.floats(0.01, 1.0))
@example(phi=[0.0, 0.0, 5e-324], h1=1.0)       # all below the smallest normal double
@settings(max_examples=300, deadline=None)
def test_harness_never_calls_growing_differences_mesh_independent(phi, h1):
    """Whatever the data, |R| >= 1 (growing differences, monotonic or oscillating) or one
    difference at round-off is never mesh-independent, at any tolerance. Round-off is
    1e-12 x max|phi|, with max|phi| at least the smallest normal double (values below it are
    all round-off: found by hypothesis, [0, 0, 5e-324] is "converged")."""
    h = [h1, 2 * h1, 4 * h1]
    g = grid_convergence(h, phi)
    e21, e32 = phi[1] - phi[0], phi[2] - phi[1]
    tiny = 1e-12 * max(max(abs(v) for v in phi), np.finfo(float).tiny)
    if abs(e21) <= tiny and abs(e32) <= tiny:
        assert g.convergence == "converged"
        return
    if abs(e21) <= tiny or abs(e32) <= tiny or abs(e21 / e32) >= 1:
        assert g.verdict(1e6)[0] is False


@pytest.fixture(scope="module")
def filter_mesh():
    return block_on_base(h=0.08)


@given(radius=st.floats(0.02, 0.5), value=st.floats(0.0, 1.0), seed=st.integers(0, 10 ** 6))
@FE
def test_filters_keep_constants_and_the_pde_filter_keeps_the_material(filter_mesh, radius,
                                                                      value, seed):
    mesh = filter_mesh
    volume = cell_volumes(mesh)
    rho = np.random.default_rng(seed).random(mesh.nelements)
    for filt in (HelmholtzFilter(mesh, radius), DensityFilter(mesh, radius)):
        assert np.allclose(filt(np.full(mesh.nelements, value)), value, atol=1e-12)
    helmholtz = HelmholtzFilter(mesh, radius)
    # zero-flux Helmholtz filter: int rho_f = int rho (K 1 = M 1)
    assert volume @ helmholtz(rho) == pytest.approx(volume @ rho, rel=1e-10)
    cone = DensityFilter(mesh, radius)(rho)            # a convex combination
    assert rho.min() - 1e-12 <= cone.min() and cone.max() <= rho.max() + 1e-12


MESHES = {"tri": lambda: rectangle(h=0.4), "quad": lambda: rectangle(h=0.4, cell_type="quad"),
          "tet": lambda: cantilever_box(h=0.6)}
KIND = {2: "plane_stress", 3: "3d"}


@pytest.fixture(scope="module", params=[("tri", 1), ("tri", 2), ("quad", 1), ("tet", 1)],
                ids=lambda p: f"{p[0]}-P{p[1]}")
def elastic_basis(request):
    name, order = request.param
    mesh = MESHES[name]()
    return Basis(mesh, lagrange(mesh, order=order, vector=True))


def _rigid_motion(dim, translation, angles):
    def field(x):
        t = np.asarray(translation[:dim])[:, None, None]
        if dim == 2:
            w = angles[0]
            return t + np.array([-w * x[1], w * x[0]])
        w = np.asarray(angles)[:, None, None]
        return t + np.cross(w, x, axis=0)
    return field


@given(E=st.floats(0.1, 100.0), nu=st.floats(0.0, 0.45),
       translation=st.lists(st.floats(-1, 1), min_size=3, max_size=3),
       angles=st.lists(st.floats(-1, 1), min_size=3, max_size=3))
@FE
def test_rigid_body_motions_carry_no_energy(elastic_basis, E, nu, translation, angles):
    basis = elastic_basis
    dim = basis.mesh.dim()
    K = elasticity_form(Material(E=E, nu=nu, kind=KIND[dim])).assemble(basis)
    u = basis.project(_rigid_motion(dim, translation, angles))
    assume(np.linalg.norm(u) > 1e-3)
    assert np.linalg.norm(K @ u) <= 1e-9 * E * np.linalg.norm(u) * basis.N


@given(E=st.floats(0.1, 100.0), nu=st.floats(0.0, 0.45), seed=st.integers(0, 10 ** 6))
@FE
def test_stiffness_is_symmetric_positive_semidefinite(elastic_basis, E, nu, seed):
    basis = elastic_basis
    K = elasticity_form(Material(E=E, nu=nu, kind=KIND[basis.mesh.dim()])).assemble(basis)
    assert abs(K - K.T).max() <= 1e-12 * abs(K).max()
    v = np.random.default_rng(seed).standard_normal((basis.N, 4))
    energies = np.einsum("ij,ij->j", v, K @ v)
    assert (energies >= -1e-12 * abs(K).max() * (v ** 2).sum(axis=0)).all()
