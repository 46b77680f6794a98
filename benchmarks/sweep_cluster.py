"""A sweep of 8 points x 4 levels on 2 local Dask workers against the same sweep solved
sequentially in one process, in the same run: times, the ratio, and the largest difference
of the QoIs between the two.

The sweep: ``examples/frictional_slip_gamma_sweep.toml`` (the gradient-regularized
frictional block) at 8 values of gamma, 4 levels, through ``fem_reg.cases.study_case``
(what ``fem-reg study`` runs), in two sizes:

* ``small``: levels from h = 0.2 (62 to 3,746 triangles) with 1280 load increments per leg:
  every level's working set stays in the cache;
* ``large``: levels from h = 0.1 (248 to 14,946 triangles), 160 increments: the finest
  levels' dense interface blocks and sparse factors (tens of MB) do not, and two levels
  side by side on this 2-core machine's shared 32 MB L3 cache each run 1.5-1.75x slower
  than alone (measured per level), which bounds the ratio whatever the scheduler. The cluster is a
``distributed.LocalCluster`` of 2 worker processes with one thread each, started before the
clock (a cluster exists before a user's sweep); the client's connection, the version check,
the fields' transfer, the cache and the reports are inside the time.

    python benchmarks/sweep_cluster.py [--size small|large|both] [--repeat 1]

Needs ``pip install ".[cluster]"``.
"""

import argparse
import os
import tempfile
import time
import tomllib
from pathlib import Path

EXAMPLE = Path(__file__).parent.parent / "examples" / "frictional_slip_gamma_sweep.toml"
GAMMAS = [0.01, 0.02, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3]


def timed(case, out, **options):
    from fem_reg.cases import study_case
    start = time.perf_counter()
    sweep, _ = study_case(case, out, **options)
    return time.perf_counter() - start, sweep


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="pairs of runs")
    parser.add_argument("--size", choices=("small", "large", "both"), default="both")
    args = parser.parse_args(argv)
    from distributed import LocalCluster

    from fem_reg.io import case_from_dict
    folder = Path(tempfile.mkdtemp(prefix="sweep_bench_"))
    print(f"# {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; sweeps of 8 points "
          f"(frictional_slip, gamma = {GAMMAS}) x 4 levels", flush=True)
    sizes = ("small", "large") if args.size == "both" else (args.size,)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        for size in sizes:
            data = tomllib.loads(EXAMPLE.read_text())
            data["mesh"]["h"], data["parameters"]["steps"] = SIZES[size]
            data["sweep"] = {"gamma": GAMMAS}
            case = case_from_dict(data, source=str(folder / f"{size}.toml"), base_dir=folder)
            print(f"## {size}: h = {SIZES[size][0]:g} ... {SIZES[size][0] / 8:g}, "
                  f"{SIZES[size][1]} increments per leg", flush=True)
            for k in range(args.repeat):
                compare(case, folder / f"{size}{k}", cluster.scheduler_address)


SIZES = {"small": (0.2, 1280), "large": (0.1, 160)}


def compare(case, folder, scheduler):
    sequential, reference = timed(case, folder / "sequential", workers=1)
    print(f"sequential, one process:   {sequential:6.1f} s", flush=True)
    parallel, sweep = timed(case, folder / "cluster", scheduler=scheduler)
    print(f"2 Dask workers:            {parallel:6.1f} s", flush=True)
    difference = max(abs(a["qoi"][name] - b["qoi"][name]) / max(abs(b["qoi"][name]), 1e-300)
                     for s, r in zip(sweep.studies, reference.studies)
                     for a, b in zip(s.rows, r.rows) for name in b["qoi"])
    levels = sum(len(s.rows) for s in sweep.studies)
    solving = [sum(row["seconds"] for s in run.studies for row in s.rows)
               for run in (reference, sweep)]
    print(f"ratio sequential / cluster: {sequential / parallel:.2f}x ({levels} levels; the "
          f"levels' own seconds add up to {solving[0]:.1f} s in the sequential run and "
          f"{solving[1]:.1f} s on the workers; largest relative QoI difference "
          f"{difference:.1e}; load {os.getloadavg()[0]:.2f})", flush=True)


if __name__ == "__main__":
    main()
