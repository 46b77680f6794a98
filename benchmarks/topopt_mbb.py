"""Time per iteration of fem_reg's topology optimization against a plain vectorized
numpy/scipy transcription of the 88-line code (benchmarks/top88.py), in the same run.

MBB half-beam, volfrac 0.5, penal 3, the classic density filter (ft = 2 / filter =
"density") of radius 1.5 elements (the radius scales with the element size), OC, at
60x20, 150x50, 300x100 and 600x200 elements. Both codes run the same number of iterations
(to convergence on the two smaller grids); the compliances are compared at that iteration.

    python benchmarks/topopt_mbb.py [--sizes 60 150 300 600] [--iterations N ...]

Prints one row per size: seconds per iteration of each, the ratio, both compliances and
their relative difference.
"""

import argparse
import os
import sys
import time


sys.path.insert(0, os.path.dirname(__file__))
import top88  # noqa: E402

from fem_reg.fe import has_pardiso  # noqa: E402
from fem_reg.mesh import mbb_beam  # noqa: E402
from fem_reg.topopt import TopOpt  # noqa: E402

ITERATIONS = {60: 1000, 150: 1000, 300: 40, 600: 12}


def fem_reg_run(nelx, iterations, solver):
    h = 60.0 / nelx
    start = time.perf_counter()
    mesh = mbb_beam(h=h, load_width=h, support_width=h, cell_type="quad", structured=True)
    problem = TopOpt(mesh, filter="density", filter_radius=1.5 * h, optimizer="oc",
                     supports={"symmetry": "fixed_x"},
                     point_supports=[{"at": [60.0, 0.0], "fixed": "y"}],
                     point_loads=[{"at": [0.0, 20.0], "force": [0.0, -1.0]}],
                     max_iterations=iterations, history_every=0, solver=solver)
    setup = time.perf_counter() - start
    result = problem.solve()
    return {"c": result.qoi["compliance"], "iterations": int(result.qoi["iterations"]),
            "seconds_per_iteration": result.meta["seconds_per_iteration"], "setup": setup,
            "solver": result.meta["solver"], "uniform": problem.stiffness.uniform}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[60, 150, 300, 600])
    parser.add_argument("--solver", default="auto", help="fem_reg solver: auto/direct/amg")
    args = parser.parse_args(argv)
    print(f"# fem_reg direct solver: {'PARDISO' if has_pardiso() else 'SuperLU'}; "
          f"baseline: scipy spsolve (SuperLU); {os.cpu_count()} cores")
    print("| grid | iterations | baseline s/it | fem_reg s/it (solver) | ratio | "
          "c baseline | c fem_reg | rel. diff |")
    print("|---|---|---|---|---|---|---|---|")
    for nelx in args.sizes:
        nely = nelx // 3
        cap = ITERATIONS.get(nelx, 20)
        base = top88.top88(nelx, nely, 0.5, 3.0, 1.5, ft=2, max_iterations=cap)
        ours = fem_reg_run(nelx, base["iterations"], args.solver)
        ratio = base["seconds_per_iteration"] / ours["seconds_per_iteration"]
        diff = abs(ours["c"] - base["c"]) / base["c"]
        print(f"| {nelx}x{nely} | {base['iterations']} / {ours['iterations']} | "
              f"{base['seconds_per_iteration']:.3f} | {ours['seconds_per_iteration']:.3f} "
              f"({ours['solver']}) | {ratio:.1f}x | {base['c']:.3f} | {ours['c']:.3f} | "
              f"{100 * diff:.3f}% |", flush=True)


if __name__ == "__main__":
    main()
