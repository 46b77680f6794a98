"""Phase-field fracture against its 1D closed forms: the optimal crack profile and its
fracture energy Gc (AT1, AT2), and the homogeneous solution's stress-strain curve and
critical stress (Pham et al. 2011; Tanne et al. 2018)."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from skfem import Basis, BilinearForm, ElementLineP1, MeshLine1
from skfem.helpers import dot, grad

from fem_reg.errors import ParameterError, SolverError
from fem_reg.fracture import (PhaseField, critical_stress, crack_profile, homogeneous_stress,
                              minimize_bounded)

GC, LENGTH = 2.7e-3, 0.015


def half_crack(model, h, extent=10.0):
    """The damage on [0, extent * l] with d(0) = 1, no elastic energy: half a crack."""
    field = PhaseField(GC, LENGTH, model)
    mesh = MeshLine1.init_tensor(np.linspace(0.0, extent * LENGTH, int(round(extent * LENGTH / h)) + 1))
    basis = Basis(mesh, ElementLineP1())
    A, b = field.damage_system(basis, 0.0)
    lower = np.zeros(basis.N)
    lower[0] = 1.0
    d, _ = minimize_bounded(A, b, lower, 1.0)
    return field, basis, mesh.p[0], d


@pytest.mark.parametrize("model", ["AT1", "AT2"])
def test_optimal_profile_and_its_fracture_energy(model):
    """The computed half crack is the closed-form profile and its energy is Gc / 2, with
    the energy error falling at second order (P1)."""
    errors = []
    for h in (LENGTH / 4, LENGTH / 8, LENGTH / 16):
        field, basis, x, d = half_crack(model, h)
        errors.append(abs(field.fracture_energy(basis, d) - GC / 2))
        assert np.abs(d - crack_profile(x, LENGTH, model)).max() < 0.05
    assert errors[-1] < 2e-3 * GC
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert (orders > 1.8).all(), orders
    if model == "AT1":              # the support ends at 2 l: the lower bound is active there
        field, basis, x, d = half_crack(model, LENGTH / 16)
        assert (d[x > 2.05 * LENGTH] == 0.0).all() and (d[x < 1.9 * LENGTH] > 0).all()


@pytest.mark.parametrize("model", ["AT1", "AT2"])
def test_homogeneous_bar_follows_the_closed_form_and_peaks_at_sigma_c(model):
    """A bar pulled at one end: alternate minimization (displacement, then damage under
    irreversibility) at each strain gives the homogeneous solution's stress; its peak is
    sigma_c (AT2: damage from the first load; AT1: elastic up to the peak)."""
    E = 210.0
    field = PhaseField(GC, LENGTH, model, residual=0.0)
    # a bar shorter than l: its homogeneous state stays stable after the peak (Pham et al.
    # 2011; a long bar localizes into a crack there)
    span = 0.5 * LENGTH
    mesh = MeshLine1.init_tensor(np.linspace(0.0, span, 21))
    basis = Basis(mesh, ElementLineP1())
    # the strain at the peak: AT1 where damage starts, AT2 at sqrt(Gc / (3 E l))
    peak = critical_stress(E, GC, LENGTH, model) / E if model == "AT1" else \
        np.sqrt(GC / (3.0 * E * LENGTH))
    strains = np.linspace(0.0, 2.0, 401)[1:] * peak
    d = np.zeros(basis.N)
    stresses = []
    for strain in strains:
        for _ in range(200):
            g = basis.interpolate(field.degradation(d))

            @BilinearForm
            def stiffness(u, v, w):
                return E * w.g * dot(grad(u), grad(v))

            K = stiffness.assemble(basis, g=g)
            u = np.zeros(basis.N)
            u[-1] = strain * span
            free = np.arange(1, basis.N - 1)
            u[free] = spla.spsolve(K[free][:, free].tocsc(), -K[free][:, [0, basis.N - 1]]
                                   @ u[[0, basis.N - 1]])
            psi = 0.5 * E * basis.interpolate(u).grad[0] ** 2
            A, b = field.damage_system(basis, psi)
            new, _ = minimize_bounded(A, b, d, 1.0, x0=d)
            change, d = np.abs(new - d).max(), new
            if change < 1e-10:
                break
        stresses.append((K @ u)[-1])
    stresses = np.array(stresses)
    expected = homogeneous_stress(strains, E, GC, LENGTH, model)
    assert np.abs(stresses - expected).max() <= 1e-6 * expected.max()
    sigma_c = critical_stress(E, GC, LENGTH, model)
    assert stresses.max() == pytest.approx(sigma_c, rel=1e-3)
    assert np.ptp(d) < 1e-9                      # homogeneous
    assert d.max() > 0.0


def test_bounded_minimization_checks_its_input():
    with pytest.raises(ParameterError, match="bounds cross at variable 1"):
        minimize_bounded(np.eye(2), np.zeros(2), [0.0, 1.0], [1.0, 0.5])
    with pytest.raises(SolverError, match="non-positive diagonal"):
        minimize_bounded(np.diag([1.0, 0.0]), np.zeros(2), 0.0, 1.0)


def test_bounded_minimization_meets_the_kkt_conditions():
    """On a random SPD M-matrix-like problem: feasibility, and the gradient vanishes on the
    free variables and points out of the box at the active bounds."""
    rng = np.random.default_rng(0)
    n = 60
    A = np.diag(np.full(n, 4.0)) - np.diag(np.ones(n - 1), 1) - np.diag(np.ones(n - 1), -1)
    b = rng.normal(0.0, 3.0, n)
    x, steps = minimize_bounded(A, b, -0.5, 0.5)
    gradient = A @ x - b
    assert (x >= -0.5).all() and (x <= 0.5).all() and steps < 20
    inside = (x > -0.5) & (x < 0.5)
    assert np.abs(gradient[inside]).max() < 1e-10
    assert (gradient[x == -0.5] >= -1e-12).all() and (gradient[x == 0.5] <= 1e-12).all()
    assert inside.any() and (~inside).any()


def test_the_fallback_for_cycling_active_sets_finds_the_same_minimizer():
    """When the active sets cycle (possible when A is not an M-matrix, as on obtuse
    triangles) L-BFGS-B finishes; on a dense SPD problem with positive off-diagonal entries
    it finds the active-set method's minimizer, meeting the KKT conditions."""
    from fem_reg.fracture.bounded import _quasi_newton
    rng = np.random.default_rng(7)
    n = 40
    B = rng.standard_normal((n, n))
    A = B @ B.T + 0.5 * n * np.eye(n) * 0.05
    b = rng.normal(0.0, 5.0, n)
    exact, _ = minimize_bounded(A, b, 0.0, 1.0)
    x = _quasi_newton(sp.csr_matrix(A), b, np.zeros(n), np.ones(n), np.full(n, 0.5))
    assert np.abs(x - exact).max() < 1e-6
    gradient = A @ x - b
    inside = (x > 0.0) & (x < 1.0)
    scale = np.abs(b).max()
    assert (x >= 0).all() and (x <= 1).all()
    assert np.abs(gradient[inside]).max() < 1e-6 * scale
    assert (gradient[x == 0.0] >= -1e-6 * scale).all()
    assert (gradient[x == 1.0] <= 1e-6 * scale).all()


@pytest.mark.parametrize("model", ["AT1", "AT2"])
def test_length_sweep_peak_load_scales_as_sigma_c(model):
    """Nucleation in a plane-strain strip with nu = 0 pulled uniformly (the 1D homogeneous
    problem in 2D): the peak force is sigma_c(l) times the section for every l, so it
    falls as l^(-1/2) (the fitted log-log slope). Step 50 of 60 lands on the peak strain."""
    from fem_reg.mesh import rectangle
    from fem_reg.fracture import PhaseFieldFracture
    mesh = rectangle(0.25, width=1.0, height=0.5, structured=True)   # homogeneous: exact
    lengths, peaks = np.array([0.01, 0.02, 0.04, 0.08]), []
    for length in lengths:
        sigma_c = critical_stress(210.0, GC, length, model)
        strain_c = sigma_c / 210.0 * (16.0 / 9.0 if model == "AT2" else 1.0)   # (1 - d)^2
        run = PhaseFieldFracture(mesh, E=210.0, nu=0.0, Gc=GC, length=length, model=model,
                                 supports={"bottom": "fixed_y", "left": "fixed_x"},
                                 displacement=1.2 * strain_c * 0.5, steps=60,
                                 max_cuts=0, history_every=0).solve()
        peaks.append(run.qoi["peak_force"])
        assert run.qoi["peak_force"] == pytest.approx(sigma_c * 1.0, rel=1e-4)
    slope = np.polyfit(np.log(lengths), np.log(peaks), 1)[0]
    assert slope == pytest.approx(-0.5, abs=1e-4)


@pytest.mark.parametrize("model, split", [("AT1", "none"), ("AT2", "none"),
                                          ("AT2", "spectral"),
                                          ("AT1", "volumetric_deviatoric")])
def test_monolithic_newton_peaks_at_sigma_c(model, split):
    """``scheme = "newton"`` on the homogeneous strip: the same closed-form peak, each step
    converged by Newton steps nearly alone (AT1 falls back to an alternate-minimization
    pass twice, where its damage sets in at the peak). With nu = 0 (lambda = 0) both
    splits degrade all of the uniaxial tension."""
    from fem_reg.mesh import rectangle
    from fem_reg.fracture import PhaseFieldFracture
    mesh = rectangle(0.25, width=1.0, height=0.5, structured=True)
    length = 0.02
    sigma_c = critical_stress(210.0, GC, length, model)
    strain_c = sigma_c / 210.0 * (16.0 / 9.0 if model == "AT2" else 1.0)
    problem = PhaseFieldFracture(mesh, E=210.0, nu=0.0, Gc=GC, length=length, model=model,
                                 split=split, supports={"bottom": "fixed_y", "left": "fixed_x"},
                                 displacement=strain_c * 0.5, steps=50, max_cuts=0,
                                 history_every=0, scheme="newton")
    run = problem.solve()
    assert run.qoi["peak_force"] == pytest.approx(sigma_c * 1.0, rel=1e-4)
    counts = run.meta["newton"]
    assert counts["newton"] >= 10 * max(counts["fallback"], 1)


@pytest.mark.parametrize("model, split, scheme", [("AT1", "none", "alternate"),
                                                   ("AT2", "spectral", "alternate"),
                                                   ("AT2", "none", "newton"),
                                                   ("AT2", "spectral", "newton")])
def test_tetrahedral_bar_peaks_at_sigma_c(model, split, scheme):
    """3D: a bar of tetrahedra with nu = 0 pulled along x (the 1D homogeneous problem; with
    lambda = 0 the spectral split degrades all of a uniaxial tension) peaks at sigma_c
    times its section, whichever split and scheme."""
    from skfem import MeshTet
    from fem_reg.fracture import PhaseFieldFracture
    mesh = MeshTet.init_tensor(np.linspace(0.0, 1.0, 4), np.linspace(0.0, 0.5, 3),
                               np.linspace(0.0, 0.5, 3)).with_boundaries({
        "left": lambda x: np.isclose(x[0], 0.0), "right": lambda x: np.isclose(x[0], 1.0),
        "bottom": lambda x: np.isclose(x[1], 0.0), "back": lambda x: np.isclose(x[2], 0.0)})
    length = 0.02
    sigma_c = critical_stress(210.0, GC, length, model)
    strain_c = sigma_c / 210.0 * (16.0 / 9.0 if model == "AT2" else 1.0)
    run = PhaseFieldFracture(mesh, E=210.0, nu=0.0, kind="3d", Gc=GC, length=length,
                             model=model, split=split, scheme=scheme,
                             supports={"left": "fixed_x", "bottom": "fixed_y",
                                       "back": "fixed_z"},
                             loaded="right", direction="x", displacement=strain_c,
                             steps=50, max_cuts=0, history_every=0).solve()
    assert run.qoi["peak_force"] == pytest.approx(sigma_c * 0.25, rel=1e-4)
    assert run.meta["cells"] == mesh.nelements and mesh.dim() == 3


def test_anderson_acceleration_of_a_slow_fixed_point_iteration():
    """x = M x + c with a contraction rate of 0.995 (a crack-run's slow staggered scheme):
    the plain iteration needs thousands of passes, Anderson acceleration a tenth of them, and
    both end at the solution of (I - M) x = c; with bounds the accelerated iterates stay
    in the box and reach the projected fixed point."""
    from fem_reg.fracture.anderson import Anderson
    rng = np.random.default_rng(3)
    n = 50
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    M = Q @ np.diag(np.linspace(0.0, 0.995, n)) @ Q.T
    c = rng.standard_normal(n)
    exact = np.linalg.solve(np.eye(n) - M, c)

    def passes(depth, lower=-np.inf, upper=np.inf):
        accelerated, x = Anderson(depth), np.zeros(n)
        for k in range(1, 20_000):
            g = np.clip(M @ x + c, lower, upper)
            if np.abs(g - x).max() < 1e-10:
                return k, g
            x = accelerated.next(x, g, lower, upper)
            assert (x >= lower).all() and (x <= upper).all()
        raise AssertionError("no convergence")

    plain, x_plain = passes(0)
    fast, x_fast = passes(5)
    assert plain > 2000 and fast < 0.1 * plain
    assert np.abs(x_fast - exact).max() < 1e-7 * np.abs(exact).max()
    assert np.abs(x_plain - exact).max() < 1e-6 * np.abs(exact).max()
    # the projected fixed point x = clip(M x + c) of the box problem
    box = 0.5 * np.abs(exact).max()
    k_plain, y_plain = passes(0, -box, box)
    k_fast, y_fast = passes(5, -box, box)
    assert k_fast < k_plain
    assert np.abs(y_fast - y_plain).max() < 1e-6 * box
    assert np.abs(y_fast - np.clip(M @ y_fast + c, -box, box)).max() < 1e-9


def test_the_reduced_solve_falls_back_to_a_factorization(monkeypatch):
    """The reduced systems are solved by Jacobi-preconditioned CG; when CG stops short of its
    tolerance a factorization solves them: the minimizer is the same either way."""
    from fem_reg.fracture import bounded
    rng = np.random.default_rng(5)
    n = 200
    A = sp.diags([-1.0, 2.05, -1.0], [-1, 0, 1], shape=(n, n)).tocsr()
    b = rng.normal(0.0, 0.2, n)
    by_cg, _ = minimize_bounded(A, b, 0.0, 1.0)
    calls = []
    real = bounded.factorize_spd
    monkeypatch.setattr(bounded, "CG_ITERATIONS", 2)
    monkeypatch.setattr(bounded, "factorize_spd", lambda M: calls.append(M.shape) or real(M))
    by_factor, _ = minimize_bounded(A, b, 0.0, 1.0)
    assert calls and np.abs(by_factor - by_cg).max() < 1e-9
    gradient = A @ by_cg - b
    inside = (by_cg > 0.0) & (by_cg < 1.0)
    assert inside.any() and np.abs(gradient[inside]).max() < 1e-10
