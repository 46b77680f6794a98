"""3D topology optimization against pyMOTO's geometric-multigrid CG, in the same run.

A cantilever 3 x 1 x 1 on ``3n x n x n`` unit-aspect hexahedra (Q1), clamped at x = 0, a unit
point load in -z at the centre of the far face; SIMP p = 3, Emin = 1e-9, E = 1, nu = 0.3,
volume fraction 0.3, the classic density filter of radius 2 elements, OC with move 0.2. The
same problem in both codes (the first compliance, of the uniform design, is compared: the FE
problems must agree); each then runs its own OC (pyMOTO's bisects on the design variables'
volume, fem_reg's on the filtered densities', so the designs drift apart slowly). A third run
drives pyMOTO's network by fem_reg's OC update: its compliance after N iterations must match
fem_reg's (the same optimization, up to the CG tolerance).

Seconds per iteration are ``(T(N) - T(1)) / (N - 1)`` for each code: the set-up, the first
solve and any one-time analysis are left out of both.

    python benchmarks/topopt_3d.py [--n 20] [--iterations 11]
    python benchmarks/topopt_3d.py --only fem_reg|pymoto    (one code, for outside timing)

pyMOTO is a benchmark-only dependency: ``pip install ".[bench]"`` (or ``pip install pymoto``).
"""

import argparse
import os
import resource
import time
import warnings

import numpy as np

from fem_reg.mesh import cantilever_box
from fem_reg.topopt import TopOpt
from fem_reg.topopt.optimizers import oc_update

VOLUME, RADIUS, MOVE = 0.3, 2.0, 0.2


def pymoto_run(n, iterations, matched=False):
    """pyMOTO 2: the multigrid levels as its own example builds them (halve while the grid
    is even and at least 8 cells wide), CG to 1e-5, optimized by pyMOTO's OC; ``matched``:
    the same network driven by fem_reg's OC update instead (the volume of the filtered
    densities, as fem_reg and the 88-line code constrain), to compare the designs."""
    import pymoto as pym
    nx, ny, nz, h = 3 * n, n, n, 1.0 / n
    domain = pym.VoxelDomain(nx, ny, nz, unitx=h, unity=h, unitz=h)
    nodes = domain.get_nodenumber(*np.meshgrid(0, range(ny + 1), range(nz + 1))).flatten()
    clamped = np.concatenate([3 * nodes + c for c in range(3)])
    force = np.zeros(3 * domain.nnodes)
    force[3 * domain.get_nodenumber(nx, ny // 2, nz // 2) + 2] = -1.0
    x = pym.Signal("x", state=np.full(domain.nel, VOLUME))
    first = []
    with pym.Network() as network:
        filtered = pym.DensityFilter(domain, radius=RADIUS)(x)
        stiffness = pym.MathGeneral("1e-9 + (1 - 1e-9) * inp0^3")(filtered)
        K = pym.AssembleStiffness(domain, bc=clamped, e_modulus=1.0, poisson_ratio=0.3)(stiffness)
        levels = [pym.solvers.GeometricMultigrid(domain)]
        while all(k % 2 == 0 for k in levels[-1].sub_domain.size) and \
                min(levels[-1].sub_domain.size) >= 8:
            levels.append(pym.solvers.GeometricMultigrid(levels[-1].sub_domain))
            levels[-2].inner_level = levels[-1]
        u = pym.LinSolve(hermitian=True, solver=pym.solvers.CG(preconditioner=levels[0],
                                                               tol=1e-5))(K, force)
        compliance = pym.EinSum("i,i->")(u, force)
        volume = pym.EinSum("i->")(filtered)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        network.response()
        first.append(float(compliance.state))
        if matched:
            for _ in range(iterations - 1):
                dc, dv = (_gradient(network, x, response) for response in (compliance, volume))
                x.state = oc_update(x.state, dc, dv / domain.nel,
                                    float(volume.state) / domain.nel - VOLUME, MOVE)
                network.response()
        else:
            pym.minimize_oc(x, compliance, function=network, maxit=iterations, move=MOVE,
                            maxvol=VOLUME, verbosity=0)
    return time.perf_counter() - start, first[0], float(compliance.state), len(levels)


def _gradient(network, x, response):
    """d response / d x by pyMOTO's back-propagation."""
    network.reset()
    response.sensitivity = 1.0
    network.sensitivity()
    gradient = np.array(x.sensitivity)
    network.reset()
    return gradient


def fem_reg_run(n, iterations, solver="auto"):
    mesh = cantilever_box(h=1.0 / n, length=3.0, width=1.0, height=1.0,
                          cell_type="hexahedron", structured=True)
    problem = TopOpt(mesh, volume_fraction=VOLUME, filter="density",
                     filter_radius=RADIUS / n, optimizer="oc", move=MOVE,
                     supports={"clamped": "clamped"},
                     point_loads=[{"at": [3.0, 0.5, 0.5], "force": [0.0, 0.0, -1.0]}],
                     max_iterations=iterations, history_every=0, solver=solver)
    start = time.perf_counter()
    result = problem.solve()
    table = result.series["convergence"]
    return (time.perf_counter() - start, table["compliance"][0], table["compliance"][-1],
            result.meta["solver"], int(np.mean(table["cg_iterations"])))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[20])
    parser.add_argument("--iterations", type=int, default=11)
    parser.add_argument("--solver", default="auto", help="fem_reg's solver")
    parser.add_argument("--skip-pymoto", action="store_true")
    parser.add_argument("--only", choices=["pymoto", "fem_reg"],
                        help="run one code for --iterations and exit (for whole-process "
                             "timing from outside)")
    args = parser.parse_args(argv)
    if args.only:
        run = pymoto_run if args.only == "pymoto" else fem_reg_run
        for n in args.n:
            print(args.only, n, run(n, args.iterations))
        return
    N = args.iterations
    print(f"# {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; seconds per iteration "
          f"= (T({N}) - T(1)) / {N - 1}")
    print("| grid | unknowns | pyMOTO s/it | fem_reg s/it (solver, CG its) | ratio | "
          "first c: pyMOTO / fem_reg | c after N: pyMOTO / fem_reg | c after N, pyMOTO "
          "driven by fem_reg's OC / fem_reg |")
    print("|---|---|---|---|---|---|---|---|")
    for n in args.n:
        one, many = fem_reg_run(n, 1, args.solver), fem_reg_run(n, N, args.solver)
        ours = (many[0] - one[0]) / (N - 1)
        unknowns = 3 * (3 * n + 1) * (n + 1) ** 2 - 3 * (n + 1) ** 2
        if args.skip_pymoto:
            print(f"| {3 * n}x{n}x{n} | {unknowns:,} | - | {ours:.3f} ({many[3]}, {many[4]}) "
                  f"| - | - / {many[1]:.4f} | - / {many[2]:.4f} | - |", flush=True)
            continue
        p_one, p_many = pymoto_run(n, 1), pymoto_run(n, N)
        theirs = (p_many[0] - p_one[0]) / (N - 1)
        agree = abs(p_many[1] / many[1] - 1.0)
        matched = pymoto_run(n, N, matched=True)[2]
        print(f"| {3 * n}x{n}x{n} | {unknowns:,} | {theirs:.3f} ({p_many[3]} levels) | "
              f"{ours:.3f} ({many[3]}, {many[4]}) | {theirs / ours:.1f}x | "
              f"{p_many[1]:.4f} / {many[1]:.4f} ({100 * agree:.1e}%) | "
              f"{p_many[2]:.4f} / {many[2]:.4f} | {matched:.4f} / {many[2]:.4f} "
              f"({100 * abs(matched / many[2] - 1.0):.1e}%) |", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    print(f"# peak RSS {peak:.2f} GB, load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
