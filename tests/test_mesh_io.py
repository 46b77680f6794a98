"""Reading and writing meshes with names; every broken input gives its clear error."""

import os

import gmsh
import meshio
import numpy as np
import pytest
import pyvista
from skfem.io.meshio import to_meshio

from fem_reg.errors import FemRegError, MeshError, MeshFileError, UnknownNameError
from fem_reg.mesh import (GEOMETRIES, block_on_base, boundary, boundary_nodes,
                          cantilever_box, cook_membrane, load_mesh, mesh_info, names, rectangle,
                          save_mesh, subdomain)
from fem_reg.mesh.info import vtk_cells
from fem_reg.mesh.quality import shape_quality, signed_measures

BROKEN = {
    "inverted.msh": (MeshError, r"1 inverted triangle cell\(s\): cell ids 0 .*folds"),
    "degenerate.msh": (MeshError, r"degenerate triangle cell\(s\) with zero area: cell ids 0"),
    "duplicate_nodes.msh": (MeshError, r"duplicate nodes .*4=5"),
    "mixed_cells.msh": (MeshError, r"mixed cell types quad \(1\), triangle \(1\)"),
    "second_order.msh": (MeshFileError, r"unsupported cell type 'triangle6'"),
    "surface_3d.msh": (MeshFileError, r"non-constant coordinate z"),
    "facet_not_in_mesh.msh": (MeshFileError, r"boundary 'bottom': 1 facet\(s\) are not faces"),
    "truncated.msh": (MeshFileError, r"cannot read mesh, the file is malformed"),
    "garbage.msh": (MeshFileError, r"cannot read mesh"),
    "garbage.vtu": (MeshFileError, r"cannot read mesh"),
    "only_boundary.msh": (MeshFileError, r"physical group for the domain"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_file_gives_clear_one_line_error(data_dir, name, capsys):
    error, pattern = BROKEN[name]
    path = os.path.join(data_dir, "broken", name)
    with pytest.raises(error, match=pattern) as info:
        load_mesh(path)
    message = str(info.value)
    assert message.startswith(path) and "\n" not in message
    assert capsys.readouterr().out == ""      # nothing leaks to stdout (JSON mode)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(MeshFileError, match="no such file"):
        load_mesh(tmp_path / "nothere.msh")
    with pytest.raises(MeshFileError, match="is a directory"):
        load_mesh(tmp_path)


def test_good_file_names_and_area(data_dir):
    mesh = load_mesh(os.path.join(data_dir, "square_ok.msh"))
    assert mesh.nelements == 4
    assert sorted(mesh.boundaries) == ["bottom"] and sorted(mesh.subdomains) == ["domain"]
    # the named facet is the edge (0,0)-(1,0)
    nodes = boundary_nodes(mesh, "bottom")
    assert np.allclose(np.sort(mesh.p[0, nodes]), [0, 1]) and np.allclose(mesh.p[1, nodes], 0)


def test_unknown_name_lists_the_names():
    mesh = rectangle(h=0.5)
    with pytest.raises(UnknownNameError, match="no boundary named 'botom'; the mesh has: "
                                               "bottom, left, right, top"):
        boundary(mesh, "botom")
    with pytest.raises(UnknownNameError, match="no subdomain named 'x'; the mesh has: domain"):
        subdomain(mesh, "x")


def _gmsh_two_squares(path, version):
    """A model with overlapping physical groups, written by gmsh itself."""
    gmsh.initialize(readConfigFiles=False, interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.model.add("two")
        lower = gmsh.model.occ.addRectangle(0, 0, 0, 1, 1)
        upper = gmsh.model.occ.addRectangle(0, 1, 0, 1, 1)
        gmsh.model.occ.fragment([(2, lower)], [(2, upper)])
        gmsh.model.occ.synchronize()
        bottom = [t for _, t in gmsh.model.getEntitiesInBoundingBox(-.1, -.1, -.1, 1.1, .1, .1, 1)]
        middle = [t for _, t in gmsh.model.getEntitiesInBoundingBox(-.1, .9, -.1, 1.1, 1.1, .1, 1)]
        gmsh.model.addPhysicalGroup(2, [lower], name="lower")
        gmsh.model.addPhysicalGroup(2, [upper], name="upper")
        gmsh.model.addPhysicalGroup(2, [lower, upper], name="all")
        gmsh.model.addPhysicalGroup(1, bottom, name="bottom")
        gmsh.model.addPhysicalGroup(1, middle, name="interface")
        gmsh.option.setNumber("Mesh.MeshSizeMax", 0.25)
        gmsh.model.mesh.generate(2)
        gmsh.option.setNumber("Mesh.MshFileVersion", version)
        gmsh.write(str(path))
    finally:
        gmsh.finalize()


@pytest.mark.parametrize("version", [2.2, 4.1])
def test_gmsh_written_files_v2_v4(tmp_path, version):
    path = tmp_path / f"two_v{version}.msh"
    _gmsh_two_squares(path, version)
    mesh = load_mesh(path)
    sub = mesh.subdomains
    assert len(sub["all"]) == mesh.nelements == len(sub["lower"]) + len(sub["upper"])
    centroids = mesh.p[:, mesh.t].mean(axis=1)
    assert (centroids[1, sub["lower"]] < 1).all() and (centroids[1, sub["upper"]] > 1).all()
    mid = mesh.p[:, mesh.facets[:, boundary(mesh, "interface")]].mean(axis=1)
    assert np.allclose(mid[1], 1.0)                      # an interior named interface
    bottom = mesh.p[:, mesh.facets[:, boundary(mesh, "bottom")]]
    assert np.allclose(bottom[1], 0.0)
    lengths = np.linalg.norm(bottom[:, 1] - bottom[:, 0], axis=0)
    assert np.isclose(lengths.sum(), 1.0)


@pytest.mark.parametrize("suffix", [".msh", ".vtu", ".xdmf"])
def test_round_trip_keeps_names(tmp_path, named_mesh, suffix):
    mesh = named_mesh
    path = save_mesh(mesh, tmp_path / f"mesh{suffix}")
    back = load_mesh(path)
    assert type(back) is type(mesh)
    assert np.allclose(back.p, mesh.p) and back.nelements == mesh.nelements
    # same cells (as node sets), same named sets
    assert (np.sort(back.t, axis=0) == np.sort(mesh.t, axis=0)).all()
    for group in ("boundaries", "subdomains"):
        original, loaded = getattr(mesh, group), getattr(back, group)
        assert sorted(original) == sorted(loaded)
        for name in original:
            assert np.array_equal(np.sort(original[name]), np.sort(loaded[name])), name


def test_saved_msh_opens_in_gmsh_with_names(tmp_path):
    path = save_mesh(block_on_base(h=0.25), tmp_path / "b.msh")
    gmsh.initialize(readConfigFiles=False, interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.open(str(path))
        names = {gmsh.model.getPhysicalName(d, t) for d, t in gmsh.model.getPhysicalGroups()}
    finally:
        gmsh.finalize()
    assert {"interface", "block", "base", "base_bottom"} <= names


def test_save_is_atomic_and_reports_bad_format(tmp_path):
    mesh = rectangle(h=0.5)
    target = tmp_path / "mesh.vtu"
    save_mesh(mesh, target)
    before = target.read_bytes()
    with pytest.raises(FemRegError):
        save_mesh(mesh, tmp_path / "mesh.unknownformat")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["mesh.vtu"]     # no temp files left


def test_skfem_written_file_with_arbitrary_orientation_loads(tmp_path):
    """scikit-fem sorts simplex nodes, so its files mix orientations: not an inversion."""
    from skfem import MeshTri
    path = tmp_path / "skfem.vtu"
    MeshTri.init_circle(3).save(str(path))
    mesh = load_mesh(path)
    assert mesh.nelements == MeshTri.init_circle(3).nelements


def test_clockwise_quads_are_reoriented(tmp_path):
    points = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [2, 0], [2, 1]], dtype=float)
    cells = np.array([[0, 3, 2, 1], [1, 2, 5, 4]])        # consistently clockwise
    meshio.write(tmp_path / "cw.vtu", meshio.Mesh(np.c_[points, np.zeros(6)],
                                                  [("quad", cells)]))
    mesh = load_mesh(tmp_path / "cw.vtu")
    assert mesh.nelements == 2


def test_shipped_meshes_load_with_their_names():
    """``meshes/*.msh`` are what ``meshes/make_meshes.py`` says, and load with their names."""
    import importlib.util
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "meshes"
    spec = importlib.util.spec_from_file_location("make_meshes", folder / "make_meshes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert sorted(p.stem for p in folder.glob("*.msh")) == sorted(module.MESHES)
    for stem, (geometry, options) in module.MESHES.items():
        mesh = load_mesh(folder / f"{stem}.msh")
        fresh = GEOMETRIES[geometry](**options)
        assert type(mesh) is type(fresh)
        assert names(mesh) == names(fresh)
        assert mesh.nelements == fresh.nelements
        assert np.isclose(mesh_info(mesh)["measure"], mesh_info(fresh)["measure"])


@pytest.mark.parametrize("make,cell_type,measure", [
    (lambda: cook_membrane(h=4.0), "triangle", "shape"),
    (lambda: cook_membrane(h=4.0, cell_type="quad", structured=False), "quad", "scaled_jacobian"),
    (lambda: cantilever_box(h=0.3), "tetra", "shape"),
    (lambda: cantilever_box(h=0.3, cell_type="hexahedron", structured=True), "hexahedron", "scaled_jacobian")])
def test_quality_and_measures_match_vtk(make, cell_type, measure):
    """fem_reg keeps its own vectorized cell measures (mesh loading validates orientation with
    them in every process, without importing VTK); VTK's Verdict library is the reference:
    our mean ratio is its 'shape' for simplices, our minimum scaled Jacobian its
    'scaled_jacobian' for quads and hexahedra."""
    mesh = make()
    grid = pyvista.from_meshio(to_meshio(mesh))
    points, cells = mesh.p.T, vtk_cells(mesh)
    ours = shape_quality(points, cells, cell_type)
    assert np.allclose(ours, grid.cell_quality(quality_measure=measure)[measure], atol=1e-12)
    sizes = grid.compute_cell_sizes()["Area" if mesh.dim() == 2 else "Volume"]
    assert np.allclose(np.abs(signed_measures(points, cells, cell_type)), sizes, rtol=1e-12)
