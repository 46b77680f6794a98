"""Every shipped case file and example script, at its smallest size: the case files load,
validate (parameters, [study], [output]) and fit the machine; those no other test runs are
run; the scripts run with their smallest options and print their verification."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from fem_reg.cases import (check_case_size, run_case, solver_for, study_case, study_options,
                           sweep_table)
from fem_reg.io import case_from_dict, load_case

EXAMPLES = Path(__file__).parent.parent / "examples"
CASES = sorted(EXAMPLES.glob("*.toml"))
SCRIPTS = sorted(EXAMPLES.glob("*.py"))


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_every_case_file_loads_and_validates(path):
    case = load_case(path)
    solver_for(case)                                    # parameters
    options = study_options(case)                       # [study]
    estimates = check_case_size(case, options["levels"], options["refinement"],
                                options["ratio"])      # fits this machine
    assert len(estimates) == options["levels"] and estimates[0].cells > 0
    if case.sweep:
        assert len(sweep_table(case)) > 1                # every point's parameters


@pytest.mark.slow
def test_the_gamma_sweep_case_file_runs(tmp_path):
    """examples/frictional_slip_gamma_sweep.toml at a coarse size: one study per gamma, the
    sweep table with each point's verdict; the converged transition width grows with gamma
    (the regularization sets it, not the mesh)."""
    case = smaller(EXAMPLES / "frictional_slip_gamma_sweep.toml", mesh={"h": 0.1}, steps=40)
    sweep, files = study_case(case, tmp_path, levels=3, workers=2)
    assert [values["gamma"] for values in sweep.points] == [0.02, 0.05, 0.1, 0.3]
    assert sweep.failed_levels() == 0
    widths = [study.rows[-1]["qoi"]["transition_width"] for study in sweep.studies]
    assert all(a < b for a, b in zip(widths, widths[1:])), widths
    names = {Path(f).name for f in files}
    assert {"frictional_slip_gamma_sweep_sweep.md", "frictional_slip_gamma_sweep_sweep.png",
            "study_levels.pvd"} <= names


def smaller(path, mesh=None, output=None, **parameters):
    """The case file with a coarser mesh and fewer iterations, as the CLI would run it."""
    import tomllib
    data = tomllib.loads(path.read_text())
    data["mesh"].update(mesh or {})
    data.setdefault("output", {}).update(output or {})
    data["parameters"].update(parameters)
    return case_from_dict(data, source=str(path), base_dir=path.parent)


def test_mbb_case_file_runs(tmp_path):
    """examples/mbb_beam.toml (never run before): 12 iterations at h = 2; the volume
    constraint holds and every declared output is written."""
    case = smaller(EXAMPLES / "mbb_beam.toml", {"h": 2.0}, max_iterations=12)
    summary = run_case(case, tmp_path)
    assert summary["qoi"]["volume_fraction"] == pytest.approx(0.5, abs=0.01)
    names = {Path(p).name for p in summary["outputs"]}
    assert {"mbb_beam.vtu", "mbb_beam.pvd", "mbb_beam_density.png",
            "mbb_beam_contour.vtp", "mbb_beam_convergence.csv"} <= names


@pytest.mark.slow
def test_fracture_case_file_runs(tmp_path):
    """examples/fracture_sent.toml on a coarser crack band and fewer steps: the crack runs
    (the force drops to nearly nothing) and the load curve and damage history are written."""
    case = smaller(EXAMPLES / "fracture_sent.toml", {"h_crack": 0.02, "band": 0.1},
                   steps=35)
    summary = run_case(case, tmp_path)
    assert 0.5 < summary["qoi"]["peak_force"] < 1.0                      # kN
    assert summary["qoi"]["final_force"] < 0.05 * summary["qoi"]["peak_force"]
    names = {Path(p).name for p in summary["outputs"]}
    assert {"fracture_sent.vtu", "fracture_sent.pvd", "fracture_sent_load.csv",
            "fracture_sent_load.png", "fracture_sent_damage.png"} <= names


# Miehe, Hofacker & Welschinger (2010, CMAME 199: 2765-2778), their load-displacement curves
# as digitized by the phasefieldx project (github.com/CastillonMiguel/phasefieldx,
# examples/PhaseFieldFracture/reference_solutions): the peaks of the tension and the shear
# test, kN. Their spectral split, history field and meshes differ from the examples' set-up;
# docs/fracture.md compares the curves and the refined meshes.
MIEHE_TENSION_PEAK = 0.701
MIEHE_SHEAR_PEAK = 0.531


@pytest.mark.slow
def test_fracture_sent_example_peak_against_miehe_2010(tmp_path):
    """examples/fracture_sent.toml as shipped (l = 0.015 mm, h = l/2 in the crack band): its
    peak load within 4% of Miehe et al.'s (measured +2.4%; the refined meshes of
    docs/fracture.md give -0.7% and -2.0%)."""
    case = smaller(EXAMPLES / "fracture_sent.toml", output={"png": []}, history_every=0)
    peak = run_case(case, tmp_path)["qoi"]["peak_force"]
    assert peak == pytest.approx(MIEHE_TENSION_PEAK, rel=0.04)


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["alternate", "newton"])
def test_fracture_sens_case_file_kinks_the_crack_down_to_the_bottom_right(tmp_path, scheme):
    """examples/fracture_sens.toml at l = 0.05 mm (h = l/2): the shear test's crack leaves
    the notch tip downwards, at about the 70.5 degrees of the maximum hoop stress criterion
    for pure mode II (Erdogan & Sih 1963), and runs to the bottom edge right of the middle,
    as in Miehe et al. (2010); nothing breaks above the notch (the spectral split spares
    the compressed side). The peak load is Miehe et al.'s to 5% (measured -1.2% by
    alternate minimization, -1.7% by the monolithic Newton method)."""
    import meshio

    from fem_reg.fracture import crack_direction

    case = smaller(EXAMPLES / "fracture_sens.toml", {"h": 0.1, "h_crack": 0.025,
                                                       "box": [0.4, 1.0, 0.0, 0.6]},
                   {"png": []}, length=0.05, displacement=0.014, steps=28, history_every=0,
                   scheme=scheme)
    summary = run_case(case, tmp_path)
    fields = meshio.read(tmp_path / "fracture_sens.vtu")
    x, d = fields.points[:, :2].T, fields.point_data["damage"]
    broken = d >= 0.9
    assert broken.sum() > 50
    assert x[1, broken & (x[0] > 0.55)].max() < 0.5                      # below the notch
    angle = crack_direction(x, d, (0.5, 0.5), within=(0.1, 0.3))
    assert abs(angle - (-70.5)) < 10.0, angle
    bottom = broken & (x[1] < 0.01)
    assert bottom.any() and 0.7 < x[0, bottom].min() < 1.0
    assert summary["qoi"]["peak_force"] == pytest.approx(MIEHE_SHEAR_PEAK, rel=0.05)


@pytest.mark.slow
def test_3d_hexahedral_case_file_runs_resumes_and_writes_its_surface(tmp_path):
    """examples/cantilever_3d.toml at h = 0.125 (24 x 8 x 8 hexahedra): multigrid-CG through
    the Helmholtz filter, projection and MMA; stopped after 6 iterations and resumed from
    the checkpoint to 12 it ends where an uninterrupted 12-iteration run ends; the STL
    surface, the PVD history and the picture are written."""
    early = {"threshold": 0.1,          # 6-12 iterations: the density is still below 0.5
             "contour": {"field": "density", "value": 0.1, "format": "stl"}}
    whole = run_case(smaller(EXAMPLES / "cantilever_3d.toml", {"h": 0.125}, early,
                             max_iterations=12, checkpoint_every=3), tmp_path / "whole")
    assert whole["meta"]["solver"] == "multigrid"
    names = {Path(p).name for p in whole["outputs"]}
    assert {"cantilever_3d.vtu", "cantilever_3d.pvd", "cantilever_3d_density.png",
            "cantilever_3d_contour.stl"} <= names
    half = tmp_path / "half"
    run_case(smaller(EXAMPLES / "cantilever_3d.toml", {"h": 0.125}, early, max_iterations=6,
                     checkpoint_every=3), half)
    resumed = run_case(smaller(EXAMPLES / "cantilever_3d.toml", {"h": 0.125}, early,
                               max_iterations=12, checkpoint_every=3), half, resume=True)
    assert resumed["qoi"]["compliance"] == pytest.approx(whole["qoi"]["compliance"], rel=1e-6)
    assert resumed["qoi"]["volume_fraction"] == pytest.approx(0.15, abs=0.01)


def test_tangential_case_file_converges_at_its_theoretical_orders(tmp_path):
    """examples/mms_tangential.toml (never run before), three levels: the interface
    penalty's L2 and H1 errors converge at orders 2 and 1 (P1)."""
    case = load_case(EXAMPLES / "mms_tangential.toml")
    study, files = study_case(case, tmp_path, levels=3)
    for name, order in (("l2_error", 2.0), ("h1_error", 1.0)):
        entry = study.analysis[name]
        assert entry["expected_order"] == order and entry["mesh_independent"] is None
        assert abs(entry["observed_order"] - order) <= 0.15, entry["reason"]


def run_script(name, *options, cwd):
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *options], cwd=cwd,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_script_frictional_bar_convergence(tmp_path):
    """Against the bar's closed form: with gamma = 0.1 (a smooth slip profile) the
    displacement, slip and force errors converge at order 2; the local law (gamma = 0, a
    kink at the slip front) is printed but converges erratically."""
    out = run_script("frictional_bar_convergence.py", cwd=tmp_path)
    slopes = re.findall(r"slopes \(3 finest\): u ([\d.]+), s ([\d.]+), force ([\d.]+)", out)
    assert len(slopes) == 3 and all(abs(float(v) - 2.0) < 0.1 for v in slopes[-1])


@pytest.mark.slow
def test_script_mms_convergence(tmp_path):
    out = run_script("mms_convergence.py", "--out", "mms", "--only",
                     "helmholtz_p1_tri_remesh", cwd=tmp_path)
    row = next(line for line in out.splitlines() if line.startswith("| helmholtz_p1_tri"))
    assert row.rstrip(" |").endswith("yes"), row
    assert (tmp_path / "mms" / "summary.md").is_file()


@pytest.mark.slow
def test_script_topopt_mesh_independence(tmp_path):
    out = run_script("topopt_mesh_independence.py", "--out", "t", "--levels", "3",
                     "--order", "1", "--max-iterations", "5", cwd=tmp_path)
    assert "Harness on the compliance" in out
    assert (tmp_path / "t" / "topopt_mesh_independence.md").is_file()


@pytest.mark.slow
def test_script_frictional_slip_study(tmp_path):
    out = run_script("frictional_slip_study.py", "--out", "f", "--levels", "2", "--h0", "0.2",
                     "--gammas", "0.1", "--sweep-h", "0.2", "--workers", "1", cwd=tmp_path)
    assert "gamma = 0.1: mesh-independent at 2%" in out
    assert (tmp_path / "f" / "frictional_slip_study.md").is_file()


@pytest.mark.slow
def test_script_membrane_tables(tmp_path):
    """Cook's membrane n x n for n = 2 ... 64 (the published 23.96), MacNeal-Harder, the
    gamma and alpha sweeps."""
    out = run_script("membrane_tables.py", "--out", "m", cwd=tmp_path)
    row = next(line for line in out.splitlines() if line.startswith("| allman |"))
    extrapolated = float(row.split("|")[8])
    assert extrapolated == pytest.approx(23.96, rel=0.005)


def test_every_script_is_exercised():
    tested = {"frictional_bar_convergence.py", "mms_convergence.py", "membrane_tables.py",
              "topopt_mesh_independence.py", "frictional_slip_study.py"}
    assert {p.name for p in SCRIPTS} == tested
