"""Regenerate the small shipped meshes of the canonical cases.

    python meshes/make_meshes.py            # writes meshes/*.msh (Gmsh MSH 2.2, named groups)

Each file is the canonical geometry of :mod:`fem_reg.mesh.geometry` at a coarse size, with its
named boundaries and subdomains as Gmsh physical groups, so ``fem_reg.mesh.load_mesh`` (or
ParaView, or gmsh) reads them with the names. Refine them with ``fem_reg.mesh.refine`` or
regenerate finer ones with ``fem-reg mesh make GEOMETRY --h H --out FILE``.
"""

from pathlib import Path

from fem_reg.mesh import GEOMETRIES, mesh_info, save_mesh

HERE = Path(__file__).resolve().parent

# file stem -> (geometry, options)
MESHES = {
    "cook_membrane": ("cook_membrane", {"h": 4.0}),
    "cook_membrane_quad": ("cook_membrane", {"h": 4.0, "cell_type": "quad"}),
    "mbb_beam": ("mbb_beam", {"h": 2.0}),
    "mbb_beam_structured_quad": ("mbb_beam", {"h": 1.0, "cell_type": "quad",
                                              "structured": True}),
    "cantilever": ("cantilever", {"h": 0.1}),
    "l_bracket": ("l_bracket", {"h": 0.05}),
    "block_on_base": ("block_on_base", {"h": 0.05}),
    "cantilever_box": ("cantilever_box", {"h": 0.5}),
}


def main():
    for stem, (geometry, options) in MESHES.items():
        mesh = GEOMETRIES[geometry](**options)
        path = HERE / f"{stem}.msh"
        save_mesh(mesh, path)
        info = mesh_info(mesh)
        print(f"{path.name:32s} {info['cell_type']:>12s} {info['cells']:6d} cells "
              f"{info['nodes']:6d} nodes  names: {', '.join(info['boundaries'])}")


if __name__ == "__main__":
    main()
