"""Results written as VTU/PVD open in pyvista (ParaView's reader) with fields, 3-component
vectors and names; writes are atomic; pictures render off-screen."""

import numpy as np
import pytest
import pyvista

from fem_reg.atomic import atomic_path, write_text
from fem_reg.errors import ParameterError, UnknownNameError
from fem_reg.io import PvdWriter, Result
from fem_reg.mesh import block_on_base, cantilever_box


def sample_result(mesh):
    dim = mesh.dim()
    displacement = np.stack([mesh.p[i] * (i + 1) for i in range(dim)], axis=1)
    return Result(mesh, point_data={"displacement": displacement, "temperature": mesh.p[0]},
                  cell_data={"stress": np.tile(np.eye(dim), (mesh.nelements, 1, 1)),
                             "density": np.linspace(0, 1, mesh.nelements)},
                  qoi={"compliance": 1.5})


@pytest.mark.parametrize("make", [lambda: block_on_base(h=0.25), lambda: cantilever_box(h=1.0)],
                         ids=["2d", "3d"])
def test_vtu_opens_with_fields_and_names(tmp_path, make):
    mesh = make()
    result = sample_result(mesh)
    [path] = result.write(tmp_path / "result.vtu")
    grid = pyvista.read(path)
    assert grid.n_cells == mesh.nelements and grid.n_points == mesh.nvertices
    assert grid.point_data["displacement"].shape == (mesh.nvertices, 3)
    assert np.allclose(grid.point_data["displacement"][:, :mesh.dim()],
                       result.point_data["displacement"])
    assert grid.cell_data["stress"].shape == (mesh.nelements, 9)
    assert np.allclose(grid.cell_data["density"], result.cell_data["density"])
    # the names as ParaView shows them: one integer field each, the legend in field data
    assert not [k for k in grid.cell_data.keys() if k.startswith("skfem:")]
    for number, (name, cells) in enumerate(mesh.subdomains.items(), start=1):
        assert grid.field_data[f"subdomain:{name}"][0] == number
        assert (grid.cell_data["subdomain"][cells] == number).all()
    labelled = grid.point_data["boundary"]
    for number, (name, facets) in enumerate(mesh.boundaries.items(), start=1):
        assert grid.field_data[f"boundary:{name}"][0] == number
        nodes = np.unique(mesh.facets[:, facets])
        # every node of a boundary is labelled with it, or with a later one (a corner)
        assert (labelled[nodes] >= number).all() and (labelled[nodes] == number).any()


def test_pvd_history(tmp_path):
    mesh = block_on_base(h=0.25)
    steps = [(0.5 * k, Result(mesh, point_data={"u": mesh.p[0] * k})) for k in range(3)]
    files = Result(mesh, history=steps).write(tmp_path / "history.pvd")
    assert len(files) == 4 and files[0].suffix == ".pvd"
    reader = pyvista.get_reader(str(files[0]))
    assert np.allclose(reader.time_values, [0.0, 0.5, 1.0])
    reader.set_active_time_value(1.0)
    grid = reader.read()[0]
    assert np.allclose(grid.point_data["u"], mesh.p[0] * 2)


def test_pvd_writer_index_is_valid_after_each_step(tmp_path):
    mesh = block_on_base(h=0.25)
    writer = PvdWriter(tmp_path / "run.pvd")
    for step in range(2):
        writer.add(Result(mesh, point_data={"u": mesh.p[1] * step}).to_meshio(), time=step)
        assert len(pyvista.get_reader(str(tmp_path / "run.pvd")).time_values) == step + 1


def test_plot_png_off_screen(tmp_path):
    mesh = block_on_base(h=0.1)
    result = sample_result(mesh)
    path = result.plot("displacement", tmp_path / "u.png", warp="displacement", title="u")
    image = pyvista.read(str(path))
    pixels = np.asarray(image.point_data[image.point_data.keys()[0]])
    assert image.dimensions[0] >= 800
    assert (pixels[:, :3] < 250).any(axis=1).mean() > 0.05       # not an empty white canvas
    result.plot("density", tmp_path / "d.png")
    with pytest.raises(UnknownNameError, match="no field named 'strain'; fields: "
                                               "displacement, temperature, stress, density"):
        result.plot("strain", tmp_path / "s.png")
    with pytest.raises(ParameterError, match="component must be"):
        result.plot("displacement", tmp_path / "c.png", component="w")
    with pytest.raises(ParameterError, match=r"\.png"):
        result.plot("density", tmp_path / "d.jpg")


def test_result_validation():
    mesh = block_on_base(h=0.25)
    with pytest.raises(ParameterError, match="point field 'u' has shape \\(3,\\); the mesh has"):
        Result(mesh, point_data={"u": np.zeros(3)})
    with pytest.raises(ParameterError, match="qoi 'x' must be a number"):
        Result(mesh, qoi={"x": "big"})
    with pytest.raises(ParameterError, match=r"\.vtu or \.pvd"):
        Result(mesh).write("out.vtk")


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "report.md"
    write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash while writing")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_atomic_write_has_ordinary_permissions(tmp_path):
    ordinary = tmp_path / "plain.txt"
    ordinary.write_text("x")
    written = write_text(tmp_path / "atomic.txt", "x")
    assert written.stat().st_mode & 0o777 == ordinary.stat().st_mode & 0o777
