"""Drilling membranes: the tables of issue 4, written to ``OUT/membrane_tables.md`` with a
plot of Cook's membrane against DOFs.

    python examples/membrane_tables.py [--out membrane_tables]

* Cook's membrane, vertical displacement at (48, 52) (converged 23.96) for 2 ... 64 elements
  per side, every element, structured and unstructured meshes; the harness verdict on the
  finest three levels (GCI at 1%);
* MacNeal-Harder slender cantilever, tip shear, regular / trapezoidal / parallelogram meshes,
  tip deflection over 0.1081;
* sensitivity to gamma_d / G over six decades (Cook 8x8 and the regular MacNeal-Harder beam);
* the rotation-gradient penalty alpha: tip displacement, rotation-gradient energy and RMS
  drilling mismatch (Cook 8x8, Allman-type triangle).
"""

import argparse
from pathlib import Path

import matplotlib
import numpy as np

from fem_reg.io import atomic_path, write_text
from fem_reg.errors import MeshError
from fem_reg.membrane import ELEMENTS, Membrane
from fem_reg.mesh import cook_membrane, macneal_harder_beam
from fem_reg.study import grid_convergence, markdown_table

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TRI = ["cst", "p1p1", "allman", "p2p1", "p2"]
QUAD = ["q4", "q1q1", "allman_quad", "q8"]
LEVELS = (2, 4, 8, 16, 32, 64)
COOK = dict(E=1.0, nu=1 / 3, supports={"clamped": "clamped"}, traction={"loaded": [0, 1 / 16]},
            probes={"tip": [48.0, 52.0]})


def kind(element):
    return "triangle" if element in TRI else "quad"


def size(n, structured):
    """The mesher's h for level n: mapped meshes have round(48 / h) elements per side, so
    h = 48 / n builds exactly the literature's n x n mesh; unstructured ones are labelled by
    h = 44 / n (44: the clamped edge)."""
    return 48.0 / n if structured else 44.0 / n


def cook(element, n, structured=True, **extra):
    mesh = cook_membrane(h=size(n, structured), cell_type=kind(element), structured=structured)
    result = Membrane(mesh, element=element, **{**COOK, **extra}).solve()
    return result.qoi["tip_uy"], result.meta["ndofs"], result


def cook_tables(lines, out):
    fig, ax = plt.subplots(figsize=(7, 5))
    for structured in (True, False):
        rows = []
        for element in TRI + QUAD:
            runs = []
            for n in LEVELS:
                try:
                    runs.append(cook(element, n, structured)[:2])
                except MeshError:      # gmsh cannot quad-mesh the coarsest unstructured level
                    runs.append((float("nan"), 0))
            values, dofs = zip(*runs)
            gc = grid_convergence([size(n, structured) for n in LEVELS[-3:]], values[-3:])
            verdict = "yes" if gc.gci_fine < 0.01 and gc.convergence == "monotonic" else "no"
            rows.append([element] + [f"{v:.3f}" for v in values]
                        + [f"{gc.extrapolated:.3f}", f"{100 * gc.gci_fine:.2f}%", verdict])
            if structured:
                ax.semilogx(dofs, values, "o-" if element in TRI else "s--", label=element)
        mesh = "structured (mapped), n x n elements" if structured else \
            "unstructured (gmsh, h = 44/n)"
        lines += [f"### Cook's membrane, {mesh}", "",
                  markdown_table(["element"] + [f"n={n}" for n in LEVELS]
                                 + ["extrapolated", "GCI fine", "mesh-independent at 1%"],
                                 rows), ""]
    ax.axhline(23.96, color="k", lw=0.8, ls=":", label="23.96 (converged)")
    ax.set(xlabel="unknowns", ylabel="v at (48, 52)", title="Cook's membrane, structured",
           ylim=(10, 25))
    ax.legend(ncol=2, fontsize=8)
    with atomic_path(out / "cook_membrane.png") as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
    plt.close(fig)
    lines += ["![Cook's membrane](cook_membrane.png)", ""]


def macneal_harder(element, shape, **extra):
    mesh = macneal_harder_beam(shape, cell_type=kind(element))
    result = Membrane(mesh, element=element, E=1e7, nu=0.3, thickness=0.1,
                      supports={"clamped": "clamped"}, traction={"tip": [0.0, 50.0]},
                      probes={"tip": [6.0, 0.1]}, **extra).solve()
    return result.qoi["tip_uy"] / 0.1081


def main():
    parser = argparse.ArgumentParser(description="drilling-membrane tables")
    parser.add_argument("--out", default="membrane_tables")
    out = Path(parser.parse_args().out)
    lines = ["# Membranes with drilling rotations: tables", ""]
    cook_tables(lines, out)

    rows = [[shape] + [f"{macneal_harder(el, shape):.3f}" for el in TRI + QUAD]
            for shape in ("regular", "trapezoidal", "parallelogram")]
    lines += ["### MacNeal-Harder cantilever, tip shear, tip deflection / 0.1081", "",
              markdown_table(["mesh"] + TRI + QUAD, rows), ""]

    scales = (1e-4, 1e-2, 1.0, 1e2, 1e4)
    drilling = [el for el in ELEMENTS if ELEMENTS[el].rotation is not None]
    rows = []
    for el in drilling:
        G = 1.0 / (2 * (1 + 1 / 3))
        rows.append([f"Cook 8x8, {el}"] + [f"{cook(el, 8, gamma_d=G * s)[0]:.3f}"
                                           for s in scales])
    for el in drilling:
        G = 1e7 / 2.6
        rows.append([f"MacNeal-Harder regular, {el}"]
                    + [f"{macneal_harder(el, 'regular', gamma_d=G * s):.3f}" for s in scales])
    lines += ["### Sensitivity to gamma_d / G", "",
              markdown_table(["case"] + [f"{s:g}" for s in scales], rows), ""]

    rows = []
    for alpha in (0.0, 0.01, 0.1, 1.0, 10.0, 100.0):
        value, _, result = cook("allman", 8, alpha=alpha)
        theta = result.point_data["rotation"]
        mismatch = result.cell_data["drilling_mismatch"]
        rows.append([f"{alpha:g}", f"{value:.4f}", f"{np.ptp(theta):.4f}",
                     f"{np.sqrt(np.mean(mismatch ** 2)):.3e}"])
    lines += ["### Rotation-gradient penalty alpha (Cook 8x8, allman, gamma_d = G)", "",
              markdown_table(["alpha", "v at (48, 52)", "range of theta",
                              "RMS skew(grad u) - theta"], rows), ""]
    write_text(out / "membrane_tables.md", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
