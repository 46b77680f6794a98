"""A sweep of 8 points x 4 levels on 2 local Dask workers against the same sweep solved
sequentially in one process, in the same run: times, the ratio, and a check that both give
the same QoIs.

The sweep: the Helmholtz-filter manufactured solution (P2, h = 0.1 ... 0.0125 by remeshing)
at 8 filter radii, through ``fem_reg.cases.study_case`` (what ``fem-reg study`` runs). The
cluster is a ``distributed.LocalCluster`` of 2 worker processes with one thread each, started
before the clock (a cluster exists before a user's sweep); the client's connection, the
version check, the transfer of the fields and the reports are inside the time.

    python benchmarks/sweep_cluster.py [--repeat 1]

Needs ``pip install ".[cluster]"``.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

CASE = """
title = "Helmholtz MMS: filter radius sweep (benchmark)"
problem = "helmholtz_mms"
[mesh]
geometry = "rectangle"
h = 0.1
[parameters]
radius = 0.3
order = 2
[study]
levels = 4
qoi = ["l2_error", "h1_error", "energy"]
[sweep]
radius = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5]
"""


def timed(case, out, **options):
    from fem_reg.cases import study_case
    start = time.perf_counter()
    sweep, _ = study_case(case, out, **options)
    return time.perf_counter() - start, sweep


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="pairs of runs")
    args = parser.parse_args(argv)
    from distributed import LocalCluster

    from fem_reg.io import load_case
    folder = Path(tempfile.mkdtemp(prefix="sweep_bench_"))
    (folder / "sweep.toml").write_text(CASE)
    case = load_case(folder / "sweep.toml")
    print(f"# {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; sweep of 8 points x 4 "
          f"levels (helmholtz_mms, P2, h = 0.1 ... 0.0125)", flush=True)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        for k in range(args.repeat):
            sequential, reference = timed(case, folder / f"sequential{k}", workers=1)
            print(f"sequential, one process:   {sequential:6.1f} s", flush=True)
            parallel, sweep = timed(case, folder / f"cluster{k}",
                                    scheduler=cluster.scheduler_address)
            print(f"2 Dask workers:            {parallel:6.1f} s", flush=True)
            same = all(a["qoi"] == b["qoi"]
                       for s, r in zip(sweep.studies, reference.studies)
                       for a, b in zip(s.rows, r.rows))
            levels = sum(len(s.rows) for s in sweep.studies)
            print(f"ratio sequential / cluster: {sequential / parallel:.2f}x ({levels} levels; "
                  f"identical QoIs: {same}; load {os.getloadavg()[0]:.2f})", flush=True)


if __name__ == "__main__":
    main()
