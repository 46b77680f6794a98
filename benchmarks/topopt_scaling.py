"""Cost growth of 3D topology optimization with the default install: seconds per iteration
against unknowns, from about 10k to 3.4M, on a log-log plot with the fitted slope.

The problem of ``benchmarks/topopt_3d.py`` (a 3 x 1 x 1 cantilever on ``3n x n x n``
hexahedra, density filter of 2 elements, OC, ``solver = "auto"``). Each size runs in its own
process, so its peak memory is its own. Seconds per iteration are the mean over the
iterations after the first.

    python benchmarks/topopt_scaling.py [--n 10 16 24 32 48 64 72] [--iterations 4]
        [--out docs/topopt_scaling]    (writes OUT.csv and OUT.png)
"""

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np


def one(n, iterations):
    from fem_reg.mesh import cantilever_box
    from fem_reg.topopt import TopOpt
    start = time.perf_counter()
    mesh = cantilever_box(h=1.0 / n, length=3.0, width=1.0, height=1.0,
                          cell_type="hexahedron", structured=True)
    problem = TopOpt(mesh, volume_fraction=0.3, filter="density", filter_radius=2.0 / n,
                     optimizer="oc", move=0.2, supports={"clamped": "clamped"},
                     point_loads=[{"at": [3.0, 0.5, 0.5], "force": [0.0, 0.0, -1.0]}],
                     max_iterations=iterations, history_every=0)
    setup = time.perf_counter() - start
    result = problem.solve()
    table = result.series["convergence"]
    seconds = np.asarray(table["seconds"])
    return {"n": n, "cells": int(mesh.nelements), "unknowns": int(problem.stiffness.nfree),
            "setup_s": setup, "first_s": float(seconds[0]),
            "per_iteration_s": float(seconds[1:].mean()), "solver": result.meta["solver"],
            "cg_iterations": float(np.mean(table["cg_iterations"][1:])),
            "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10, 16, 24, 32, 48, 64, 72])
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--out", default="docs/topopt_scaling")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one, args.iterations)))
        return
    print(f"# {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} before")
    print("| grid | cells | unknowns | set-up s | first it. s | s / it. | solver, CG its | "
          "peak GB |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for n in args.n:
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--iterations",
                              str(args.iterations)], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"n = {n} failed: {out.stderr.strip().splitlines()[-1]}")
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"| {3 * n}x{n}x{n} | {row['cells']:,} | {row['unknowns']:,} | "
              f"{row['setup_s']:.1f} | {row['first_s']:.2f} | {row['per_iteration_s']:.3f} | "
              f"{row['solver']}, {row['cg_iterations']:.0f} | {row['peak_gb']:.2f} |",
              flush=True)
    unknowns = np.array([r["unknowns"] for r in rows], dtype=float)
    seconds = np.array([r["per_iteration_s"] for r in rows])
    slope, intercept = np.polyfit(np.log(unknowns), np.log(seconds), 1)
    print(f"# log-log slope of s/it against unknowns: {slope:.2f}; load after "
          f"{os.getloadavg()[0]:.2f}")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out + ".csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4.2))
    ax.loglog(unknowns, seconds, "o-", label="fem_reg, multigrid-CG")
    fit = np.exp(intercept) * unknowns ** slope
    ax.loglog(unknowns, fit, "--", color="gray", label=f"fit: slope {slope:.2f}")
    ax.loglog(unknowns, seconds[0] * unknowns / unknowns[0], ":", color="black",
              label="slope 1 (O(N))")
    ax.set_xlabel("unknowns")
    ax.set_ylabel("seconds per iteration")
    ax.set_title("3D cantilever, hexahedra, 2 cores")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out + ".png", dpi=120)
    print(f"# wrote {args.out}.csv and {args.out}.png")


if __name__ == "__main__":
    main()
