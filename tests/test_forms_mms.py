"""The shared forms against manufactured solutions on unstructured meshes.

Each test prints its convergence table (``pytest -s``) and asserts the observed order:
P1 L2 ~ h^2 and H1 ~ h, one order more for P2 (least-squares slope over the finest three
levels within 0.1 of the theory, the MOOSE / scikit-fem convention).
"""

import numpy as np
import pytest
from skfem import Basis

from fem_reg.errors import ParameterError
from fem_reg.fe import Material, elasticity_form, interpolate, lagrange, solve_constrained
from fem_reg.mesh import (Remeshing, UniformRefinement, block_on_base, cantilever_box,
                          l_bracket, rectangle)
from fem_reg.mms import DiffusionMMS, ElasticityMMS, HelmholtzMMS, TangentialMMS
from fem_reg.mms import solutions

from conftest import central_difference, convergence_table, fitted_order


def study(problem, sequence, **parameters):
    rows = []
    for mesh in sequence:
        result = problem(mesh, **parameters).solve()
        rows.append((result.meta["h"], result.meta["ndofs"], result.qoi["l2_error"],
                     result.qoi["h1_error"]))
    rows = np.array(rows)
    convergence_table(f"{problem.name} {parameters}", rows, ["L2 error", "H1 error"])
    return fitted_order(rows[:, 0], rows[:, 2]), fitted_order(rows[:, 0], rows[:, 3])


UNSTRUCTURED = {
    "tri-uniform": lambda: UniformRefinement(rectangle(h=0.25), 5),
    "tri-remesh": lambda: Remeshing("rectangle", 0.2, 5),
    "quad-remesh": lambda: Remeshing("rectangle", 0.2, 5, cell_type="quad"),
}


@pytest.mark.parametrize("mesh", sorted(UNSTRUCTURED))
@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("problem", [HelmholtzMMS, DiffusionMMS], ids=["helmholtz", "diffusion"])
def test_scalar_operators_converge_at_theoretical_order(problem, order, mesh):
    l2, h1 = study(problem, UNSTRUCTURED[mesh](), order=order)
    assert abs(l2 - (order + 1)) <= 0.1
    assert abs(h1 - order) <= 0.1


@pytest.mark.parametrize("order", [1, 2])
def test_tangential_penalty_on_interior_interface(order):
    # the interface between block and base: an interior line of an unstructured mesh
    l2, h1 = study(TangentialMMS, UniformRefinement(block_on_base(h=0.2), 5),
                   boundary="interface", gamma=0.05, order=order)
    assert abs(l2 - (order + 1)) <= 0.1
    assert abs(h1 - order) <= 0.1


def test_tangential_penalty_remeshed_boundary():
    l2, h1 = study(TangentialMMS, Remeshing("rectangle", 0.2, 5), boundary="bottom",
                   gamma=0.2)
    assert abs(l2 - 2) <= 0.1 and abs(h1 - 1) <= 0.1


@pytest.mark.parametrize("kind,nu", [("plane_stress", 0.3), ("plane_strain", 0.3),
                                     ("plane_stress", -0.5)])
@pytest.mark.parametrize("order", [1, 2])
def test_plane_elasticity(kind, nu, order):
    l2, h1 = study(ElasticityMMS, UniformRefinement(rectangle(h=0.25), 4 if order == 2 else 5),
                   kind=kind, nu=nu, order=order)
    assert abs(l2 - (order + 1)) <= 0.1
    assert abs(h1 - order) <= 0.1


@pytest.mark.slow
def test_elasticity_3d_tetrahedra():
    l2, h1 = study(ElasticityMMS, UniformRefinement(cantilever_box(h=0.25, length=1.0), 3),
                   kind="3d")
    # three tetrahedral levels are just entering the asymptotic range (rates 2.00, 1.92)
    assert abs(l2 - 2) <= 0.15 and abs(h1 - 1) <= 0.1


def test_elasticity_3d_hexahedra():
    mesh = cantilever_box(h=0.5, length=1.0, cell_type="hexahedron", structured=True)
    l2, h1 = study(ElasticityMMS, UniformRefinement(mesh, 3), kind="3d")
    assert abs(l2 - 2) <= 0.1 and abs(h1 - 1) <= 0.1


def test_helmholtz_3d_tetrahedra():
    l2, h1 = study(HelmholtzMMS, UniformRefinement(cantilever_box(h=0.25, length=1.0), 3))
    assert abs(l2 - 2) <= 0.1 and abs(h1 - 1) <= 0.1


def test_energy_converges_from_below_at_twice_the_order():
    """a(u_h, u_h) -> a(u, u) monotonically from below at h^(2p) (Galerkin orthogonality)."""
    for order in (1, 2):
        rows = []
        for mesh in UniformRefinement(rectangle(h=0.25), 4):
            result = HelmholtzMMS(mesh, order=order).solve()
            rows.append((result.meta["h"], result.meta["reference"]["energy"]
                         - result.qoi["energy"]))
        h, gap = np.array(rows).T
        assert (gap > 0).all()
        assert abs(fitted_order(h, gap) - 2 * order) <= 0.15


def test_manufactured_sources_match_finite_differences():
    """The hand-derived source terms are checked independently of the FE code."""
    rng = np.random.default_rng(0)
    step = 1e-4
    for dim in (2, 3):
        x = rng.random((dim, 7))
        unit = np.eye(dim)[:, :, None]
        laplacian = sum((solutions.scalar(x + step * unit[i]) - 2 * solutions.scalar(x)
                         + solutions.scalar(x - step * unit[i])) / step ** 2 for i in range(dim))
        assert np.allclose(-laplacian, solutions.scalar_minus_laplacian(x), rtol=1e-5)
        gradient = np.array([central_difference(solutions.scalar, x, unit[i], step)
                             for i in range(dim)])
        assert np.allclose(gradient, solutions.scalar_gradient(x), atol=1e-7)
        lam, mu = 0.7, 0.4

        def stress(y):
            g = solutions.displacement_gradient(y)
            eps = 0.5 * (g + np.swapaxes(g, 0, 1))
            return lam * np.trace(eps) * np.eye(dim)[:, :, None] + 2 * mu * eps

        divergence = sum(central_difference(lambda y, j=j: stress(y)[:, j], x, unit[j], step)
                         for j in range(dim))
        assert np.allclose(-divergence, solutions.elastic_body_force(x, lam, mu), atol=1e-6)
    t = np.linspace(0, 2, 9)
    second = (solutions.interface_profile(t + step, 2) - 2 * solutions.interface_profile(t, 2)
              + solutions.interface_profile(t - step, 2)) / step ** 2
    assert np.allclose(-0.3 * second + solutions.interface_profile(t, 2),
                       solutions.interface_source(t, 2, 0.3), atol=1e-5)
    assert np.allclose(solutions.interface_slope(np.array([0.0, 2.0]), 2), 0)


@pytest.mark.parametrize("kind,make", [("plane_strain", lambda: rectangle(h=0.3)),
                                       ("3d", lambda: cantilever_box(h=0.5, length=1.0))])
def test_elasticity_patch_test(kind, make):
    """A linear displacement field is reproduced to round-off on an unstructured mesh."""
    mesh = make()
    basis = Basis(mesh, lagrange(mesh, 1, vector=True))
    dim = mesh.dim()
    B = np.arange(1, dim * dim + 1).reshape(dim, dim) / 10.0

    def linear(x):
        return np.einsum("ij,j...->i...", B, x)

    exact = interpolate(basis, linear)
    stiffness = elasticity_form(Material(1.0, 0.3, kind)).assemble(basis)
    u = solve_constrained(stiffness, np.zeros(basis.N), basis.get_dofs().all(), exact)
    assert np.abs(u - exact).max() < 1e-12


def test_material_validation():
    with pytest.raises(ParameterError, match="nu = 0.5 .* plane_strain"):
        Material(1.0, 0.5, "plane_strain")
    with pytest.raises(ParameterError, match="nu = 0.5 .* 3d"):
        Material(1.0, 0.5, "3d")
    assert Material(1.0, 0.5, "plane_stress").lame == (2.0 / 3.0, 1.0 / 3.0)
    with pytest.raises(ParameterError, match=r"nu \(plane_stress\) must be in \(-1, 0.5\]"):
        Material(1.0, 0.7)
    with pytest.raises(ParameterError, match=r"nu \(3d\) must be in \(-1, 0.5\)"):
        Material(1.0, -1.0, "3d")
    with pytest.raises(ParameterError, match="E must be in"):
        Material(0.0, 0.3)
    with pytest.raises(ParameterError, match="kind must be one of"):
        Material(1.0, 0.3, "axisymmetric")
    # plane strain lambda = E nu / ((1 + nu)(1 - 2 nu)), mu = E / (2 (1 + nu))
    lam, mu = Material(210.0, 0.3, "plane_strain").lame
    assert np.isclose(lam, 121.15384615384615) and np.isclose(mu, 80.76923076923077)


def test_problem_parameter_errors():
    mesh = rectangle(h=0.5)
    with pytest.raises(ParameterError, match="unknown parameter 'radiuss' for helmholtz_mms; "
                                             "allowed: radius, order"):
        HelmholtzMMS(mesh, radiuss=1.0)
    with pytest.raises(ParameterError, match="order must be an integer in \\[1, 2\\]"):
        HelmholtzMMS(mesh, order=3)
    with pytest.raises(ParameterError, match="kind '3d' needs a 3D mesh"):
        ElasticityMMS(mesh, kind="3d")
    with pytest.raises(ParameterError, match="not a straight line"):
        TangentialMMS(l_bracket(h=0.25), boundary="reentrant")
