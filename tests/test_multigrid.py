"""Geometric multigrid on grids of boxes: the grid is recognised, the interpolation is exact
for linear fields, the cell-by-cell coarse operators equal the Galerkin products P^T A P, the
V-cycle is a symmetric preconditioner, and multigrid-CG reproduces a direct solve in the
topology optimization."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from fem_reg.errors import ParameterError
from fem_reg.fe import Material, lagrange
from fem_reg.fe.multigrid import BoxGrid, GridOperator, Multigrid, RowBlocks
from fem_reg.mesh import cantilever_box, cook_membrane, mbb_beam
from fem_reg.topopt import TopOpt
from fem_reg.topopt import stiffness as stiffness_module
from fem_reg.topopt.stiffness import SimpStiffness
from skfem.assembly import Dofs


def hex_box(n=4):
    return cantilever_box(h=1.0 / n, length=2.0, width=1.0, height=1.0,
                          cell_type="hexahedron", structured=True)


def quad_beam(h=1.0):
    return mbb_beam(h=h, load_width=h, support_width=h, cell_type="quad", structured=True)


def setup(mesh, fixed_face="clamped"):
    from fem_reg.mesh import boundary
    dofs = Dofs(mesh, lagrange(mesh, 1, vector=True))
    kind = "3d" if mesh.dim() == 3 else "plane_stress"
    fixed = dofs.get_facet_dofs(boundary(mesh, fixed_face)).all()
    stiffness = SimpStiffness(mesh, Material(1.0, 0.3, kind), fixed, dofs=dofs)
    multigrid = Multigrid(BoxGrid.of(mesh), stiffness.ke[:, :, 0], dofs.nodal_dofs,
                          stiffness.free, levels=2)
    return dofs, stiffness, multigrid


def smooth_scale(mesh):
    centre = mesh.p[:, mesh.t].mean(axis=1)
    return 1e-9 + (0.5 + 0.5 * np.sin(3 * centre[0]) * np.cos(2 * centre[-1])) ** 3


def test_grids_are_recognised():
    grid = BoxGrid.of(hex_box(4))
    assert grid.shape == (8, 4, 4) and grid.levels() == 1
    assert BoxGrid.of(quad_beam(1.0)).shape == (60, 20)
    assert BoxGrid.of(quad_beam(1.0)).levels() == 2            # 60x20 -> 30x10 -> 15x5
    assert BoxGrid.of(cantilever_box(h=0.5)) is None           # tetrahedra
    assert BoxGrid.of(mbb_beam(h=3.0, cell_type="triangle")) is None   # triangles
    # structured but not boxes (Cook's skewed quadrilaterals)
    assert BoxGrid.of(cook_membrane(h=4.0, cell_type="quad", structured=True)) is None


def test_interpolation_is_exact_for_linear_fields():
    mesh = hex_box(8)
    dofs, stiffness, multigrid = setup(mesh)
    grid = multigrid.grid
    # a linear displacement on the coarse nodes (x-fastest, node-major) ...
    shape = np.array(grid.shape) // 2
    axes = [np.linspace(mesh.p[d].min(), mesh.p[d].max(), shape[d] + 1) for d in range(3)]
    X = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).transpose(2, 1, 0, 3).reshape(-1, 3)
    A = np.array([[0.3, -1.0, 2.0], [1.5, 0.2, -0.7], [-0.4, 0.9, 1.1]])
    coarse = (X @ A.T).reshape(-1)
    fixed_coarse = np.isclose(X[:, 0], 0.0).repeat(3)
    P = multigrid._prolongations[0]
    fine = P @ coarse[~fixed_coarse]
    # ... interpolates to the same linear field at the free fine DOFs (fixed coarse DOFs
    # contribute nothing; on the clamped face the field is not zero, so compare away from it)
    exact = (mesh.p.T @ A.T)[:, :, None]
    u = np.zeros(dofs.nodal_dofs.size)
    u[stiffness.free] = fine
    inner = mesh.p[0] > 2.0 / grid.shape[0] + 1e-9
    values = u[dofs.nodal_dofs].T
    assert np.allclose(values[inner], exact[inner, :, 0], atol=1e-12)


@pytest.mark.parametrize("make", [lambda: hex_box(8), lambda: quad_beam(1.0)])
def test_coarse_operators_are_galerkin_products(make):
    mesh = make()
    face = "clamped" if mesh.dim() == 3 else "symmetry"
    _, stiffness, multigrid = setup(mesh, face)
    scale = 1e-9 + np.random.default_rng(1).uniform(0.0, 1.0, mesh.nelements) ** 3
    K = stiffness.matrix(scale)
    multigrid.update(K, scale)
    fine = K
    for level in range(multigrid.nlevels):
        P = multigrid._prolongations[level]
        galerkin = (P.T @ fine @ P).toarray()
        coarse = multigrid.operators[level + 1]
        coarse = (coarse.matrix if isinstance(coarse, RowBlocks) else coarse).toarray()
        assert np.abs(coarse - galerkin).max() <= 1e-13 * np.abs(galerkin).max()
        fine = sp.csr_matrix(galerkin)


def test_v_cycle_is_a_symmetric_preconditioner_and_cg_converges():
    mesh = hex_box(8)
    dofs, stiffness, multigrid = setup(mesh)
    scale = smooth_scale(mesh)
    K = stiffness.matrix(scale)
    multigrid.update(K, scale)
    assert_symmetric_preconditioner(multigrid, K, max_iterations=40)


def assert_symmetric_preconditioner(multigrid, K, max_iterations):
    """The V-cycle is symmetric positive definite, and CG with it reaches the direct
    solution in fewer than ``max_iterations``."""
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((2, K.shape[0]))
    assert x @ multigrid.cycle(y) == pytest.approx(y @ multigrid.cycle(x), rel=1e-10)
    assert x @ multigrid.cycle(x) > 0.0
    f = rng.standard_normal(K.shape[0])
    count = []
    u, info = spla.cg(K, f, rtol=1e-10, M=multigrid.preconditioner(),
                      callback=lambda _: count.append(1))
    exact = spla.spsolve(K.tocsc(), f)
    assert info == 0 and len(count) < max_iterations
    assert np.linalg.norm(u - exact) <= 1e-7 * np.linalg.norm(exact)


@pytest.mark.parametrize("mesh, fixed_face", [(hex_box(4), "clamped"),
                                              (quad_beam(1.0), "symmetry")])
def test_matrix_free_operator_is_the_assembled_stiffness(mesh, fixed_face):
    """The matrix-free product and diagonal equal the assembled SIMP stiffness's on the free
    DOFs (cells in slabs of one z-plane or of the whole grid)."""
    dofs, stiffness, _ = setup(mesh, fixed_face)
    scale = smooth_scale(mesh)
    K = stiffness.matrix(scale)
    x = np.random.default_rng(4).standard_normal(K.shape[0])
    for slabs in (1, BoxGrid.of(mesh).shape[-1]):
        operator = GridOperator(BoxGrid.of(mesh), stiffness.ke[:, :, 0], dofs.nodal_dofs,
                                stiffness.free, slabs=slabs).update(scale)
        assert operator.shape == K.shape
        assert np.abs(operator @ x - K @ x).max() <= 1e-13 * np.abs(K @ x).max()
        assert np.allclose(operator.diagonal(), K.diagonal(), rtol=1e-14, atol=0.0)


def test_matrix_free_v_cycle_is_the_assembled_one():
    mesh = hex_box(8)
    dofs, stiffness, assembled = setup(mesh)
    free = Multigrid(BoxGrid.of(mesh), stiffness.ke[:, :, 0], dofs.nodal_dofs, stiffness.free,
                     levels=2, matrix_free=True)
    scale = smooth_scale(mesh)
    assembled.update(stiffness.matrix(scale), scale)
    free.update(None, scale)
    r = np.random.default_rng(5).standard_normal(len(stiffness.free))
    expected = assembled.cycle(r)
    assert np.linalg.norm(free.cycle(r) - expected) <= 1e-12 * np.linalg.norm(expected)


def test_row_blocks_product_and_update():
    A = sp.random(500, 500, density=0.05, format="csr", random_state=3) + sp.identity(500)
    A = A.tocsr()
    blocks = RowBlocks(A, blocks=3)
    x = np.arange(500.0)
    assert np.allclose(blocks @ x, A @ x)
    B = sp.csr_matrix((2.0 * A.data, A.indices, A.indptr), shape=A.shape)
    assert np.allclose(blocks.update(B) @ x, 2.0 * (A @ x))


@pytest.mark.parametrize("make, extra", [
    (lambda: hex_box(6), dict(supports={"clamped": "clamped"},
                              point_loads=[{"at": [2.0, 0.5, 0.5], "force": [0, 0, -1.0]}])),
    (lambda: quad_beam(1.0), dict(supports={"symmetry": "fixed_x"},
                                  point_supports=[{"at": [60.0, 0.0], "fixed": "y"}],
                                  point_loads=[{"at": [0.0, 20.0], "force": [0.0, -1.0]}]))])
@pytest.mark.parametrize("matrix_free_from", [0, 10 ** 9])
def test_topology_optimization_with_multigrid_matches_direct(make, extra, matrix_free_from,
                                                             monkeypatch):
    """At the multigrid's CG tolerance the compliance and its sensitivities are those of a
    direct solve: the optimizer sees the same numbers (matrix-free fine operator or not)."""
    monkeypatch.setattr(stiffness_module, "MATRIX_FREE_FROM", matrix_free_from)
    mesh = make()
    h = (mesh.p[0].max() - mesh.p[0].min()) / BoxGrid.of(mesh).shape[0]
    options = dict(volume_fraction=0.3, filter="density", filter_radius=1.5 * h,
                   history_every=0, max_iterations=8, **extra)
    direct = TopOpt(mesh, solver="direct", **options)
    x = direct.solve().cell_data["design"]
    multigrid = TopOpt(mesh, solver="multigrid", **options)
    assert multigrid.solver.method == "multigrid"
    assert multigrid.solver.matrix_free == (matrix_free_from == 0)
    a, b = direct.evaluate(x), multigrid.evaluate(x)
    assert b["compliance"] == pytest.approx(a["compliance"], rel=1e-8)
    assert np.abs(b["dc"] - a["dc"]).max() <= 1e-4 * np.abs(a["dc"]).max()
    # and whole runs agree
    assert multigrid.solve().qoi["compliance"] == pytest.approx(
        TopOpt(mesh, solver="direct", **options).solve().qoi["compliance"], rel=1e-6)
    # matrix-free: the stiffness was never assembled (no CSR pattern held)
    assert (multigrid.stiffness._assembly is None) == multigrid.solver.matrix_free


def test_auto_picks_multigrid_on_grids_and_refuses_it_elsewhere():
    options = dict(supports={"clamped": "clamped"}, traction={"tip": [0.0, 0.0, -1.0]},
                   history_every=0)
    assert TopOpt(hex_box(8), **options).solver.method == "multigrid"
    with pytest.raises(ParameterError, match="multigrid.*structured mesh"):
        TopOpt(cantilever_box(h=0.5), solver="multigrid", **options)


def test_grids_that_do_not_coarsen_enough_get_no_multigrid(monkeypatch):
    """A grid whose coarsest level stays large (200x100x50 halves once) would leave a huge
    sparse LU: auto does not pick the multigrid and asking for it is refused."""
    from fem_reg.topopt import problem as problem_module
    grid = BoxGrid.of(hex_box(4))                               # 8x4x4 -> 4x2x2
    assert grid.coarsest_nodes() == 5 * 3 * 3
    assert BoxGrid(shape=(200, 100, 50), vertices=None, cells=None,
                   corners=None).coarsest_nodes() == 101 * 51 * 26
    monkeypatch.setattr(problem_module, "COARSEST_NODES_LIMIT", 44)
    options = dict(supports={"clamped": "clamped"}, traction={"tip": [0.0, 0.0, -1.0]},
                   history_every=0)
    assert TopOpt(hex_box(4), **options).solver.method != "multigrid"
    with pytest.raises(ParameterError, match="not 200x100x50"):
        TopOpt(hex_box(4), solver="multigrid", **options)


def test_memory_estimate_of_an_iterative_3d_run_grows_linearly():
    """The 3D topology case on structured hexahedra is solved by multigrid-CG: its memory
    estimate is linear in the unknowns (a factorization's is not), so its study fits."""
    from fem_reg.resources import Estimate
    one = Estimate(1e5, 1e5, 3, 3e5, iterative=True)
    eight = Estimate(8e5, 8e5, 3, 2.4e6, iterative=True)
    grow = (eight.memory - 250e6) / (one.memory - 250e6)
    assert grow == pytest.approx(8.0)
    assert Estimate(8e5, 8e5, 3, 2.4e6).memory > 2 * eight.memory
    spec = {"geometry": "cantilever_box", "cell_type": "hexahedron", "structured": True}
    assert TopOpt.solved_iteratively({}, spec)
    assert not TopOpt.solved_iteratively({"solver": "direct"}, spec)
    assert not TopOpt.solved_iteratively({}, {"geometry": "cantilever_box"})
    # tetrahedra split uniformly: the refinement hierarchy's multigrid
    assert TopOpt.solved_iteratively({}, {"geometry": "cantilever_box"}, refinements=2)
    assert not TopOpt.solved_iteratively({"order": 2}, {"geometry": "cantilever_box"},
                                         refinements=2)


# -- unstructured meshes made by uniform refinement --------------------------------------

def refined_meshes():
    from fem_reg.mesh import refine
    return [refine(cantilever_box(h=0.5, length=2.0), 2),                    # tetrahedra
            refine(mbb_beam(h=6.0, cell_type="triangle"), 2),
            refine(cook_membrane(h=8.0, cell_type="quad"), 2),
            refine(hex_box(2), 1)]


@pytest.mark.parametrize("mesh", refined_meshes(), ids=["tet", "tri", "quad", "hex"])
def test_refinement_hierarchy_interpolates_linear_fields_exactly(mesh):
    from fem_reg.fe.multigrid import nested_interpolation
    from fem_reg.mesh import coarser_meshes
    chain = list(coarser_meshes(mesh)) + [mesh]
    assert len(chain) >= 2
    for coarse, fine in zip(chain[:-1], chain[1:]):
        assert fine.nelements == 2 ** mesh.dim() * coarse.nelements
        P = nested_interpolation(coarse, fine)
        field = lambda p: 1.0 + 2.0 * p[0] - 3.0 * p[1] + 0.5 * p[-1]    # noqa: E731
        assert np.abs(P @ field(coarse.p) - field(fine.p)).max() <= 1e-12 * 100
        assert np.allclose(P.sum(axis=1), 1.0)                 # a partition of unity


def test_nested_interpolation_refuses_meshes_that_are_not_refinements():
    from fem_reg.fe.multigrid import nested_interpolation
    with pytest.raises(ParameterError, match="not a refinement"):
        nested_interpolation(cantilever_box(h=0.5), cantilever_box(h=0.4))


def test_nested_multigrid_is_symmetric_and_cg_converges():
    from fem_reg.fe.multigrid import NestedMultigrid
    from fem_reg.mesh import coarser_meshes
    mesh = refined_meshes()[0]
    dofs, stiffness = setup_any(mesh)
    scale = smooth_scale(mesh)
    K = stiffness.matrix(scale)
    multigrid = NestedMultigrid(list(coarser_meshes(mesh)) + [mesh], dofs.nodal_dofs,
                                stiffness.free)
    multigrid.update(K)
    assert_symmetric_preconditioner(multigrid, K, max_iterations=60)


def setup_any(mesh):
    from fem_reg.mesh import boundary
    dofs = Dofs(mesh, lagrange(mesh, 1, vector=True))
    fixed = dofs.get_facet_dofs(boundary(mesh, "clamped")).all()
    return dofs, SimpStiffness(mesh, Material(1.0, 0.3, "3d"), fixed, dofs=dofs)


def test_topology_optimization_on_a_refined_tetrahedral_mesh_with_multigrid():
    """solver = "multigrid" on a mesh made by uniform refinement uses its hierarchy, and
    the run matches a direct solve's; ``auto`` picks it."""
    from fem_reg.mesh import refine
    mesh = refine(cantilever_box(h=0.5, length=2.0), 2)
    options = dict(volume_fraction=0.3, filter="density", filter_radius=0.3,
                   supports={"clamped": "clamped"}, traction={"tip": [0.0, 0.0, -1.0]},
                   history_every=0, max_iterations=4)
    nested = TopOpt(mesh, solver="multigrid", **options)
    assert type(nested.solver.multigrid).__name__ == "NestedMultigrid"
    direct = TopOpt(mesh, solver="direct", **options)
    assert nested.solve().qoi["compliance"] == pytest.approx(
        direct.solve().qoi["compliance"], rel=1e-6)
    assert TopOpt(mesh, **options).solver.method == "multigrid"


def test_size_check_counts_a_refined_case_as_iterative(tmp_path):
    """A case whose mesh is refined uniformly (``refine``, or a uniform study's levels) is
    solved by the hierarchy's multigrid: the size check estimates it as iterative."""
    from fem_reg.cases import check_case_size
    from fem_reg.io import load_case
    path = tmp_path / "refined.toml"
    path.write_text('problem = "topopt"\n[mesh]\ngeometry = "cantilever_box"\nh = 0.5\n'
                    'length = 2.0\nrefine = 1\n[parameters]\nsupports = { clamped = '
                    '"clamped" }\ntraction = { tip = [0.0, 0.0, -1.0] }\n')
    case = load_case(path)
    assert [e.iterative for e in check_case_size(case)] == [True]
    case.mesh.pop("refine")
    assert [e.iterative for e in check_case_size(case, 3, "uniform")] == [False, True, True]
    assert [e.iterative for e in check_case_size(case, 2, "remesh")] == [False, False]
