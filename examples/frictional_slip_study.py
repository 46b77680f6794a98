"""Mesh-independence of frictional slip: the local law (gamma = 0) against the gradient-
regularized law (gamma > 0), and a sweep of gamma.

The case ``examples/frictional_slip.toml`` (a block pushed along a rigid base, steep slip
weakening: the local law's slip jumps at the front) is run through the study harness
(:func:`fem_reg.study.run_study`) on five unstructured meshes, h = 0.1 ... 0.00625, once with
``gamma = 0`` and once with the case's ``gamma``. For the peak force, the dissipated energy
and the transition width (the distance over which the slip rises from 10% to 90% of the
front slip ``(mu_s - mu_d) p / k_t``) it reports the observed order, the GCI and the verdict
at 2%. The slip profiles of all levels go in one PNG per case. A sweep of ``gamma`` on one
fine mesh plots the converged transition width against the internal length
``sqrt(gamma / k_t)``.

    python examples/frictional_slip_study.py [--out DIR] [--levels 5] [--h0 0.1]
        [--workers 2] [--gammas 0.01,0.02,0.05,0.1,0.2,0.3] [--sweep-h 0.0125]

Levels are cached in ``DIR/cache``: an interrupted study starts again where it stopped. The
local law is the slow part (every node's onset is a snap through the weakening): about 45
minutes on 2 cores for all of it (the local law's two finest levels, run side by side, take
22 and 38 minutes); ``--levels 3`` takes about a minute. Results of a full run:
``examples/frictional_slip_study_result.md``.
"""

import argparse
import csv
import io
import logging
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from fem_reg.friction import FrictionalSlip, SlipWeakening, front_slip
from fem_reg.io import load_case, write_text
from fem_reg.mesh import Remeshing, block_on_base
from fem_reg.study import ProblemSolver, run_study

CASE = Path(__file__).with_name("frictional_slip.toml")
QOIS = ("peak_force", "dissipated_energy", "transition_width")
PROFILE = ("coordinate", "slip", "accumulated_slip", "friction", "pressure")


class ProfileSolver(ProblemSolver):
    """``mesh -> Result`` that also keeps the slip profile at the probe as a CSV."""

    def __init__(self, profiles, tag, **parameters):
        super().__init__(FrictionalSlip, **parameters)
        self.profiles, self.tag = str(profiles), tag

    def __call__(self, mesh, **options):
        result = super().__call__(mesh, **options)
        profile = result.series["slip_profile"]
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(PROFILE)
        writer.writerows(zip(*(profile[name] for name in PROFILE)))
        write_text(Path(self.profiles) / f"{self.tag}_{mesh.nelements}.csv", text.getvalue())
        return result


def read_profile(path):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    return {name: np.array([float(r[k]) for r in rows[1:]]) for k, name in enumerate(rows[0])}


def study(case, gamma, args, out, lines):
    parameters = dict(case.parameters, gamma=gamma)
    tag = f"gamma_{gamma:g}"
    profiles = out / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    mesh = {k: v for k, v in case.mesh.items() if k not in ("geometry", "h")}
    sequence = Remeshing(case.mesh["geometry"], args.h0, args.levels, **mesh)
    start = time.perf_counter()

    def progress(event, record):
        if event in ("done", "cached"):
            q = record.get("qoi", {})
            print(f"  {tag} level {record['level']} ({event}, h = {record.get('h', 0):.4g}, "
                  f"{record.get('seconds', 0):.1f} s): "
                  + (record["error"] if record.get("error") else
                     ", ".join(f"{name} {q[name]:.6g}" for name in QOIS)), flush=True)

    result = run_study(ProfileSolver(profiles, tag, **parameters), sequence, qoi=list(QOIS),
                       tolerance=args.tolerance, cache_dir=out / "cache", fields=False,
                       workers=args.workers, progress=progress)
    print(f"{tag}: {time.perf_counter() - start:.0f} s", flush=True)
    lines += [f"## gamma = {gamma:g}", "",
              "| level | h | cells | peak force | dissipated energy | transition width | "
              "stop | s |", "|---|---|---|---|---|---|---|---|"]
    for row in result.rows:
        q = row.get("qoi", {})
        lines.append(f"| {row['level']} | {row.get('h', float('nan')):.4g} | "
                     f"{row.get('cells', '-')} | "
                     + " | ".join(f"{q[name]:.7g}" if name in q else "-" for name in QOIS)
                     + f" | {row.get('error') or 'end of the load path'} | "
                       f"{row.get('seconds', 0):.1f} |")
    lines += ["", f"| QoI (finest three levels) | convergence | order | extrapolated | GCI | "
              f"mesh-independent at {100 * args.tolerance:g}% |", "|---|---|---|---|---|---|"]
    for name in QOIS:
        a = result.analysis[name]
        lines.append(f"| {name} | {a.get('convergence', '-')} | {_fmt(a.get('order'))} | "
                     f"{_fmt(a.get('extrapolated'))} | "
                     f"{_fmt(a.get('gci_fine'), percent=True)} | "
                     f"{'yes' if a['mesh_independent'] else 'no'} ({a['reason']}) |")
    lines.append("")
    cells = [row["cells"] for row in result.rows if not row.get("error")]
    return result, [(c, read_profile(profiles / f"{tag}_{c}.csv")) for c in cells]


def _fmt(value, percent=False):
    if value is None or not np.isfinite(value):
        return "-"
    return f"{100 * value:.3g}%" if percent else f"{value:.6g}"


def plot_profiles(profiles, law, k_t, title, path):
    """All levels: the slip along the interface, and the front in units of the front slip."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (whole, front) = plt.subplots(1, 2, figsize=(11, 3.8))
    fronts = []
    for cells, p in profiles:
        x, s = p["coordinate"], p["slip"]
        whole.plot(x, s, lw=1.1, label=f"{cells} cells")
        J = front_slip(law, p["pressure"], k_t)
        front.plot(x, s / np.where(J > 0, J, np.inf), lw=1.1, marker=".", ms=3, label=f"{cells} cells")
        slipped = x[p["accumulated_slip"] > 0]
        if slipped.size:
            fronts.append(slipped.max())
    whole.set_xlabel("position along the interface")
    whole.set_ylabel("plastic slip")
    front.set_xlabel("position along the interface")
    front.set_ylabel("slip / front slip (mu_s - mu_d) p / k_t")
    if fronts:
        front.set_xlim(min(fronts) - 0.4, max(fronts) + 0.1)
    front.set_ylim(-0.1, 3.0)
    for level in (0.1, 0.9):
        front.axhline(level, color="0.6", lw=0.8, ls="--")
    for ax in (whole, front):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


def _sweep_one(parameters, mesh_options, h):
    logging.disable(logging.WARNING)
    mesh = block_on_base(h, **mesh_options)
    result = FrictionalSlip(mesh, **parameters).solve()
    return {name: result.qoi[name] for name in QOIS}, result.meta["stop"]


def sweep(case, args, lines, path):
    k_t = case.parameters["k_t"]
    gammas = [float(g) for g in args.gammas.split(",")]
    mesh = {k: v for k, v in case.mesh.items() if k not in ("geometry", "h")}
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_sweep_one, dict(case.parameters, gamma=g), mesh, args.sweep_h)
                   for g in gammas]
        runs = [f.result() for f in futures]
    rows = [(g, np.sqrt(g / k_t), q["transition_width"], q["peak_force"],
             q["dissipated_energy"], stop) for g, (q, stop) in zip(gammas, runs)]
    for g, length, w, *_ in rows:
        print(f"sweep gamma = {g:g}: width {w:.4f} ({w / length:.3f} sqrt(gamma/k_t))")
    # fits over the runs whose profile has a front at the probe (a width)
    lengths, widths = np.array([[r[1], r[2]] for r in rows if np.isfinite(r[2])]).T
    slope = float(np.polyfit(lengths, widths, 1)[0])
    exponent, log_c = np.polyfit(np.log(lengths), np.log(widths), 1)
    lines += [f"## gamma sweep at h = {args.sweep_h:g} (k_t = {k_t:g})", "",
              "| gamma | sqrt(gamma/k_t) | transition width | width / sqrt(gamma/k_t) | "
              "peak force | dissipated energy | stop |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {g:g} | {length:.4f} | {w:.4f} | {w / length:.3f} | {F:.7g} | {D:.6g} | "
              f"{stop} |" for g, length, w, F, D, stop in rows]
    lines += ["", f"Least-squares fits over the {len(lengths)} runs with a front: width = "
              f"{slope:.3f} sqrt(gamma/k_t) + c; width = {np.exp(log_c):.3f} "
              f"(sqrt(gamma/k_t))^{exponent:.3f}.", ""]
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.loglog(lengths, widths, "o-", label=f"h = {args.sweep_h:g}")
    ax.loglog(lengths, np.exp(log_c) * lengths ** exponent, "k--", lw=0.8,
              label=f"fit {np.exp(log_c):.2f} l^{exponent:.2f}")
    ax.loglog(lengths, lengths, ":", color="gray", lw=0.8, label="width = l")
    ax.set_xlabel("internal length l = sqrt(gamma / k_t)")
    ax.set_ylabel("transition width (10%-90% of the front slip)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="fem_reg_out/frictional_slip_study")
    parser.add_argument("--levels", type=int, default=5)
    parser.add_argument("--h0", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tolerance", type=float, default=0.02)
    parser.add_argument("--gammas", default="0.01,0.02,0.05,0.1,0.2,0.3")
    parser.add_argument("--sweep-h", type=float, default=0.0125)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    case = load_case(CASE)
    p = case.parameters
    law = SlipWeakening(p["mu_s"], p["mu_d"], p["D_c"])
    nominal = float(front_slip(law, 0.01, p["k_t"]))
    lines = ["# Frictional slip: mesh-independence (examples/frictional_slip.toml)", "",
             f"Front slip (mu_s - mu_d) p / k_t = {nominal:.3g} at the nominal pressure "
             f"0.01; D_c = {p['D_c']:g}; internal length sqrt(gamma / k_t) = "
             f"{np.sqrt(p['gamma'] / p['k_t']):.3g} for gamma = {p['gamma']:g}.", ""]
    verdicts = {}
    for gamma in (0.0, p["gamma"]):
        result, profiles = study(case, gamma, args, out, lines)
        verdicts[gamma] = result.verdicts()
        plot_profiles(profiles, law, p["k_t"], f"slip at load factor {p['probe_at']}, "
                      f"gamma = {gamma:g}", out / f"slip_profiles_gamma_{gamma:g}.png")
    sweep(case, args, lines, out / "transition_width_vs_length.png")
    report = "\n".join(lines)
    write_text(out / "frictional_slip_study.md", report)
    print(report)
    for gamma, verdict in verdicts.items():
        print(f"gamma = {gamma:g}: mesh-independent at {100 * args.tolerance:g}%: "
              + ", ".join(f"{name} {'yes' if ok else 'no'}" for name, ok in verdict.items()))


if __name__ == "__main__":
    main()
