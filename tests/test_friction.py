"""Gradient-regularized frictional slip: closed form, tangent, energy, local limit, errors."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import central_difference
import scipy.sparse as sp

from fem_reg.errors import FemRegError, MeshError, ParameterError
from fem_reg.friction import (FrictionalBar, FrictionalSlip, SlipWeakening, bar_solution,
                              front_slip, transition_width)
from fem_reg.mesh import block_on_base, boundary_nodes, interval, rectangle, split_interface
from fem_reg.study import loglog_slope

BAR = dict(length=1.0, EA=1.0, k_t=100.0, tau_y=1.0)


def _bar(n, gamma, steps=1, **extra):
    mesh = interval(1.0 / n)
    values = dict(EA=1.0, k_t=100.0, mu_s=1.0, mu_d=1.0, pressure=1.0, gamma=gamma,
                  displacement={"right": 0.02}, steps=steps)
    values.update(extra)
    problem = FrictionalBar(mesh, **values)
    return problem, problem.solve()


def _dense(A):
    return A.toarray() if sp.issparse(A) else np.asarray(A)


def _block(h=0.1, **extra):
    values = dict(E=1.0, nu=0.25, k_t=100.0, mu_s=0.6, mu_d=0.4, gamma=0.01,
                  traction={"block_top": [0.0, -0.01]},
                  displacement={"block_left": {"x": 0.02}}, steps=10)
    values.update(extra)
    mesh = block_on_base(h, width=2.0, height=0.5, with_base=False)
    return FrictionalSlip(mesh, **values)


# -- the closed form itself -----------------------------------------------------------------
@pytest.mark.parametrize("gamma", [0.0, 1e-3, 0.01, 0.1])
def test_closed_form_satisfies_its_equations(gamma):
    """Equilibrium EA u'' = k_t (u - s), yield k_t (u - s) + gamma s'' = tau_y in the slip
    zone, s >= 0, s'(L) = 0, u(L) = Delta and F = EA u'(L) = EA u'(a) + tau_y (L - a), checked
    by finite differences of the returned fields."""
    sol = bar_solution(0.02, gamma=gamma, **BAR)
    x = np.linspace(0.0, 1.0, 100001)
    dx = x[1] - x[0]
    u, s = sol.displacement(x), sol.slip(x)
    d2u = (u[2:] - 2 * u[1:-1] + u[:-2]) / dx ** 2
    d2s = (s[2:] - 2 * s[1:-1] + s[:-2]) / dx ** 2
    xi = x[1:-1]
    assert np.abs(d2u - 100.0 * (u - s)[1:-1]).max() < 1e-4
    zone = (xi > sol.stick_length + 1e-3) & (xi < 1.0 - 1e-3)
    assert np.abs(100.0 * (u - s)[1:-1][zone] + gamma * d2s[zone] - 1.0).max() < 1e-4
    assert s.min() >= -1e-15 and abs(u[-1] - 0.02) < 1e-12
    assert abs((s[-1] - s[-2]) / dx) < (1e-3 if gamma else np.inf)
    lam = 10.0
    F = lam * sol.C * np.sinh(lam * sol.stick_length) + sol.slip_length
    assert sol.force == pytest.approx(F, rel=1e-9)
    assert sol.force == pytest.approx((u[-1] - u[-2]) / dx, rel=1e-3)


def test_closed_form_gamma_to_zero_is_the_local_solution():
    local = bar_solution(0.02, **BAR)
    near = bar_solution(0.02, gamma=1e-9, **BAR)
    assert near.force == pytest.approx(local.force, rel=1e-5)
    assert near.stick_length == pytest.approx(local.stick_length, abs=1e-3)


def test_closed_form_refuses_full_sliding():
    with pytest.raises(ParameterError, match="whole bar"):
        bar_solution(10.0, **BAR)


# -- FE against the closed form -------------------------------------------------------------
@pytest.mark.parametrize("gamma, quantity, expected", [(0.0, "u", 2.0), (0.1, "u", 2.0),
                                                       (0.1, "s", 2.0), (0.01, "s", 2.0)])
def test_bar_converges_to_closed_form(gamma, quantity, expected):
    """L2 (lumped) error of the displacement or the slip at the expected order 2."""
    ref = bar_solution(0.02, gamma=gamma, **BAR)
    hs, errors = [], []
    for n in (40, 80, 160, 320, 640):
        problem, result = _bar(n, gamma)
        x = problem.mesh.p[0]
        fe = result.point_data["displacement" if quantity == "u" else "slip"]
        exact = ref.displacement(x) if quantity == "u" else ref.slip(x)
        hs.append(1.0 / n)
        errors.append(np.sqrt(np.sum(problem.weights * (fe - exact) ** 2)))
    slope = loglog_slope(hs, errors, 3)
    assert slope >= expected - 0.3, (slope, errors)


def test_bar_dissipation_matches_closed_form():
    """Monotonic loading in many steps: dissipation -> tau_y int s dx of the closed form."""
    ref = bar_solution(0.02, gamma=0.01, **BAR)
    _, result = _bar(400, 0.01, steps=200)
    assert result.qoi["dissipated_energy"] == pytest.approx(ref.dissipation, rel=5e-3)
    assert result.qoi["force"] == pytest.approx(ref.force, rel=1e-3)


# -- gamma = 0 is the local law -------------------------------------------------------------
def test_gamma_zero_is_the_local_coulomb_law():
    """Every slipping node carries |tau| = mu(kappa) p exactly; stick nodes |tau| <= mu p and
    zero slip increment; with the computed pressure."""
    problem = _block(gamma=0.0, D_c=0.002, load_path=[0.3], nu=0.0)
    result = problem.solve()
    assert result.meta["converged"]
    solver = problem.solver()
    u = np.zeros(problem.K.shape[0])
    u[problem.dofs] = result.point_data["displacement"].T
    s = result.point_data["slip"][problem.interface_nodes]
    kappa = result.point_data["accumulated_slip"][problem.interface_nodes]
    p = result.point_data["pressure"][problem.interface_nodes]
    tau = problem.parameters.k_t * (problem.B @ u - s)
    limit = SlipWeakening(0.6, 0.4, 0.002).mu(kappa) * p
    slipped = kappa > 0
    assert slipped.any() and (~slipped).any()
    # the last step slid forward at the slipping nodes (monotonic push)
    sliding = result.series["load_curve"]["slipping_nodes"][-1]
    assert sliding > 0
    assert np.all(np.abs(tau) <= limit * (1 + 1e-8) + 1e-14)
    assert np.sort(np.abs(np.abs(tau[slipped]) - limit[slipped]))[:sliding].max() \
        < 1e-8 * limit.max()
    assert solver.gamma == 0.0


# -- consistency of the Newton matrix -------------------------------------------------------
@pytest.mark.parametrize("pressure", ["reaction", 0.01])
def test_newton_matrix_matches_finite_differences(pressure):
    """At a mid-step iterate with stick and slip nodes (slip weakening, gradient term,
    computed pressure: the unsymmetric case) the semismooth Newton matrix equals central
    differences of the residual (away from the active-set switch)."""
    problem = _block(h=0.2, D_c=0.01, gamma=0.02, pressure=pressure)
    solver = problem.solver()
    state = solver.initial_state()
    state, _ = solver.step(state, *problem.loads(0.0))
    state, _ = solver.step(state, *problem.loads(0.3))
    fixed, f = problem.loads(0.35)
    u, f = solver.local(state.u), solver.reduce(f)       # the condensed (interface) system
    u[solver.fixed] = fixed
    rng = np.random.default_rng(1)
    s = state.s + 1e-5 * np.abs(rng.standard_normal(state.s.shape)) * (state.kappa > 0)
    residual, e = solver._evaluate(u, s, f, state)
    assert e["slip"].any() and (~e["slip"]).any()
    J = _dense(solver._jacobian(e))
    nf = len(solver.free)
    direction = rng.standard_normal(nf + len(s))
    active = []

    def residual_of(x):
        v = u.copy()
        v[solver.free] = x[:nf]
        r, ev = solver._evaluate(v, x[nf:], f, state)
        active.append(ev["slip"])
        return r
    fd = central_difference(residual_of, np.concatenate((u[solver.free], s)), direction, 1e-9)
    assert all(np.array_equal(a, e["slip"]) for a in active)   # no active-set switch
    assert np.linalg.norm(J @ direction - fd) <= 1e-6 * np.linalg.norm(fd)
    if pressure == "reaction":
        assert not np.allclose(J, J.T)          # the pressure coupling is in the matrix


def test_condensed_bulk_gives_the_full_solution():
    """Newton on the interface DOFs with the bulk condensed out (the default) reaches the
    state of Newton on all DOFs: displacement everywhere, slip, reactions, energies."""
    problem = _block(h=0.1, D_c=0.01, gamma=0.02, load_path=[0.6, 0.2], steps=6)
    loads = [problem.loads(t) for t in (0.0, 0.3, 0.6, 0.2)]
    states = []
    for condense_bulk in (True, False):
        solver = problem.solver(condense_bulk=condense_bulk)
        assert (solver.bulk is not None) == condense_bulk
        state = solver.initial_state()
        for fixed, f in loads:
            state, _ = solver.step(state, fixed, f)
        states.append(state)
    reduced, full = states
    assert np.count_nonzero(full.kappa) > 2          # the path slipped, then reversed
    assert len(problem.solver().keep) < problem.K.shape[0] / 3
    scale = np.abs(full.u).max()
    assert np.abs(reduced.u - full.u).max() <= 1e-9 * scale
    assert np.abs(reduced.s - full.s).max() <= 1e-9 * np.abs(full.s).max()
    assert np.abs(reduced.external - full.external).max() <= 1e-9 * np.abs(full.external).max()
    assert reduced.work == pytest.approx(full.work, rel=1e-9)
    assert reduced.dissipation == pytest.approx(full.dissipation, rel=1e-9)


def test_slip_control_bordered_matrix_matches_finite_differences():
    """Slip control: the Newton matrix bordered by the load-factor column and the slip
    constraint row equals central differences of the extended residual (computed pressure,
    slip weakening, gradient term)."""
    from fem_reg.friction.solver import _Control
    problem = _block(h=0.2, D_c=0.01, gamma=0.02)
    solver = problem.solver()
    state = solver.initial_state()
    state, _ = solver.step(state, *problem.loads(0.0))
    state, _ = solver.step(state, *problem.loads(0.3))
    control = _Control(solver, 1e-5, problem._fixed_rate, problem.f_dead, problem.f_rate)
    rng = np.random.default_rng(2)
    s = state.s + 1e-5 * np.abs(rng.standard_normal(state.s.shape)) * (state.kappa > 0)
    nf = len(solver.free)

    def extended(x):
        u = solver.local(state.u)
        u[solver.free] = x[:nf]
        lam = x[-1]
        u[solver.fixed] = lam * control.rate
        r, e = solver._evaluate(u, x[nf:-1], control.f0 + lam * control.f1, state)
        return np.append(r, control.residual(e)), e

    x = np.concatenate((solver.local(state.u)[solver.free], s, [0.35]))
    _, e = extended(x)
    assert e["slip"].any() and (~e["slip"]).any()
    J = _dense(solver.bordered(solver._jacobian(e), control.column(e), control.row(e)))
    direction = rng.standard_normal(x.size)
    active = []

    def residual_of(y):
        r, ey = extended(y)
        active.append(ey["slip"])
        return r
    fd = central_difference(residual_of, x, direction, 1e-9)
    assert all(np.array_equal(a, e["slip"]) for a in active)
    assert np.linalg.norm(J @ direction - fd) <= 1e-6 * np.linalg.norm(fd)


def test_slip_control_follows_the_closed_form_and_balances_energy():
    """Bar with constant friction under slip control: every converged state is the closed
    form at its (solved) end displacement, each increment adds the prescribed slip, and the
    energy balances."""
    n = 40
    problem, result = _bar(n, 0.01, steps=20, control="slip", slip_step=2e-5,
                           load_path=[1.0])
    assert result.meta["converged"], result.meta["stop"]
    curve = result.series["load_curve"]
    disp, force = np.array(curve["displacement"]), np.array(curve["force"])
    assert disp[-1] >= 0.02 and len(disp) > 10
    slipping = disp > 0.0105                # past the first slip (load control up to there)
    for d, f in zip(disp[slipping][::5], force[slipping][::5]):
        exact = bar_solution(d, gamma=0.01, **BAR)
        assert f == pytest.approx(exact.force, rel=5e-3)     # discretization error
    # the discrete solution does not depend on the control: load control to the same end
    # displacement gives the same force
    _, loaded = _bar(n, 0.01, steps=20, displacement={"right": float(disp[-1])})
    assert loaded.qoi["force"] == pytest.approx(force[-1], rel=1e-8)
    # tau_y = 1: each increment dissipates about int |ds| = slip_step x length (exactly at
    # the nodes that were already slipping; the front node starts below tau_y)
    dissipated = np.array(curve["dissipated_energy"])
    assert np.allclose(np.diff(dissipated[slipping])[1:], 2e-5, rtol=0.05)
    work = np.array(curve["external_work"])
    stored = np.array(curve["elastic_energy"]) + np.array(curve["regularization_energy"])
    assert np.abs(work - stored - dissipated).max() <= 1e-8 * work.max()
    # the PVD steps are the increments in order (the load factor need not increase)
    times = [t for t, _ in result.history]
    assert times == list(range(len(disp)))


def test_slip_control_parameters():
    with pytest.raises(ParameterError, match="slip_step"):
        _block(control="slip")
    with pytest.raises(ParameterError, match="one monotonic leg"):
        _block(control="slip", slip_step=1e-4, load_path=[1.0, 0.5])
    with pytest.raises(ParameterError, match="control"):
        _block(control="arc")


# -- energy ---------------------------------------------------------------------------------
def test_energy_balance_every_step_with_reversal():
    """Work of loads and reactions = elastic + regularization energy + dissipation, at every
    converged step of a push-and-reverse run, to solver tolerance."""
    result = _block(load_path=[1.0, 0.3], steps=8, gamma=0.05).solve()
    curve = result.series["load_curve"]
    assert result.meta["converged"]
    work = np.array(curve["external_work"])
    stored = np.array(curve["elastic_energy"]) + np.array(curve["regularization_energy"])
    dissipated = np.array(curve["dissipated_energy"])
    assert np.abs(work - stored - dissipated).max() <= 1e-8 * work.max()
    assert np.all(np.diff(dissipated) >= -1e-12 * dissipated.max())
    assert curve["regularization_energy"][-1] > 0
    assert min(curve["force"]) < 0.5 * max(curve["force"])      # the reversal unloaded


def test_coulomb_sliding_force_and_pressure():
    """Once the whole block slides, the push equals mu_d times the normal load, and the
    computed pressure integrates to the top load."""
    problem = _block(gamma=0.0, load_path=[1.0], steps=20)
    result = problem.solve()
    assert result.qoi["force"] == pytest.approx(0.4 * 0.01 * 2.0, rel=1e-6)
    p = result.point_data["pressure"][problem.interface_nodes]
    assert np.sum(problem.weights * p) == pytest.approx(0.01 * 2.0, rel=1e-9)


# -- two elastic bodies on a conforming interface -------------------------------------------
def _two_bodies(h=0.1, base_E=None, **extra):
    values = dict(E=1.0, nu=0.25, k_t=100.0, mu_s=0.6, mu_d=0.4, gamma=0.01,
                  traction={"block_top": [0.0, -0.01]},
                  displacement={"block_left": {"x": 0.02}}, steps=10, base="base",
                  base_E=base_E, supports={"base_bottom": "clamped"})
    values.update(extra)
    mesh = block_on_base(h, width=2.0, height=0.5, base_height=0.25, base_margin=0.25)
    return FrictionalSlip(mesh, **values)


def test_split_interface_doubles_the_interface_nodes():
    """The split mesh has a copy of every interface node for the block; no cell of the block
    shares a node with the base, and both sides of the interface lie on the same line."""
    mesh = block_on_base(0.2, width=2.0, height=0.5)
    split, twins = split_interface(mesh, "interface", "base")
    nodes = np.unique(mesh.facets[:, mesh.boundaries["interface"]])
    assert split.nvertices == mesh.nvertices + len(nodes)
    assert np.array_equal(np.nonzero(twins >= 0)[0], nodes)
    assert np.allclose(split.p[:, twins[nodes]], mesh.p[:, nodes])
    base = np.zeros(split.nelements, dtype=bool)
    base[split.subdomains["base"]] = True
    assert not set(split.t[:, base].ravel()) & set(split.t[:, ~base].ravel())
    for name in ("interface", "interface_base"):
        facets = split.boundaries[name]
        assert len(facets) == len(mesh.boundaries["interface"])
        assert (split.f2t[1, facets] == -1).all()              # outer boundaries now
    assert base[split.f2t[0, split.boundaries["interface_base"]]].all()
    assert not base[split.f2t[0, split.boundaries["interface"]]].any()
    with pytest.raises(MeshError, match="must separate subdomain 'block'"):
        split_interface(mesh, "block_top", "block")


def test_two_bodies_slide_at_the_coulomb_force_with_action_and_reaction():
    """Block on an elastic base: the slip is the relative tangential displacement; once the
    block slides, the push is mu_d times the normal load, the base's clamped bottom carries
    it, the computed pressure integrates to the top load, and energy balances per step."""
    problem = _two_bodies(gamma=0.0, displacement={"block_left": {"x": 0.1}}, steps=20)
    result = problem.solve()
    assert result.meta["converged"]
    state_u = result.point_data["displacement"]
    top, below = problem.interface_nodes, problem.base_interface_nodes
    relative = state_u[top, 0] - state_u[below, 0]
    assert np.allclose(state_u[top, 1], state_u[below, 1], atol=1e-14)     # no gap
    slip = result.point_data["slip"][top]
    friction = result.point_data["friction"][top]
    assert np.allclose(friction, 100.0 * (relative - slip), rtol=1e-9, atol=1e-14)
    assert result.qoi["force"] == pytest.approx(0.4 * 0.01 * 2.0, rel=1e-6)
    p = result.point_data["pressure"][top]
    assert np.sum(problem.weights * p) == pytest.approx(0.01 * 2.0, rel=1e-9)
    assert np.allclose(result.point_data["pressure"][below], p)
    assert abs(result.qoi["energy_error"]) <= 1e-8
    # the base's bottom reacts the push (x) and the top load (y)
    solver = problem.solver()
    fixed, f = problem.loads(1.0)
    bottom = problem.dofs[:, boundary_nodes(problem.mesh, "base_bottom")]
    state = solver.initial_state()
    for t in np.linspace(0.0, 1.0, 21):
        state, _ = solver.step(state, *problem.loads(t))
    reaction = state.external[bottom].sum(axis=1)
    assert reaction == pytest.approx([-0.4 * 0.01 * 2.0, 0.01 * 2.0], rel=1e-6)


def test_a_stiff_elastic_base_tends_to_the_rigid_base():
    """The same push with the base 100 and 10^4 times stiffer than the block: the peak
    force and the slip profile approach the rigid-base solution, the difference falling
    in proportion to the base's compliance."""
    rigid = _block(D_c=0.01).solve()
    differences = []
    for base_E in (1e2, 1e4):
        result = _two_bodies(base_E=base_E, D_c=0.01).solve()
        assert result.meta["converged"]
        differences.append(abs(result.qoi["peak_force"] / rigid.qoi["peak_force"] - 1.0))
        slip = np.array(result.series["slip_profile"]["slip"])
        reference = np.array(rigid.series["slip_profile"]["slip"])
        assert np.abs(slip - reference).max() <= 1e3 / base_E * np.abs(reference).max()
    assert differences[1] < 1e-5 < differences[0]
    assert 30.0 < differences[0] / differences[1] < 300.0


def test_two_body_errors_name_the_culprit():
    with pytest.raises(FemRegError, match="no subdomain named 'ground'"):
        _two_bodies(base="ground")
    with pytest.raises(ParameterError, match="base_E"):
        _block(base_E=2.0)
    with pytest.raises(ParameterError, match="base_nu"):
        _two_bodies(base_nu=0.7)
    with pytest.raises(MeshError, match="give base = the subdomain"):
        FrictionalSlip(block_on_base(0.2), displacement={"block_left": {"x": 0.01}},
                       supports={"base_bottom": "clamped"})
    with pytest.raises(ParameterError, match="prescribed normal displacements"):
        _two_bodies(displacement={"block_left": {"x": 0.01, "y": 0.01}},
                    supports={"base_bottom": "clamped", "base_top": "fixed_y"})


# -- snaps: viscous relaxation and peak location --------------------------------------------
def _snapping_bar(**extra):
    """A bar pulled on a slip-weakening foundation: at the onset of full sliding there is no
    equilibrium near the last state (the force drops from its peak to mu_d p L)."""
    values = dict(EA=0.5, pressure=0.01, k_t=1e4, mu_s=0.6, mu_d=0.4, D_c=5e-4,
                  displacement={"right": 0.02}, steps=20)
    values.update(extra)
    return FrictionalBar(interval(0.2, length=2.0), **values).solve()


def test_a_snap_is_passed_by_viscous_relaxation():
    """The jump lands on the fully sliding equilibrium (force mu_d p L, every node slipping)
    and the energy balance holds through it; without relaxation the run stops there."""
    result = _snapping_bar()
    curve = result.series["load_curve"]
    assert result.meta["converged"], result.meta["stop"]
    assert max(curve["relaxation_steps"]) > 0
    assert result.qoi["force"] == pytest.approx(0.4 * 0.01 * 2.0, rel=1e-9)
    assert curve["slipping_nodes"][-1] == 11
    assert 0.4 * 0.01 * 2.0 < result.qoi["peak_force"] < 0.6 * 0.01 * 2.0
    assert np.abs(curve["energy_error"]).max() < 1e-9
    assert np.all(np.diff(curve["dissipated_energy"]) >= 0.0)
    stopped = _snapping_bar(max_relax=0)
    assert not stopped.meta["converged"] and "failed after 8 step cuts" in stopped.meta["stop"]


@pytest.mark.slow
def test_the_peak_is_located_inside_the_increment():
    """With 10 increments the peak force is located by halving (6 times) the increment in
    which the force turns down: it equals the largest force of a run with 640 uniform
    increments (the same points), and a run without halving misses it by over 1%."""
    located = _snapping_bar(steps=10, max_cuts=6).qoi["peak_force"]
    fine = _snapping_bar(steps=640, max_cuts=0).qoi["peak_force"]
    coarse = _snapping_bar(steps=10, max_cuts=0).qoi["peak_force"]
    assert located == pytest.approx(fine, rel=1e-6)
    assert coarse < 0.99 * located


def _pushed_block(h, gamma, **extra):
    """The example's block (examples/frictional_slip.toml), monotonic, 40 increments."""
    values = dict(E=1.0, nu=0.0, k_t=5.0, mu_s=0.6, mu_d=0.4, D_c=1e-4, gamma=gamma,
                  traction={"block_top": [0.0, -0.01]},
                  displacement={"block_left": {"x": 0.03}}, load_path=[1.0], steps=40,
                  probe_at=0.4, history_every=0)
    values.update(extra)
    mesh = block_on_base(h, width=2.0, height=0.5, with_base=False)
    return FrictionalSlip(mesh, **values)


@pytest.mark.slow
def test_predicted_jumps_land_where_viscous_relaxation_does(monkeypatch):
    """The local law with a steep drop snaps at every node's onset. The predicted jump
    (friction frozen, onset nodes past D_c, Newton, stability check) lands on the states the
    viscous relaxation reaches: same peak force, front and dissipation; the energy balances."""
    from fem_reg.friction.solver import SlipSolver
    predicted = _pushed_block(0.1, 0.0).solve()
    monkeypatch.setattr(SlipSolver, "_jump", lambda self, *args: None)
    relaxed = _pushed_block(0.1, 0.0).solve()
    assert predicted.meta["converged"] and relaxed.meta["converged"]
    assert max(relaxed.series["load_curve"]["relaxation_steps"]) > 10
    assert max(predicted.series["load_curve"]["relaxation_steps"]) == 0
    for name in ("peak_force", "transition_width", "slip_zone_length", "force"):
        assert predicted.qoi[name] == pytest.approx(relaxed.qoi[name], rel=1e-8)
    assert predicted.qoi["dissipated_energy"] == pytest.approx(
        relaxed.qoi["dissipated_energy"], rel=1e-4)
    assert np.abs(predicted.series["load_curve"]["energy_error"]).max() < 1e-9


@pytest.mark.slow
def test_local_front_follows_the_mesh_and_the_gradient_front_converges():
    """The fast variant of examples/frictional_slip_study.py (3 levels, h = 0.1, 0.05,
    0.025). Local law: the slip jumps at the front by at least the front slip
    (mu_s - mu_d) p / k_t (the drop has no stable state in between), so its 10-90% width is a
    fraction of the element and halves with h, and the harness says not mesh-independent.
    gamma = 0.1: the width converges to about sqrt(gamma / k_t) and the harness says
    mesh-independent at 2%."""
    from fem_reg.study import grid_convergence
    hs = (0.1, 0.05, 0.025)
    local, gradient = [], []
    for h in hs:
        problem = _pushed_block(h, 0.0)
        result = problem.solve()
        profile = result.series["slip_profile"]
        s, kappa = np.array(profile["slip"]), np.array(profile["accumulated_slip"])
        J = 0.2 * np.array(profile["pressure"]) / 5.0
        front = np.flatnonzero(kappa > 0).max()             # the last slipped node
        assert s[front] >= 0.99 * J[front] and s[front + 1] == 0.0
        local.append(result)
        gradient.append(_pushed_block(h, 0.1).solve())
    widths = [r.qoi["transition_width"] for r in local]
    assert all(w < 0.7 * h for w, h in zip(widths, hs))
    verdict = grid_convergence(hs, widths).verdict(0.02)
    assert not verdict[0]
    smooth = [r.qoi["transition_width"] for r in gradient]
    assert smooth[-1] == pytest.approx(np.sqrt(0.1 / 5.0), rel=0.05)
    assert grid_convergence(hs, smooth).verdict(0.02)[0]
    for r in local + gradient:
        # sliding (almost) everywhere at the end: mu_d times the top load
        assert r.meta["converged"] and r.qoi["residual_force"] == pytest.approx(0.008, 1e-3)
        assert np.abs(r.series["load_curve"]["energy_error"]).max() < 1e-9


# -- failure is reported, nothing lost ------------------------------------------------------
def test_failed_step_keeps_the_converged_steps(caplog):
    problem = _block(D_c=1e-4, gamma=0.0, k_t=1e5, steps=40, max_cuts=3, max_relax=0)
    result = problem.solve()
    assert not result.meta["converged"]
    assert "failed after 3 step cuts" in result.meta["stop"]
    assert result.qoi["steps"] == len(result.history) >= 2
    assert "result holds the last converged state" in caplog.text


# -- quantities -----------------------------------------------------------------------------
def test_transition_width_of_a_ramp():
    x = np.linspace(0.0, 1.0, 101)
    slip = np.clip((x - 0.2) / 0.5, 0.0, 1.0)          # 0 at 0.2, max at 0.7
    assert transition_width(x, slip) == pytest.approx(0.4, abs=1e-12)
    assert transition_width(x[::-1], slip[::-1]) == pytest.approx(0.4, abs=1e-12)
    assert np.isnan(transition_width(x, np.zeros_like(x)))
    assert np.isnan(transition_width(x, np.ones_like(x)))
    # in units of the front's slip: a front of height 0.25 (a quarter of the ramp) on a slip
    # that keeps rising behind it; per-node scales are read node by node
    assert transition_width(x, slip, scale=0.25) == pytest.approx(0.1, abs=1e-12)
    assert transition_width(x, slip, scale=np.full_like(x, 0.25)) == pytest.approx(0.1,
                                                                                  abs=1e-12)
    assert np.isnan(transition_width(x, slip, scale=2.0))          # never reaches 90%
    law = SlipWeakening(0.6, 0.4, 1e-4)
    assert front_slip(law, [0.01, -0.01], 5.0) == pytest.approx([4e-4, 0.0])
    assert front_slip(SlipWeakening(0.5, 0.5), [0.01], 5.0) is None


# -- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("values, match", [
    (dict(mu_d=0.7), "mu_d"),
    (dict(D_c=-1.0), "D_c"),
    (dict(gamma=-1.0), "gamma"),
    (dict(k_t=0.0), "k_t"),
    (dict(load_path=[]), "load_path"),
    (dict(steps=0), "steps"),
    (dict(pressure="computed"), "pressure"),
    (dict(kind="3d"), "kind"),
    (dict(supports={"block_right": "glued"}), "supports.block_right"),
    (dict(supports={"block_right": "fixed_z"}), "supports.block_right: fixed_z: a 2D model"),
    (dict(displacement={"block_left": {"z": 1.0}}), "displacement.block_left"),
    (dict(displacement={}, load_traction={}), "give the load"),
    (dict(probe_at=2.0), "probe_at"),
    (dict(wobble=1), "unknown parameter 'wobble'"),
])
def test_parameter_errors_name_the_culprit(values, match):
    with pytest.raises(ParameterError, match=match):
        _block(**values)


def test_interface_errors():
    with pytest.raises(FemRegError, match="no boundary|unknown"):
        _block(interface="bottom_face")
    mesh = rectangle(0.25)
    mesh = mesh.with_boundaries({"slanted": lambda x: np.isclose(x[0] + 0 * x[1], 0.0)
                                 | np.isclose(x[1], 0.0)}, boundaries_only=True)
    with pytest.raises(MeshError, match="straight line"):
        FrictionalSlip(mesh, interface="slanted", displacement={"slanted": {"x": 1.0}})
    with pytest.raises(MeshError, match="1D line mesh"):
        FrictionalBar(rectangle(0.5), displacement={"right": 1.0})


# -- the command line -----------------------------------------------------------------------
def _case(tmp_path, body):
    path = tmp_path / "case.toml"
    path.write_text(body)
    return path


CASE = """
problem = "frictional_slip"
[mesh]
geometry = "block_on_base"
h = 0.2
width = 2.0
height = 0.5
with_base = false
[parameters]
E = 1.0
nu = 0.25
k_t = 100.0
mu_s = 0.6
mu_d = 0.4
gamma = 0.01
traction = { block_top = [0.0, -0.01] }
displacement = { block_left = { x = 0.02 } }
load_path = [1.0, 0.5]
steps = 5
"""


@pytest.mark.slow
def test_cli_run_writes_the_load_history(tmp_path):
    case = _case(tmp_path, CASE)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "fem_reg.cli", "run", str(case), "--out",
                           str(out), "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["qoi"]["steps"] == 11
    pvd = (out / "case.pvd").read_text()
    assert pvd.count("<DataSet") == 11
    assert (out / "case_load_curve.csv").is_file() and (out / "case_slip_profile.png").is_file()
    import meshio
    step = meshio.read(sorted((out / "case").glob("*.vtu"))[-1])
    assert {"displacement", "slip", "friction", "pressure"} <= set(step.point_data)


@pytest.mark.slow
def test_cli_reports_a_failed_step_and_keeps_the_outputs(tmp_path):
    case = _case(tmp_path, CASE.replace("k_t = 100.0",
                                        "k_t = 1e5\nD_c = 1e-4\nmax_cuts = 2\nmax_relax = 0")
                 .replace("gamma = 0.01", "gamma = 0.0").replace("steps = 5", "steps = 40"))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "fem_reg.cli", "run", str(case), "--out",
                           str(out)], capture_output=True, text=True)
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert "stopped early" in last and "failed after 2 step cuts" in last
    assert (out / "case.pvd").is_file() and (out / "case_load_curve.csv").is_file()


def test_example_case_file_parses():
    from fem_reg.io.case_file import load_case
    case = load_case(Path(__file__).parents[1] / "examples" / "frictional_slip.toml")
    FrictionalSlip.Parameters(**case.parameters)


@pytest.mark.slow
def test_two_body_example_runs_from_the_command_line(tmp_path):
    """The two-body example (coarser, fewer increments): the VTU is on the split mesh, with
    the displacement jump across the interface and the slip on both sides."""
    body = (Path(__file__).parents[1] / "examples" / "frictional_slip_two_bodies.toml") \
        .read_text().replace("h = 0.05", "h = 0.2").replace("steps = 80", "steps = 8")
    case = _case(tmp_path, body)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "fem_reg.cli", "run", str(case), "--out",
                           str(out), "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    import meshio
    final = meshio.read(out / "case.vtu")
    mesh = block_on_base(0.2, width=2.0, height=0.5, base_height=0.25, base_margin=0.25)
    interface = np.unique(mesh.facets[:, mesh.boundaries["interface"]])
    assert len(final.points) == mesh.nvertices + len(interface)
    u, slip = final.point_data["displacement"], final.point_data["slip"]
    copies = mesh.nvertices + np.arange(len(interface))          # the block's side
    jump = u[copies, 0] - u[interface, 0]
    assert np.abs(jump).max() > 0.0 and np.allclose(slip[copies], slip[interface])
    assert np.allclose(u[copies, 1], u[interface, 1], atol=1e-14)


def test_study_rows_count_the_unknowns():
    """The study table's DOFs column: displacement DOFs plus one slip per interface node
    (the demo's friction rows showed 0)."""
    problem, result = _bar(4, gamma=0.01)
    nodes = problem.mesh.nvertices
    assert result.meta["ndofs"] == nodes + result.meta["interface_nodes"] == 2 * nodes
