"""Canonical geometries (areas, names where they should be) and refinement keeping names."""

import pickle

import numpy as np
import pytest
from skfem import MeshTet1

from fem_reg.errors import MeshError, ParameterError, UnknownNameError
from fem_reg.mesh import (GEOMETRIES, Remeshing, UniformRefinement, block_on_base,
                          boundary, cantilever, cantilever_box, cook_membrane, l_bracket,
                          mbb_beam, mesh_info, mesh_size, rectangle, refine)
from fem_reg.mesh.quality import shape_quality
from fem_reg.mesh.info import vtk_cells


def facet_midpoints(mesh, name):
    return mesh.p[:, mesh.facets[:, boundary(mesh, name)]].mean(axis=1)


def named_length(mesh, name):
    x = mesh.p[:, mesh.facets[:, boundary(mesh, name)]]
    return np.linalg.norm(x[:, 1] - x[:, 0], axis=0).sum()


@pytest.mark.parametrize("cell_type,structured", [("triangle", False), ("quad", False),
                                                  ("triangle", True), ("quad", True)])
def test_cook_membrane(cell_type, structured):
    mesh = cook_membrane(h=4.0, cell_type=cell_type, structured=structured)
    assert np.isclose(mesh_info(mesh)["measure"], (44 + 16) / 2 * 48)   # a trapezoid
    assert np.allclose(facet_midpoints(mesh, "clamped")[0], 0)
    assert np.allclose(facet_midpoints(mesh, "loaded")[0], 48)
    assert np.isclose(named_length(mesh, "loaded"), 16)
    if structured:
        assert mesh.nelements == 12 * 12 * (2 if cell_type == "triangle" else 1)


def test_mbb_beam_segments_and_structured_grid():
    mesh = mbb_beam(h=1.0, cell_type="quad", structured=True)
    assert mesh.nelements == 60 * 20                     # the classic 60 x 20 grid
    assert np.isclose(named_length(mesh, "load"), 1.0)
    assert np.isclose(named_length(mesh, "support"), 1.0)
    assert np.allclose(facet_midpoints(mesh, "support"), [[59.5], [0.0]])
    assert np.allclose(facet_midpoints(mesh, "load"), [[0.5], [20.0]])
    assert np.isclose(named_length(mesh, "top"), 60) and np.isclose(named_length(mesh, "bottom"), 60)
    with pytest.raises(ParameterError, match="structured mesh impossible"):
        mbb_beam(h=0.7, load_width=0.5, structured=True)


def test_cantilever_l_bracket_block():
    c = cantilever(h=0.1)
    assert np.isclose(mesh_info(c)["measure"], 2.0) and np.isclose(named_length(c, "load"), 0.1)
    assert np.isclose(named_length(c, "tip"), 1.0)
    lb = l_bracket(h=0.05)
    assert np.isclose(mesh_info(lb)["measure"], 1 - 0.6 ** 2)
    assert np.isclose(named_length(lb, "reentrant"), 1.2)
    bb = block_on_base(h=0.1)
    cells = bb.subdomains
    area = lambda ids: np.abs(np.linalg.det(np.stack(          # noqa: E731
        [bb.p[:, bb.t[1, ids]] - bb.p[:, bb.t[0, ids]],
         bb.p[:, bb.t[2, ids]] - bb.p[:, bb.t[0, ids]]], axis=-1).transpose(1, 0, 2))).sum() / 2
    assert np.isclose(area(cells["block"]), 0.5) and np.isclose(area(cells["base"]), 1.5 * 0.25)
    # the interface is interior: both sides have cells
    assert (bb.f2t[1, boundary(bb, "interface")] >= 0).all()
    assert np.isclose(named_length(bb, "interface"), 1.0)


def test_box_volume_and_faces():
    for mesh in (cantilever_box(h=0.5), cantilever_box(h=0.5, cell_type="hexahedron",
                                                       structured=True)):
        assert np.isclose(mesh_info(mesh)["measure"], 4.0)
        x = mesh.p[:, mesh.facets[:, boundary(mesh, "tip")]]
        assert np.allclose(x[0], 4.0)


def test_geometry_errors():
    with pytest.raises(ParameterError, match="needs structured=true"):
        cantilever_box(cell_type="hexahedron")
    with pytest.raises(ParameterError, match="cell_type must be one of triangle, quad"):
        rectangle(cell_type="tet")
    with pytest.raises(ParameterError, match="h must be in"):
        cook_membrane(h=0)
    with pytest.raises(ParameterError, match="arm must be smaller"):
        l_bracket(arm=2.0)


def test_refinement_keeps_names(named_mesh):
    coarse = named_mesh
    fine = refine(coarse, 2)
    per_facet = 4 if coarse.dim() == 2 else 16
    children = 16 if coarse.dim() == 2 else 64
    for name, facets in coarse.boundaries.items():
        assert len(fine.boundaries[name]) == per_facet * len(facets), name
        # every fine named facet lies on the union of the coarse named facets
        mid = fine.p[:, fine.facets[:, fine.boundaries[name]]].mean(axis=1)
        coarse_nodes = coarse.p[:, np.unique(coarse.facets[:, facets])]
        for axis in range(coarse.dim()):
            if np.ptp(coarse_nodes[axis]) < 1e-12:     # the canonical names are planar
                assert np.allclose(mid[axis], coarse_nodes[axis, 0]), name
    for name, cells in coarse.subdomains.items():
        assert len(fine.subdomains[name]) == children * len(cells)
    if "block" in coarse.subdomains:
        centroids = fine.p[:, fine.t].mean(axis=1)
        assert (centroids[1, fine.subdomains["block"]] > 0).all()
        assert (centroids[1, fine.subdomains["base"]] < 0).all()


def test_tetrahedral_refinement_keeps_quality():
    """Bey's ordered rule from the best first split: the worst shape never degrades
    (scikit-fem's own rule lost 60% of the minimum quality in three levels)."""
    base = cantilever_box(h=0.25, length=1.0)
    quality = [shape_quality(m.p.T, vtk_cells(m), "tetra").min() for m in
               (refine(base, k) for k in range(3))]
    assert quality[2] >= 0.99 * quality[0]
    assert isinstance(refine(base, 1), MeshTet1)


def test_sequences_are_consumable_and_picklable():
    uniform = UniformRefinement(rectangle(h=0.5), 3)
    remesh = Remeshing("cook_membrane", 12.0, 3, cell_type="quad")
    for sequence in (uniform, remesh):
        sizes = [mesh_size(m) for m in sequence]
        assert len(sizes) == 3 and all(a > b for a, b in zip(sizes, sizes[1:]))
        keys = {sequence.key(k) for k in range(3)}
        assert len(keys) == 3
        clone = pickle.loads(pickle.dumps(sequence))
        assert clone.key(1) == sequence.key(1) and clone.mesh(1).nelements == \
            sequence.mesh(1).nelements
    ratios = [mesh_size(uniform.mesh(k)) / mesh_size(uniform.mesh(k + 1)) for k in range(2)]
    assert np.allclose(ratios, 2.0)
    with pytest.raises(UnknownNameError, match="unknown geometry 'cooks'"):
        Remeshing("cooks", 1.0, 2)
    with pytest.raises(ParameterError, match="level must be in 0..2"):
        uniform.mesh(3)


def test_every_geometry_is_registered_with_an_h():
    for name, make in GEOMETRIES.items():
        assert "h" in make.__code__.co_varnames, name


def test_gmsh_failure_is_a_mesh_error():
    # blossom quads need an even number of boundary divisions; h = 22 gives odd ones
    with pytest.raises(MeshError, match=r"cook_membrane.*h = 22 with quad cells"):
        cook_membrane(h=22.0, cell_type="quad")


def _ignored_signals():
    """The kernel's set of ignored signals for this process (Python's own table can be stale
    when a C library changes a disposition behind its back)."""
    with open("/proc/self/status") as status:
        mask = next(int(line.split()[1], 16) for line in status if line.startswith("SigIgn"))
    return {number for number in range(1, 64) if mask >> (number - 1) & 1}


def test_meshing_keeps_python_signal_dispositions():
    """gmsh's initialize resets SIGPIPE to its default, which killed a process pool study
    (status -13) when its shutdown wrote to a dead worker's pipe."""
    import signal
    assert signal.SIGPIPE in _ignored_signals()
    rectangle(0.5)
    assert signal.SIGPIPE in _ignored_signals()
    assert signal.getsignal(signal.SIGTERM) is not None


def test_remeshing_shrinks_local_sizes_with_h():
    """A study's levels refine the crack band (``h_crack``) with the rest of the mesh."""
    sizes = []
    for level in range(2):
        mesh = Remeshing("sent_specimen", 0.1, 2, h_crack=0.02, band=0.05).mesh(level)
        x = mesh.p[:, mesh.facets]
        middle = x.mean(axis=1)
        ahead = (middle[0] > 0.6) & (np.abs(middle[1] - 0.5) < 0.03)
        sizes.append(np.median(np.linalg.norm(x[:, 1] - x[:, 0], axis=0)[ahead]))
    assert sizes[0] == pytest.approx(0.02, rel=0.25)
    assert sizes[1] == pytest.approx(0.01, rel=0.25)


def test_meshing_from_several_threads_is_serialized_not_a_crash():
    """gmsh's state is global: two threads meshing at once crashed the process (a thread
    pool's levels, a Dask worker with several threads). Meshing takes a lock now; each
    thread gets the mesh it would get alone."""
    from concurrent.futures import ThreadPoolExecutor

    from fem_reg.mesh import Remeshing
    sequence = Remeshing("rectangle", 0.25, 3)
    alone = [sequence.mesh(level).nelements for level in range(3)]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(lambda level: sequence.mesh(level).nelements,
                                 [0, 1, 2, 2, 1, 0]))
    assert together == alone + alone[::-1]
