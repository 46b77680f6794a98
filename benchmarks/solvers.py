"""Direct vs AMG-CG on elasticity systems of growing size: where should ``method="auto"``
switch? (``fem_reg.fe.solvers.DIRECT_LIMIT``, one limit per direct solver)

    python benchmarks/solvers.py            # 2D up to ~1.6M unknowns, 3D up to ~0.4M
    python benchmarks/solvers.py --quick    # small sizes only

Every method solves the same system in the same run; the table prints seconds and the ratio
to the fastest direct solver. Assembly is not timed. Not run by CI.
"""

import argparse
import time

import numpy as np
import skfem

from fem_reg.fe import (Material, elasticity_form, has_pardiso, lagrange, rigid_body_modes,
                        solve_constrained)
from fem_reg.mesh import boundary, cantilever_box, rectangle, refine


def system(mesh, kind):
    basis = skfem.Basis(mesh, lagrange(mesh, 1, vector=True))
    K = elasticity_form(Material(E=1.0, nu=0.3, kind=kind)).assemble(basis)
    side = "left" if mesh.dim() == 2 else "clamped"
    fixed = basis.get_dofs(boundary(mesh, side)).all()
    f = np.zeros(basis.N)
    f[basis.nodal_dofs[1]] = -1.0 / mesh.nvertices         # self-weight-like load
    return K, f, fixed, rigid_body_modes(basis)         # (modes, names)


def timed(K, f, fixed, modes, method):
    start = time.perf_counter()
    x, info = solve_constrained(K, f, fixed, near_null_space=modes, method=method,
                                return_info=True)
    return time.perf_counter() - start, info, x


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    methods = ["superlu"] + (["pardiso"] if has_pardiso() else []) + ["amg"]
    cases = [("2D plane strain, P1 tri", lambda k: refine(rectangle(h=0.05), k), "plane_strain",
              range(0, 3 if args.quick else 6)),
             ("3D, P1 tet", lambda k: refine(cantilever_box(h=0.25), k), "3d",
              range(0, 2 if args.quick else 3))]
    print(f"{'case':24s} {'unknowns':>9s} " + " ".join(f"{m:>9s}" for m in methods)
          + "   amg/best-direct  amg iterations")
    for title, make, kind, levels in cases:
        for level in levels:
            K, f, fixed, modes = system(make(level), kind)
            seconds, answers, iterations = {}, {}, 0
            for method in methods:
                if method == "superlu" and K.shape[0] > 700_000:
                    continue                                   # minutes and many GB
                seconds[method], info, answers[method] = timed(K, f, fixed, modes, method)
                iterations = info["iterations"] if method == "amg" else iterations
            direct = min(v for m, v in seconds.items() if m != "amg")
            ref = answers["pardiso" if "pardiso" in answers else "superlu"]
            agree = np.linalg.norm(answers["amg"] - ref) / np.linalg.norm(ref)
            print(f"{title:24s} {K.shape[0]:9d} "
                  + " ".join(f"{seconds[m]:9.2f}" if m in seconds else f"{'-':>9s}"
                             for m in methods)
                  + f"   {seconds['amg'] / direct:15.2f}  {iterations:5d} (diff {agree:.0e})",
                  flush=True)


if __name__ == "__main__":
    main()
