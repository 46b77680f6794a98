"""Phase-field fracture of the single-edge-notched tension specimen at a coarse size: the
slit and its mesh, the reaction against linear elasticity before damage, the energy balance
before the crack runs, the crack running through the ligament, and bad input."""

import numpy as np
import pytest
from skfem import Basis

from conftest import interrupt_at
from fem_reg.errors import ParameterError
from fem_reg.fe import Material, elasticity_form, lagrange, solve_constrained
from fem_reg.fracture import PhaseFieldFracture
from fem_reg.mesh import boundary, rectangle, sent_specimen


@pytest.fixture(scope="module")
def slit_mesh():
    return sent_specimen(h=0.05, h_crack=0.02)


def test_slit_doubles_the_notch_nodes_but_the_tip(slit_mesh):
    upper = np.unique(slit_mesh.facets[:, boundary(slit_mesh, "notch")])
    lower = np.unique(slit_mesh.facets[:, boundary(slit_mesh, "notch_lower")])
    assert len(upper) == len(lower) > 2
    assert np.allclose(np.sort(slit_mesh.p[0, upper]), np.sort(slit_mesh.p[0, lower]))
    assert len(np.intersect1d(upper, lower)) == 1              # the tip only
    # every node appears once but the doubled ones: the mesh has exactly that many extra
    coordinates = {tuple(np.round(p, 12)) for p in slit_mesh.p.T}
    assert slit_mesh.nvertices - len(coordinates) == len(upper) - 1
    whole = sent_specimen(h=0.05, h_crack=0.02, slit=False)
    assert whole.nvertices == len({tuple(np.round(p, 12)) for p in whole.p.T})
    tip = np.intersect1d(upper, lower)[0]
    assert np.allclose(slit_mesh.p[:, tip], [0.5, 0.5])


def test_box_puts_the_fine_elements_where_the_shear_crack_runs():
    """``box``: the elements of h_crack fill the rectangle (the shear test's lower right
    quarter) instead of the band ahead of the notch; a malformed box is named."""
    mesh = sent_specimen(h=0.1, h_crack=0.02, box=[0.45, 1.0, 0.0, 0.55])
    x, y = mesh.p[:, mesh.t].mean(axis=1)
    edge = np.sqrt(4.0 / np.sqrt(3.0) * mesh_areas(mesh))           # equilateral edge
    inside = (x > 0.5) & (x < 0.95) & (y > 0.05) & (y < 0.5)
    outside = (x < 0.35) | (y > 0.7)
    assert np.median(edge[inside]) == pytest.approx(0.02, rel=0.25)
    assert np.median(edge[outside]) > 0.05
    for box in ([1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.5], "none"):
        with pytest.raises(ParameterError, match=r"sent_specimen: box = .* must be \[x0, x1"):
            sent_specimen(h=0.1, h_crack=0.02, box=box)


def mesh_areas(mesh):
    a, b, c = (mesh.p[:, mesh.t[k]] for k in range(3))
    return 0.5 * np.abs((b - a)[0] * (c - a)[1] - (b - a)[1] * (c - a)[0])


def test_reaction_before_damage_is_that_of_linear_elasticity(slit_mesh):
    """At a tiny displacement the damage stays ~0: the reaction is the elastic one
    (times 1 + k), computed here by an independent elimination."""
    problem = PhaseFieldFracture(slit_mesh, displacement=1e-6, steps=1, history_every=0)
    result = problem.solve()
    basis = Basis(slit_mesh, lagrange(slit_mesh, 1, vector=True))
    K = elasticity_form(Material(210.0, 0.3, "plane_strain")).assemble(basis)
    top, bottom = (basis.get_dofs(boundary(slit_mesh, n)) for n in ("top", "bottom"))
    fixed = np.concatenate([bottom.all(), top.all()])
    values = np.zeros(basis.N)
    values[top.nodal["u^2"]] = 1e-6
    u = solve_constrained(K, np.zeros(basis.N), fixed, values)
    force = (K @ u)[top.nodal["u^2"]].sum() * (1.0 + 1e-6)
    assert result.qoi["peak_force"] == pytest.approx(force, rel=1e-6)
    assert np.abs(result.point_data["damage"]).max() < 1e-6


def test_energy_balance_before_the_crack_runs(slit_mesh):
    """Work of the reaction = elastic + fracture energy while the response is smooth."""
    result = PhaseFieldFracture(slit_mesh, displacement=0.004, steps=20,
                                history_every=0).solve()
    assert result.qoi["energy_error"] < 5e-3
    assert max(result.series["load"]["energy_error"]) < 5e-3          # at every step
    assert result.qoi["fracture_energy"] > 0.0          # AT2 damages from the first load
    # one damage solve per alternate-minimization iteration, one more displacement solve
    # per step (the equilibrium at the converged damage)
    solves = result.meta["solves"]
    assert solves["damage"]["count"] == result.qoi["staggered_iterations"]
    assert solves["displacement"]["count"] == \
        result.qoi["staggered_iterations"] + result.qoi["steps"]


@pytest.mark.slow
def test_the_crack_runs_through_the_ligament_in_refined_steps(slit_mesh, caplog):
    result = PhaseFieldFracture(slit_mesh, displacement=0.007, steps=35,
                                history_every=0).solve()
    # elements of 0.02 mm where the crack runs, for l = 0.015 mm: the run says so
    assert result.meta["crack_h_over_l"] == pytest.approx(0.02 / 0.015, rel=0.2)
    assert "the crack's elements are 1.3 l across" in caplog.text
    d = result.point_data["damage"]
    x, y = slit_mesh.p
    ahead = (np.abs(y - 0.5) < 0.011) & (x > 0.55)
    assert (d[ahead] > 0.9).all()                       # broken ligament
    assert result.qoi["final_force"] < 0.05 * result.qoi["peak_force"]
    force = np.array(result.series["load"]["force"])
    assert force.argmax() < len(force) - 1
    # where the crack runs the steps were halved: more rows than the 35 steps, finer ones
    displacement = np.array(result.series["load"]["displacement"])
    assert result.meta["step_cuts"] > 0 and result.qoi["steps"] > 35
    assert np.diff(displacement).min() == pytest.approx(0.0002 / 2 ** 4)
    assert (np.diff(displacement) > 0).all()


@pytest.mark.slow
def test_anderson_acceleration_runs_the_crack_to_the_same_state_in_fewer_passes(slit_mesh):
    """The same load steps (no halving) with and without Anderson acceleration: the same
    peak, dissipated energy and residual force to the staggered tolerance, in at most
    three quarters of the alternate-minimization passes."""
    runs = [PhaseFieldFracture(slit_mesh, displacement=0.007, steps=10, max_cuts=0,
                               history_every=0, anderson=depth).solve() for depth in (0, 5)]
    plain, fast = (r.qoi for r in runs)
    for name in ("peak_force", "dissipated_energy", "final_force"):
        assert fast[name] == pytest.approx(plain[name], rel=1e-3), name
    assert plain["final_force"] < 0.02 * plain["peak_force"]          # the crack ran
    assert fast["staggered_iterations"] < 0.75 * plain["staggered_iterations"]


@pytest.mark.parametrize("model, split", [("AT1", "none"), ("AT2", "none"),
                                          ("AT2", "volumetric_deviatoric"),
                                          ("AT1", "spectral")])
def test_newton_gradient_and_hessian_against_finite_differences(slit_mesh, model, split):
    """The monolithic Newton's energy, gradient and Hessian at a random state: the
    gradient against central differences of the energy, the coupling block against
    central differences of each gradient (both ways), the displacement block against
    differences of the internal force."""
    problem = PhaseFieldFracture(slit_mesh, model=model, split=split, scheme="newton",
                                 history_every=0)
    newton = problem.newton
    rng = np.random.default_rng(3)
    u = 1e-3 * rng.standard_normal(problem.u_basis.N)
    d = rng.uniform(0.1, 0.9, problem.d_basis.N)
    grad_u, grad_d, K, _, sigma, _ = newton.gradient(u, d)
    coupling = newton._coupling(sigma, d).toarray()
    for k in rng.choice(problem.u_basis.N, 4, replace=False):
        e = np.zeros_like(u)
        e[k] = 1e-7
        energy_slope = (newton.energy(u + e, d) - newton.energy(u - e, d)) / 2e-7
        assert grad_u[k] == pytest.approx(energy_slope, rel=1e-5)
        ahead, behind = newton.gradient(u + e, d), newton.gradient(u - e, d)
        row = (ahead[1] - behind[1]) / 2e-7
        assert np.abs(coupling[k] - row).max() < 1e-6 * np.abs(row).max()
        column = (ahead[0] - behind[0]) / 2e-7
        assert np.abs(K[:, [k]].toarray().ravel() - column).max() \
            < 1e-5 * np.abs(column).max()
    for k in rng.choice(problem.d_basis.N, 4, replace=False):
        e = np.zeros_like(d)
        e[k] = 1e-6
        energy_slope = (newton.energy(u, d + e) - newton.energy(u, d - e)) / 2e-6
        assert grad_d[k] == pytest.approx(energy_slope, rel=1e-5)
        column = (newton.gradient(u, d + e)[0] - newton.gradient(u, d - e)[0]) / 2e-6
        assert np.abs(coupling[:, k] - column).max() < 1e-6 * np.abs(column).max()


@pytest.mark.slow
def test_newton_runs_the_crack_like_the_alternate_minimization(slit_mesh):
    """The same 70 load steps (no halving) by both schemes: the same peak, the crack
    through the ligament, the dissipated energy within 3%. Without the inertia check
    Newton stopped at a saddle with the crack half-way (force 0.60 kN at the end)."""
    runs = [PhaseFieldFracture(slit_mesh, displacement=0.007, steps=70, max_cuts=0,
                               history_every=0, scheme=scheme).solve()
            for scheme in ("alternate", "newton")]
    alternate, newton = (r.qoi for r in runs)
    assert newton["peak_force"] == pytest.approx(alternate["peak_force"], rel=1e-3)
    assert newton["final_force"] < 0.02 * newton["peak_force"]
    assert newton["dissipated_energy"] == pytest.approx(alternate["dissipated_energy"],
                                                        rel=0.03)
    counts = runs[1].meta["newton"]
    assert counts["newton"] > counts["fallback"] > 0     # Newton, but not where it runs


@pytest.mark.slow
def test_a_slab_of_tetrahedra_breaks_through_its_ligament():
    """3D: the SENT slab (a notch cut through the thickness, tetrahedra, free faces) pulled
    until the crack has crossed the ligament: broken through the whole thickness ahead of
    the notch, on both faces, the force dropped to under 5% of its peak."""
    from fem_reg.mesh import sent_slab
    mesh = sent_slab(0.2, h_crack=0.04, band=0.12, thickness=0.08)
    assert {"bottom", "top", "front", "back", "notch"} <= set(mesh.boundaries)
    result = PhaseFieldFracture(mesh, kind="3d", length=0.08, displacement=0.012, steps=24,
                                history_every=0).solve()
    assert result.qoi["final_force"] < 0.05 * result.qoi["peak_force"]
    d = result.point_data["damage"]
    x, y, z = mesh.p
    for face in (np.isclose(z, 0.0), np.isclose(z, 0.08)):
        ahead = face & (x > 0.6) & (x < 0.95)
        # along the ligament on this face, the most damaged node near mid-height is broken
        for x0 in (0.65, 0.75, 0.85):
            near = ahead & (np.abs(x - x0) < 0.05) & (np.abs(y - 0.5) < 0.1)
            assert d[near].max() > 0.9, (x0, face.sum())
    assert (d[np.abs(y - 0.5) > 0.3] < 0.5).all()                  # nowhere else


def test_bad_input_names_the_culprit(slit_mesh):
    with pytest.raises(ParameterError, match="kind = '3d' on a 2D mesh"):
        PhaseFieldFracture(slit_mesh, kind="3d")
    with pytest.raises(ParameterError, match="initial_damage needs exactly"):
        PhaseFieldFracture(slit_mesh, initial_damage={"from": [0, 0.5], "width": 0.01})
    with pytest.raises(ParameterError, match="scheme = 'newton' needs irreversibility = "
                                             "'bounds'"):
        PhaseFieldFracture(slit_mesh, scheme="newton", irreversibility="history")
    with pytest.raises(ParameterError, match="scheme must be one of"):
        PhaseFieldFracture(slit_mesh, scheme="monolithic")
    with pytest.raises(ParameterError, match="direction = 'z'"):
        PhaseFieldFracture(slit_mesh, direction="z")
    with pytest.raises(ParameterError, match="model"):
        PhaseFieldFracture(slit_mesh, model="AT3")
    with pytest.raises(ParameterError, match="irreversibility must be one of"):
        PhaseFieldFracture(slit_mesh, irreversibility="max")
    with pytest.raises(ParameterError, match="regularization must be one of"):
        PhaseFieldFracture(slit_mesh, regularization="nonlocal")
    with pytest.raises(ParameterError, match="anderson must be an integer in"):
        PhaseFieldFracture(slit_mesh, anderson=-1)


def test_history_field_variant():
    """Under a monotonic uniform pull the history field H = max psi+ is psi+ itself: the
    history variant follows the homogeneous closed form like the bound-constrained one
    (peak sigma_c, AT2), with the same damage at every step."""
    from fem_reg.fracture import critical_stress
    mesh = rectangle(0.25, width=1.0, height=0.5, structured=True)
    sigma_c = critical_stress(210.0, 2.7e-3, 0.02, "AT2")
    strain_c = sigma_c / 210.0 * 16.0 / 9.0
    runs = {kind: PhaseFieldFracture(mesh, E=210.0, nu=0.0, length=0.02, irreversibility=kind,
                                     supports={"bottom": "fixed_y", "left": "fixed_x"},
                                     displacement=1.2 * strain_c * 0.5, steps=60, max_cuts=0,
                                     history_every=0).solve()
            for kind in ("bounds", "history")}
    for run in runs.values():
        assert run.qoi["peak_force"] == pytest.approx(sigma_c, rel=1e-4)
    assert runs["history"].series["load"]["fracture_energy"] == \
        pytest.approx(runs["bounds"].series["load"]["fracture_energy"], rel=1e-6)


@pytest.mark.parametrize("model, band_weight", [("AT2", 1.0 / 2.0), ("AT1", 3.0 / 8.0)])
def test_an_initial_band_starts_from_its_optimal_profile(model, band_weight):
    """A band of width w at d = 1 across a strip relaxes, before any load, to the optimal
    profile on either side (AT2: exp(-x/l), AT1: (1 - x/2l)^2), each side worth Gc/2:
    the fracture energy the loading starts from is Gc (1 + w/(c_w l)) per unit length of
    band (AT2: c_w = 2, AT1: 8/3), and none of it counts as dissipated."""
    length, w, height, Gc = 0.05, 0.1, 0.1, 2.7e-3
    mesh = rectangle(length / 10.0, width=1.0, height=height, structured=True)
    run = PhaseFieldFracture(mesh, E=210.0, nu=0.0, Gc=Gc, length=length, model=model,
                             initial_damage={"from": [0.5, -1.0], "to": [0.5, 2.0],
                                             "width": w + 1e-9},
                             supports={"left": "clamped"}, loaded="right", direction="x",
                             displacement=1e-8, steps=1, history_every=0).solve()
    expected = Gc * height * (1.0 + band_weight * w / length)
    assert run.series["load"]["fracture_energy"][0] == pytest.approx(expected, rel=2e-3)
    # (the band of nodes itself holds about five times that, in its one-element flanks)
    assert abs(run.qoi["dissipated_energy"]) < 1e-6 * expected
    assert run.meta["crack_h_over_l"] == pytest.approx(0.1 * (2 + np.sqrt(2)) / 3)


def test_a_run_on_elements_too_coarse_for_l_says_so(caplog):
    """The relaxed band's profile on elements of 2 l (mean edge 2.3 l): a warning naming the
    ratio; the local law (no profile to resolve) does not warn."""
    mesh = rectangle(0.1, width=1.0, height=0.2, structured=True)
    options = dict(length=0.05, initial_damage={"from": [0.5, -1.0], "to": [0.5, 2.0],
                                                "width": 0.1},
                   supports={"left": "clamped"}, loaded="right", direction="x",
                   displacement=1e-8, steps=1, history_every=0)
    run = PhaseFieldFracture(mesh, **options).solve()
    assert run.meta["crack_h_over_l"] == pytest.approx(2.0 * (2 + np.sqrt(2)) / 3)
    assert "the crack's elements are 2.3 l across" in caplog.text
    caplog.clear()
    PhaseFieldFracture(mesh, regularization="local", **options).solve()
    assert "the crack's elements" not in caplog.text


@pytest.mark.parametrize("irreversibility", ["bounds", "history"])
def test_an_interrupted_load_history_resumes_to_the_same_result(tmp_path, irreversibility):
    """Stopped by Ctrl-C after 23 of 60 steps (the checkpoint written then, not at the
    last multiple of checkpoint_every), resumed: the same load table, fields and QoIs as
    the uninterrupted run; resumed again once finished it rebuilds the result without
    solving. The strip peaks at u = 0.0073 (sigma_c) and softens. A checkpoint of another
    case is refused naming the file."""
    from fem_reg.errors import CheckpointError
    mesh = rectangle(0.25, width=1.0, height=0.5, structured=True)
    options = dict(E=210.0, nu=0.0, length=0.02, irreversibility=irreversibility,
                   supports={"bottom": "fixed_y", "left": "fixed_x"}, displacement=0.009,
                   steps=60, max_cuts=0, history_every=10, checkpoint_every=5)
    whole = PhaseFieldFracture(mesh, **options).solve()
    checkpoint = tmp_path / "strip.checkpoint.npz"
    with pytest.raises(KeyboardInterrupt):
        PhaseFieldFracture(mesh, **options).solve(progress=interrupt_at(23),
                                                  checkpoint=checkpoint)
    resumed = PhaseFieldFracture(mesh, **options).solve(checkpoint=checkpoint, resume=True)
    for name, values in whole.series["load"].items():
        assert resumed.series["load"][name] == pytest.approx(values, rel=1e-9, abs=1e-15), \
            name
    assert resumed.qoi == pytest.approx(whole.qoi, rel=1e-9)
    assert [at for at, _ in resumed.history] == [at for at, _ in whole.history]
    assert resumed.point_data["damage"] == pytest.approx(whole.point_data["damage"])
    assert resumed.meta["solves"]["damage"]["count"] == whole.meta["solves"]["damage"]["count"]
    rebuilt = PhaseFieldFracture(mesh, **options).solve(checkpoint=checkpoint, resume=True)
    assert rebuilt.meta["rebuilt_from_checkpoint"] and rebuilt.qoi == resumed.qoi
    with pytest.raises(CheckpointError, match="strip.checkpoint.npz: the checkpoint belongs "
                                              "to another case"):
        PhaseFieldFracture(mesh, **{**options, "length": 0.03}).solve(checkpoint=checkpoint,
                                                                       resume=True)


@pytest.mark.parametrize("split", ["none", "volumetric_deviatoric", "spectral"])
def test_split_energy_stress_and_tangent(slit_mesh, split):
    """For an affine strain the elastic energy 1/2 u.K(u) u is the closed form
    g psi+ + psi- times the area (in tension and compression); for any u, K(u) u is the
    gradient of that energy (central differences)."""
    problem = PhaseFieldFracture(slit_mesh, split=split)
    lam, mu = problem.material.lame
    bulk = lam + 2.0 * mu / 3.0
    d = np.full(problem.d_basis.N, 0.4)
    g = problem.field.degradation(0.4)
    x, y = problem.u_basis.doflocs
    for eps in (np.array([[1e-3, 2e-4], [2e-4, -3e-4]]), np.array([[-1e-3, 0], [0, -5e-4]])):
        u = np.where(np.arange(problem.u_basis.N) % 2 == 0, eps[0, 0] * x + eps[0, 1] * y,
                     eps[1, 0] * x + eps[1, 1] * y)
        tr, ee = np.trace(eps), np.sum(eps * eps)
        if split == "none":
            expected = g * (0.5 * lam * tr ** 2 + mu * ee)
        elif split == "spectral":             # principal strains of the plane strain
            principal = np.linalg.eigvalsh(eps)
            plus, minus = np.maximum(principal, 0), np.minimum(principal, 0)
            expected = g * (0.5 * lam * max(tr, 0) ** 2 + mu * np.sum(plus ** 2)) \
                + 0.5 * lam * min(tr, 0) ** 2 + mu * np.sum(minus ** 2)
        else:
            expected = g * (0.5 * bulk * max(tr, 0) ** 2 + mu * (ee - tr ** 2 / 3)) \
                + 0.5 * bulk * min(tr, 0) ** 2
        energy = 0.5 * u @ (problem._stiffness(u, d)[0] @ u)
        assert energy == pytest.approx(expected, rel=1e-10)       # unit square
    rng = np.random.default_rng(3)
    u = 1e-3 * rng.standard_normal(problem.u_basis.N)
    gradient = problem._stiffness(u, d)[0] @ u

    def total(v):
        if split != "spectral":
            return 0.5 * v @ (problem._stiffness(v, d)[0] @ v)
        # the spectral tangent is itself a difference quotient: take the energy from the
        # principal strains (checked against the closed form above) instead
        from fem_reg.fracture.split import spectral_parts
        plus, minus, _, _ = spectral_parts(problem._cell_strains(v), lam, mu)
        return np.sum(problem.cellwise["volumes"] * (g * plus + minus))

    direction = rng.standard_normal(problem.u_basis.N)
    step = 1e-9
    difference = (total(u + step * direction) - total(u - step * direction)) / (2 * step)
    assert difference == pytest.approx(gradient @ direction, rel=1e-5)


@pytest.mark.parametrize("split", ["none", "volumetric_deviatoric"])
def test_cellwise_matrices_are_the_quadrature_assembly(slit_mesh, split):
    """On triangles the stiffness and the damage system are sums of cell matrices weighted
    per cell; they equal scikit-fem's quadrature assembly for a damage that varies within
    cells and a displacement with cells in tension and in compression."""
    problem = PhaseFieldFracture(slit_mesh, split=split)
    rng = np.random.default_rng(7)
    d = rng.uniform(0.0, 1.0, problem.d_basis.N)
    u = 1e-3 * rng.standard_normal(problem.u_basis.N)
    K, K_free = problem._stiffness(u, d)
    from fem_reg.fracture import problem as module
    calls = []
    real = module.minimize_bounded

    def record(A, b, *args, **kwargs):
        calls.append((A, b))
        return real(A, b, *args, **kwargs)

    module.minimize_bounded = record
    try:
        problem._damage(u, 0.0, 0.0)
        cellwise, problem.cellwise = problem.cellwise, None
        K_q, K_free_q = problem._stiffness(u, d)
        problem._damage(u, 0.0, 0.0)
    finally:
        module.minimize_bounded = real
        problem.cellwise = cellwise
    scale = abs(K_q).max()
    assert abs(K - K_q).max() < 1e-12 * scale and abs(K_free - K_free_q).max() < 1e-12 * scale
    (A, b), (A_q, b_q) = calls
    assert abs(A - A_q).max() < 1e-12 * abs(A_q).max()
    assert np.abs(b - b_q).max() < 1e-12 * np.abs(b_q).max()


def test_splits_spare_compression(slit_mesh):
    """Pushed instead of pulled: without a split the compressed specimen is damaged like the
    pulled one; with either split its compression drives less damage, so the damage is
    smaller and the specimen stiffer."""
    runs = {split: PhaseFieldFracture(slit_mesh, split=split, displacement=-0.004, steps=4,
                                      history_every=0).solve()
            for split in ("none", "volumetric_deviatoric", "spectral")}
    plain = runs["none"]
    for split in (runs["volumetric_deviatoric"], runs["spectral"]):
        assert split.qoi["fracture_energy"] < 0.7 * plain.qoi["fracture_energy"]
        assert abs(split.qoi["final_force"]) > abs(plain.qoi["final_force"])
    with pytest.raises(ParameterError, match="plane_strain"):
        PhaseFieldFracture(slit_mesh, split="volumetric_deviatoric", kind="plane_stress")
    with pytest.raises(ParameterError, match="triangle or tetrahedral"):
        PhaseFieldFracture(rectangle(0.25, cell_type="quad", structured=True),
                           split="spectral", supports={"bottom": "clamped"})


def test_spectral_parts_in_closed_form_and_against_lapack():
    """The 2 x 2 principal strains in closed form equal LAPACK's; the split's parts add up
    to the undamaged energy and stress, and a pure compression has no positive part."""
    from fem_reg.fracture.split import _eigh_2x2, spectral_parts
    rng = np.random.default_rng(5)
    eps = rng.standard_normal((500, 2, 2))
    eps = eps + eps.swapaxes(1, 2)
    values, vectors = _eigh_2x2(eps)
    assert np.abs(np.sort(values, axis=1) - np.linalg.eigvalsh(eps)).max() < 1e-13
    assert np.abs(eps @ vectors - vectors * values[:, None, :]).max() < 1e-13
    lam, mu = 1.5, 0.7
    plus, minus, s_plus, s_minus = spectral_parts(eps, lam, mu)
    tr = np.trace(eps, axis1=1, axis2=2)
    assert np.allclose(plus + minus, 0.5 * lam * tr ** 2 + mu * np.sum(eps * eps, axis=(1, 2)))
    assert np.allclose(s_plus + s_minus, lam * tr[:, None, None] * np.eye(2) + 2 * mu * eps)
    compressed = -np.abs(values)[:, :, None] * np.eye(2)       # both principal strains < 0
    assert np.abs(spectral_parts(compressed, lam, mu)[0]).max() == 0.0
