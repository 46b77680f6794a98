"""Convergence tables of the shared weak forms against manufactured solutions, on
unstructured meshes, through the refinement-study harness.

    python examples/mms_convergence.py [--out mms_convergence] [--workers 2]

For every operator (Helmholtz filter, volume gradient penalty, tangential penalty on an
interior interface, plane-stress / plane-strain / 3D elasticity), element order and mesh
family it runs a refinement study and writes ``OUT/<name>/study.md`` (table per level,
observed order, GCI), a log-log plot, and ``OUT/summary.md``: the least-squares slope of the
finest three levels of the L2 and H1 errors against the theory (p+1 and p). The tests run a
smaller version of each of these (tests/test_forms_mms.py).
"""

import argparse
import logging
from pathlib import Path

from fem_reg.io import write_text
from fem_reg.mesh import Remeshing, UniformRefinement, block_on_base, cantilever_box, rectangle
from fem_reg.mms import DiffusionMMS, ElasticityMMS, HelmholtzMMS, TangentialMMS
from fem_reg.study import (ProblemSolver, loglog_slope, markdown_table, run_study,
                           write_reports)

# name -> (problem, parameters, sequence factory)
STUDIES = {
    "helmholtz_p1_tri_remesh": (HelmholtzMMS, {"order": 1},
                                lambda: Remeshing("rectangle", 0.2, 6)),
    "helmholtz_p2_tri_remesh": (HelmholtzMMS, {"order": 2},
                                lambda: Remeshing("rectangle", 0.2, 5)),
    "helmholtz_q1_quad_remesh": (HelmholtzMMS, {"order": 1},
                                 lambda: Remeshing("rectangle", 0.2, 6, cell_type="quad")),
    "helmholtz_q2_quad_remesh": (HelmholtzMMS, {"order": 2},
                                 lambda: Remeshing("rectangle", 0.2, 5, cell_type="quad")),
    "diffusion_p1_tri_uniform": (DiffusionMMS, {"order": 1},
                                 lambda: UniformRefinement(rectangle(h=0.2), 6)),
    "diffusion_p2_tri_uniform": (DiffusionMMS, {"order": 2},
                                 lambda: UniformRefinement(rectangle(h=0.2), 5)),
    "tangential_p1_interface": (TangentialMMS, {"boundary": "interface", "gamma": 0.05,
                                                "order": 1},
                                lambda: UniformRefinement(block_on_base(h=0.2), 6)),
    "tangential_p2_interface": (TangentialMMS, {"boundary": "interface", "gamma": 0.05,
                                                "order": 2},
                                lambda: UniformRefinement(block_on_base(h=0.2), 5)),
    "plane_stress_p1": (ElasticityMMS, {"kind": "plane_stress", "order": 1},
                        lambda: Remeshing("l_bracket", 0.1, 6)),
    "plane_stress_p2": (ElasticityMMS, {"kind": "plane_stress", "order": 2},
                        lambda: Remeshing("l_bracket", 0.1, 4)),
    "plane_strain_p1": (ElasticityMMS, {"kind": "plane_strain", "order": 1},
                        lambda: UniformRefinement(rectangle(h=0.2), 5)),
    "elasticity_3d_p1_tet": (ElasticityMMS, {"kind": "3d", "order": 1},
                             lambda: UniformRefinement(cantilever_box(h=0.25, length=1.0), 4)),
}


def main():
    parser = argparse.ArgumentParser(description="MMS convergence tables")
    parser.add_argument("--out", default="mms_convergence")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--only", nargs="*", help=f"a subset of: {', '.join(STUDIES)}")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("fem_reg").setLevel(logging.INFO)     # not scikit-fem's assembly chatter
    out = Path(args.out)
    rows = []
    for name, (problem, parameters, sequence) in STUDIES.items():
        if args.only and name not in args.only:
            continue
        study = run_study(ProblemSolver(problem, **parameters), sequence(),
                          qoi=["l2_error", "h1_error"], cache_dir=out / name / "cache",
                          workers=args.workers)
        write_reports(study, out / name, title=name)
        h = [row["h"] for row in study.rows]
        order = parameters.get("order", 1)
        l2 = loglog_slope(h, [row["qoi"]["l2_error"] for row in study.rows], levels=3)
        h1 = loglog_slope(h, [row["qoi"]["h1_error"] for row in study.rows], levels=3)
        ok = abs(l2 - (order + 1)) <= 0.1 and abs(h1 - order) <= 0.1
        rows.append([name, str(len(study.rows)), str(study.rows[-1]["ndofs"]),
                     f"{l2:.3f} ({order + 1})", f"{h1:.3f} ({order})", "yes" if ok else "NO"])
        logging.getLogger("fem_reg").info("%-28s L2 slope %.3f  H1 slope %.3f  %s", name, l2, h1,
                     "ok" if ok else "OFF THEORY")
    table = markdown_table(["study", "levels", "finest DOFs", "L2 slope (theory)",
                            "H1 slope (theory)", "within 0.1"], rows)
    write_text(out / "summary.md", "# Manufactured-solution convergence\n\n"
               "Least-squares slope of log(error) vs log(h) over the finest three levels.\n\n"
               + table + "\n")
    print(table)


if __name__ == "__main__":
    main()
