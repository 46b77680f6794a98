"""Phase-field fracture of the single-edge-notched tension specimen at a coarse size: the
slit and its mesh, the reaction against linear elasticity before damage, the energy balance
before the crack runs, the crack running through the ligament, and bad input."""

import numpy as np
import pytest
from skfem import Basis

from fem_reg.errors import ParameterError
from fem_reg.fe import Material, elasticity_form, lagrange, solve_constrained
from fem_reg.fracture import PhaseFieldFracture
from fem_reg.mesh import boundary, sent_specimen


@pytest.fixture(scope="module")
def slit_mesh():
    return sent_specimen(h=0.05, h_crack=0.02)


def test_slit_doubles_the_notch_nodes_but_the_tip(slit_mesh):
    whole = sent_specimen(h=0.05, h_crack=0.02, slit=False)
    notch_nodes = np.unique(whole.facets[:, boundary(whole, "notch")])
    assert slit_mesh.nvertices - whole.nvertices == len(notch_nodes) - 1
    upper = np.unique(slit_mesh.facets[:, boundary(slit_mesh, "notch")])
    lower = np.unique(slit_mesh.facets[:, boundary(slit_mesh, "notch_lower")])
    assert len(np.intersect1d(upper, lower)) == 1              # the tip only
    tip = np.intersect1d(upper, lower)[0]
    assert np.allclose(slit_mesh.p[:, tip], [0.5, 0.5])


def test_reaction_before_damage_is_that_of_linear_elasticity(slit_mesh):
    """At a tiny displacement the damage stays ~0: the reaction is the elastic one
    (times 1 + k), computed here by an independent elimination."""
    problem = PhaseFieldFracture(slit_mesh, displacement=1e-6, steps=1, history_every=0)
    result = problem.solve()
    basis = Basis(slit_mesh, lagrange(slit_mesh, 1, vector=True))
    K = elasticity_form(Material(210.0, 0.3, "plane_strain")).assemble(basis)
    top, bottom = (basis.get_dofs(boundary(slit_mesh, n)) for n in ("top", "bottom"))
    fixed = np.concatenate([bottom.all(), top.all()])
    values = np.zeros(basis.N)
    values[top.nodal["u^2"]] = 1e-6
    u = solve_constrained(K, np.zeros(basis.N), fixed, values)
    force = (K @ u)[top.nodal["u^2"]].sum() * (1.0 + 1e-6)
    assert result.qoi["peak_force"] == pytest.approx(force, rel=1e-6)
    assert np.abs(result.point_data["damage"]).max() < 1e-6


def test_energy_balance_before_the_crack_runs(slit_mesh):
    """Work of the reaction = elastic + fracture energy while the response is smooth."""
    result = PhaseFieldFracture(slit_mesh, displacement=0.004, steps=20,
                                history_every=0).solve()
    assert result.qoi["energy_error"] < 5e-3
    assert result.qoi["fracture_energy"] > 0.0          # AT2 damages from the first load


@pytest.mark.slow
def test_the_crack_runs_through_the_ligament_in_refined_steps(slit_mesh):
    result = PhaseFieldFracture(slit_mesh, displacement=0.007, steps=35,
                                history_every=0).solve()
    d = result.point_data["damage"]
    x, y = slit_mesh.p
    ahead = (np.abs(y - 0.5) < 0.011) & (x > 0.55)
    assert (d[ahead] > 0.9).all()                       # broken ligament
    assert result.qoi["final_force"] < 0.05 * result.qoi["peak_force"]
    force = np.array(result.series["load"]["force"])
    assert force.argmax() < len(force) - 1
    # where the crack runs the steps were halved: more rows than the 35 steps, finer ones
    displacement = np.array(result.series["load"]["displacement"])
    assert result.meta["step_cuts"] > 0 and result.qoi["steps"] > 35
    assert np.diff(displacement).min() == pytest.approx(0.0002 / 2 ** 4)
    assert (np.diff(displacement) > 0).all()


def test_bad_input_names_the_culprit(slit_mesh):
    with pytest.raises(ParameterError, match="kind = '3d' on a 2D mesh"):
        PhaseFieldFracture(slit_mesh, kind="3d")
    with pytest.raises(ParameterError, match="initial_damage needs exactly"):
        PhaseFieldFracture(slit_mesh, initial_damage={"from": [0, 0.5], "width": 0.01})
    with pytest.raises(ParameterError, match="direction = 'z'"):
        PhaseFieldFracture(slit_mesh, direction="z")
    with pytest.raises(ParameterError, match="model"):
        PhaseFieldFracture(slit_mesh, model="AT3")
