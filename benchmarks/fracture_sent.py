"""The SENT specimen at a fine crack band: the whole load history's time, the alternate-
minimization iterations and the time per displacement and damage solve.

Miehe et al.'s (2010) single-edge-notched tension test (``examples/fracture_sent.toml``'s
problem) with ``l`` and the band's element size set here; AT2, no split.

    python benchmarks/fracture_sent.py [--length 0.0075] [--h-crack 0.00375] [--band 0.25]
        [--steps 70] [--vs-plain]

``--vs-plain`` runs the same history again without Anderson acceleration (``anderson = 0``,
the plain alternate minimization) in the same process and prints the time ratio.
"""

import argparse
import os
import resource
import time

from fem_reg.fracture import PhaseFieldFracture
from fem_reg.mesh import sent_specimen


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=float, default=0.0075)
    parser.add_argument("--h-crack", type=float, default=None, help="default: l / 2")
    parser.add_argument("--band", type=float, default=0.25)
    parser.add_argument("--steps", type=int, default=70)
    parser.add_argument("--vs-plain", action="store_true",
                        help="also run without Anderson acceleration; print the ratio")
    args = parser.parse_args(argv)
    h_crack = args.h_crack or args.length / 2
    print(f"# {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    start = time.perf_counter()
    mesh = sent_specimen(h=0.05, h_crack=h_crack, band=args.band)
    meshed = time.perf_counter() - start
    total = report(mesh, args, meshed, anderson=5)
    if args.vs_plain:
        plain = report(mesh, args, meshed, anderson=0)
        print(f"plain / accelerated: {plain:.1f} s / {total:.1f} s = {plain / total:.2f}x")


def report(mesh, args, meshed, anderson):
    """Run the load history, print its figures; returns the whole run's seconds."""
    start = time.perf_counter() - meshed
    problem = PhaseFieldFracture(mesh, length=args.length, steps=args.steps, history_every=0,
                                 anderson=anderson)
    result = problem.solve()
    total = time.perf_counter() - start
    print(f"## anderson = {anderson}" + (" (the plain alternate minimization)"
                                         if anderson == 0 else ""))
    solves = result.meta["solves"]
    print(f"cells {mesh.nelements:,}, unknowns {result.meta['ndofs']:,}; meshing {meshed:.1f} s, "
          f"whole run {total:.1f} s")
    print(f"load steps {int(result.qoi['steps'])} ({result.meta['step_cuts']} halvings), "
          f"alternate-minimization iterations {int(result.qoi['staggered_iterations'])}")
    for name, entry in solves.items():
        print(f"{name} solves: {entry['count']}, {entry['seconds']:.1f} s, "
              f"{1e3 * entry['seconds'] / max(entry['count'], 1):.1f} ms each")
    print(f"peak force {result.qoi['peak_force']:.4f} kN; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2:.2f} GB; load "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    return total


if __name__ == "__main__":
    main()
