"""Large topology optimization runs on this machine: a 2D MBB half-beam with about 1,000,000
quadrilaterals and a 3D cantilever with more than 100,000 tetrahedra. Prints the set-up time,
the seconds per iteration (mean over the iterations after the first, which includes the
solver's one-time analysis) and the solver used.

    python benchmarks/topopt_large.py [--which 2d 3d] [--iterations 6] [--solver auto]
        [--h3d 0.045] [--refine3d 0] [--filter3d helmholtz|density] [--radius3d 0.15]
"""

import argparse
import resource
import time

import numpy as np

from fem_reg.mesh import cantilever_box, mbb_beam, refine
from fem_reg.topopt import TopOpt


def report(name, mesh, problem, setup):
    start = time.perf_counter()
    result = problem.solve()
    total = time.perf_counter() - start
    table = result.series["convergence"]
    seconds = np.asarray(table["seconds"])
    later = seconds[1:] if seconds.size > 1 else seconds
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    print(f"| {name} | {mesh.nelements:,} | {problem.stiffness.nfree:,} | {setup:.1f} | "
          f"{seconds[0]:.2f} | {later.mean():.2f} | {result.meta['solver']} | "
          f"{int(np.mean(table['cg_iterations']))} | "
          f"{table['compliance'][0]:.4g} -> {table['compliance'][-1]:.4g} | {peak:.1f} |",
          flush=True)
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--which", nargs="+", default=["2d", "3d"])
    parser.add_argument("--iterations", type=int, default=6)
    parser.add_argument("--solver", default="auto")
    parser.add_argument("--nx", type=int, default=1732, help="2D: elements along the beam")
    parser.add_argument("--h3d", type=float, default=0.045, help="3D: element size")
    parser.add_argument("--filter3d", default="helmholtz", choices=["helmholtz", "density"],
                        help="3D: the filter")
    parser.add_argument("--radius3d", type=float, default=0.15, help="3D: filter radius")
    parser.add_argument("--refine3d", type=int, default=0,
                        help="3D: uniform refinements of the mesh of size --h3d (the "
                             "hierarchy then serves a geometric multigrid)")
    args = parser.parse_args(argv)
    print("| case | cells | unknowns | set-up s | first it. s | s / it. | solver | CG its | "
          "compliance | peak RSS GB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    if "2d" in args.which:
        h = 60.0 / args.nx
        start = time.perf_counter()
        mesh = mbb_beam(h=h, load_width=h, support_width=h, cell_type="quad",
                        structured=True)
        problem = TopOpt(mesh, filter="helmholtz", filter_radius=0.6, optimizer="oc",
                         supports={"symmetry": "fixed_x"},
                         point_supports=[{"at": [60.0, 0.0], "fixed": "y"}],
                         point_loads=[{"at": [0.0, 20.0], "force": [0.0, -1.0]}],
                         max_iterations=args.iterations, history_every=0,
                         solver=args.solver)
        report("2D MBB, Q4", mesh, problem, time.perf_counter() - start)
    if "3d" in args.which:
        start = time.perf_counter()
        mesh = refine(cantilever_box(h=args.h3d, length=2.0, width=1.0, height=1.0),
                      args.refine3d)
        problem = TopOpt(mesh, volume_fraction=0.2, filter=args.filter3d,
                         filter_radius=args.radius3d,
                         optimizer="mma", supports={"clamped": "clamped"},
                         traction={"tip": [0.0, 0.0, -1.0]},
                         max_iterations=args.iterations, history_every=0,
                         solver=args.solver)
        report("3D cantilever, P1 tets", mesh, problem, time.perf_counter() - start)


if __name__ == "__main__":
    main()
