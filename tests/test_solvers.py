"""Linear solvers: the methods agree with a closed-form solution; singular systems and bad
input raise errors that say what is wrong."""

import os

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from skfem import Basis, FacetBasis, LinearForm

from fem_reg.errors import ParameterError, SingularSystemError, SolverError
from fem_reg.fe import (Material, elasticity_form, gradient_penalty, has_pardiso, lagrange,
                        load_form, rigid_body_modes, solve_constrained, solve_linear)
from fem_reg.mesh import boundary, cantilever, cantilever_box, rectangle, refine

METHODS = ["superlu", "amg", "direct", "auto"] + (["pardiso"] if has_pardiso() else [])


def poisson(mesh):
    """-lap u = 2 pi^2 sin(pi x) sin(pi y), u = 0 on the boundary of the unit square."""
    basis = Basis(mesh, lagrange(mesh, 1))
    A = gradient_penalty(1.0).assemble(basis)
    b = LinearForm(lambda v, w: 2 * np.pi ** 2 * np.sin(np.pi * w.x[0])
                   * np.sin(np.pi * w.x[1]) * v).assemble(basis)
    return basis, A, b


@pytest.mark.parametrize("method", METHODS)
def test_methods_agree_on_poisson(method):
    basis, A, b = poisson(refine(rectangle(h=0.1), 2))
    fixed = basis.get_dofs().all()
    u, info = solve_constrained(A, b, fixed, method=method, return_info=True)
    exact = np.sin(np.pi * basis.doflocs[0]) * np.sin(np.pi * basis.doflocs[1])
    assert np.abs(u - exact).max() < 5e-3                    # discretization error only
    reference = solve_constrained(A, b, fixed, method="superlu")
    assert np.abs(u - reference).max() < 1e-7
    assert info["residual"] < 1e-8 and info["method"] in ("superlu", "pardiso", "amg")


def test_auto_switches_to_amg_above_the_limit():
    basis, A, b = poisson(rectangle(h=0.05))
    fixed = basis.get_dofs().all()
    _, small = solve_constrained(A, b, fixed, method="auto", return_info=True)
    _, large = solve_constrained(A, b, fixed, method="auto", direct_limit=10,
                                 return_info=True)
    assert small["method"] in ("superlu", "pardiso") and large["method"] == "amg"
    assert large["iterations"] > 0


def cantilever_system():
    mesh = cantilever(h=0.1)
    basis = Basis(mesh, lagrange(mesh, 1, vector=True))
    K = elasticity_form(Material(1.0, 0.3)).assemble(basis)
    f = load_form([0.0, -1.0]).assemble(FacetBasis(mesh, basis.elem,
                                                   facets=boundary(mesh, "tip")))
    return mesh, basis, K, f


@pytest.mark.parametrize("method", ["superlu", "amg"])
def test_elasticity_with_rigid_modes_as_near_null_space(method):
    mesh, basis, K, f = cantilever_system()
    modes, names = rigid_body_modes(basis)
    clamped = basis.get_dofs(boundary(mesh, "clamped")).all()
    u = solve_constrained(K, f, clamped, method=method, near_null_space=modes,
                          mode_names=names, rtol=1e-12)
    reference = solve_constrained(K, f, clamped, method="superlu")
    assert np.abs(u - reference).max() < 1e-8 * np.abs(reference).max()


def test_rigid_body_modes_are_zero_energy():
    for mesh in (rectangle(h=0.3), cantilever_box(h=0.5)):
        basis = Basis(mesh, lagrange(mesh, 1, vector=True))
        kind = "3d" if mesh.dim() == 3 else "plane_stress"
        K = elasticity_form(Material(1.0, 0.3, kind)).assemble(basis)
        modes, names = rigid_body_modes(basis)
        assert modes.shape[1] == (3 if mesh.dim() == 2 else 6) == len(names)
        assert np.abs(K @ modes).max() < 1e-10
        assert np.linalg.matrix_rank(modes) == modes.shape[1]


@pytest.mark.parametrize("method", ["superlu", "amg"])
def test_missing_supports_are_reported(method):
    mesh, basis, K, f = cantilever_system()
    modes, names = rigid_body_modes(basis)
    with pytest.raises(SingularSystemError, match="translation x, translation y, rotation "
                                                  "about z not restrained"):
        solve_linear(K, f, method=method, near_null_space=modes, mode_names=names)
    # a roller on the clamped edge (x fixed only): vertical translation stays free
    rollers = basis.get_dofs(boundary(mesh, "clamped")).nodal["u^1"]
    with pytest.raises(SingularSystemError, match="translation y not restrained"):
        solve_constrained(K, f, rollers, method=method, near_null_space=modes,
                          mode_names=names)
    # the (modes, names) pair as rigid_body_modes returns it is accepted as is
    with pytest.raises(SingularSystemError, match="translation y not restrained"):
        solve_constrained(K, f, rollers, method=method,
                          near_null_space=rigid_body_modes(basis))


def test_singular_without_known_null_space_is_detected():
    basis, A, b = poisson(rectangle(h=0.2))      # pure Neumann: constants in the kernel
    with pytest.raises(SingularSystemError, match="singular"):
        solve_linear(A, b, method="superlu")
    with pytest.raises(SingularSystemError):
        solve_linear(sp.csr_matrix(np.zeros((3, 3))), np.ones(3), method="superlu")


def test_amg_iteration_limit():
    # large enough for a real hierarchy (below 500 unknowns AMG is a coarse direct solve)
    basis, A, b = poisson(rectangle(h=0.02))
    fixed = basis.get_dofs().all()
    with pytest.raises(SolverError, match="did not converge in 1 iterations"):
        solve_constrained(A, b, fixed, method="amg", maxiter=1, rtol=1e-14)


def test_bad_arguments():
    A = sp.identity(3, format="csr")
    with pytest.raises(ParameterError, match="method must be one of"):
        solve_linear(A, np.ones(3), method="lu")
    with pytest.raises(ParameterError, match=r"b must have shape \(3,\)"):
        solve_linear(A, np.ones(4))
    with pytest.raises(ParameterError, match="must be a scipy sparse matrix"):
        solve_linear(np.eye(3), np.ones(3))
    with pytest.raises(ParameterError, match="non-finite"):
        solve_linear(A, np.array([1.0, np.nan, 0.0]))
    assert np.array_equal(solve_linear(A, np.zeros(3)), np.zeros(3))


def test_condensation_reproduces_the_full_solve():
    """Static condensation of a cantilever onto its clamped edge and a few loaded DOFs: the
    reduced system, solved and lifted, gives the full solve's displacement and reactions."""
    from fem_reg.fe.static_condensation import StaticCondensation
    mesh = cantilever(h=0.25)
    basis = Basis(mesh, lagrange(mesh, 1, vector=True))
    K = elasticity_form(Material(1.0, 0.3, "plane_stress")).assemble(basis).tocsr()
    clamped = basis.get_dofs(boundary(mesh, "clamped")).all()
    rng = np.random.default_rng(3)
    f = rng.standard_normal(K.shape[0])              # loads everywhere, also condensed DOFs
    f[clamped] = 0.0
    extra = rng.choice(np.setdiff1d(np.arange(K.shape[0]), clamped), 5, replace=False)
    retained = np.concatenate((clamped, extra))
    full = solve_constrained(K, f, clamped)
    condensed = StaticCondensation(K, retained)
    local = np.searchsorted(condensed.retained, extra)
    S, g = condensed.matrix, condensed.load(f)
    u_r = np.zeros(len(condensed.retained))
    u_r[local] = np.linalg.solve(S[np.ix_(local, local)], g[local])
    u = condensed.lift(u_r, f)
    assert np.abs(u - full).max() <= 1e-10 * np.abs(full).max()
    reactions = (K @ full - f)[condensed.retained]
    assert np.abs(S @ u_r - g - reactions).max() <= 1e-9 * np.abs(f).max()
    assert np.allclose(S, S.T)
    with pytest.raises(SingularSystemError):
        StaticCondensation(K, extra[:1])                   # the rest floats: rigid-body modes


def _resident_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def test_repeated_large_direct_solves_do_not_leak():
    """SuperLU frees a factor only in the thread that made it (scipy issue 15921); the
    factorizations above THREAD_ABOVE unknowns run in a helper thread and leaked ~23 MB each
    at this size, which killed a phase-field run for memory. Forty solves now stay flat."""
    from fem_reg.fe.solvers import _solve_superlu
    from fem_reg.resources import THREAD_ABOVE
    n = 160
    T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
    A = (sp.kron(T, sp.eye(n)) + sp.kron(sp.eye(n), T)).tocsr()
    assert A.shape[0] > THREAD_ABOVE
    b = np.ones(A.shape[0])
    for _ in range(5):
        _solve_superlu(A, b)
    before = _resident_mb()
    for _ in range(40):
        x = _solve_superlu(A, b)
    assert _resident_mb() - before < 200.0              # the leak: about 900 MB
    assert np.linalg.norm(A @ x - b) < 1e-8 * np.linalg.norm(b)


def test_reused_factorization_solves_nearby_systems_by_preconditioned_cg():
    """A sequence of nearby SPD systems (a stiffness whose cell weights creep): every
    solution equals a direct solve; one factorization serves the small changes, and a large
    change (CG beyond its iteration limit) is factorized afresh."""
    from fem_reg.fe.solvers import ReusedFactorization
    n = 40
    T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
    laplacian = (sp.kron(T, sp.eye(n)) + sp.kron(sp.eye(n), T)).tocsr()
    rng = np.random.default_rng(11)
    b = rng.standard_normal(n * n)
    solver = ReusedFactorization(max_iterations=30)
    weights = np.ones(n * n)
    for step in range(6):
        weights *= 1.0 + 0.01 * rng.random(n * n)          # 1% per step
        A = (laplacian + sp.diags(weights)).tocsr()
        x = solver.solve(A, b)
        exact = spla.spsolve(A.tocsc(), b)
        assert np.linalg.norm(x - exact) < 1e-8 * np.linalg.norm(exact)
    assert solver.factorizations == 1 and solver.iterations > 0
    A = (laplacian + sp.diags(1e3 * rng.random(n * n))).tocsr()
    x = solver.solve(A, b)
    assert np.linalg.norm(A @ x - b) < 1e-9 * np.linalg.norm(b)
    assert solver.factorizations == 2


@pytest.mark.parametrize("scope", ["held", "dropped"])
def test_a_factor_at_exit_does_not_break_the_exit_status(scope):
    """A process ending with a helper-thread factor still held (a fracture run's reused
    factorization) exited with status 120: the factor was freed while the interpreter was
    torn down and stdout's final flush failed. So did one whose solver was dropped just
    before the exit (the helper still freeing its factor). Held factors are freed, and the
    helpers still freeing are waited for, before finalization."""
    import subprocess
    import sys
    setup = (
        "import numpy as np, scipy.sparse as sp\n"
        "from fem_reg.fe.solvers import ReusedFactorization\n"
        "T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(160, 160))\n"
        "A = (sp.kron(T, sp.eye(160)) + sp.kron(sp.eye(160), T)).tocsr()\n")
    if scope == "held":
        script = setup + ("solver = ReusedFactorization()\n"
                          "print(solver.solve(A, np.ones(A.shape[0]))[0])\n")
    else:
        script = setup + ("def main():\n"
                          "    solver = ReusedFactorization()\n"
                          "    for shift in (0.0, 1.0, 2.0):\n"
                          "        x = solver.solve(A + shift * sp.eye(A.shape[0]), "
                          "np.ones(A.shape[0]))\n"
                          "        solver._rented = solver.budget + 1\n"
                          "    print(x[0])\n"
                          "main()\n")
    for _ in range(3 if scope == "dropped" else 1):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0 and done.stderr == "", (done.returncode, done.stderr)
        assert float(done.stdout) > 0.0


def test_one_blas_thread_limits_the_blas_inside_and_restores_it_after():
    """The friction, fracture and multigrid solves run with one BLAS thread (two made a
    15k-triangle friction level 5.6x slower here); the caller's setting comes back."""
    from threadpoolctl import threadpool_info
    from fem_reg.fe.solvers import one_blas_thread

    def blas_threads():
        return [pool["num_threads"] for pool in threadpool_info()
                if pool["user_api"] == "blas"]

    before = blas_threads()
    inside = one_blas_thread(blas_threads)()
    assert inside and all(n == 1 for n in inside)
    assert blas_threads() == before
