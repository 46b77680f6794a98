"""Case files and the fem-reg command: contracts of run/study/demo/mesh info, and one-line
errors with exit status 2 for every user mistake."""

import json
import os
import shutil
import subprocess
import sys
import traceback

import numpy as np
import pytest
import pyvista

from fem_reg.cli import main
from fem_reg.errors import CaseError
from fem_reg.io.case_file import case_from_dict, load_case

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def write_case(tmp_path, text, name="case.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


GOOD = 'problem = "helmholtz_mms"\n[mesh]\ngeometry = "rectangle"\nh = 0.25\n'


def test_run_json_contract(tmp_path, capsys):
    case = write_case(tmp_path, GOOD + '[output]\npng = ["u"]\n')
    status, out, err = run(capsys, "run", case, "--out", str(tmp_path / "out"), "--json")
    assert status == 0
    data = json.loads(out)                                   # stdout is one JSON object
    assert data["case"] == "case" and set(data["qoi"]) == {"l2_error", "h1_error", "energy"}
    assert any(p.endswith(".vtu") for p in data["outputs"])
    assert any(p.endswith("case_u.png") for p in data["outputs"])
    grid = pyvista.read(next(p for p in data["outputs"] if p.endswith(".vtu")))
    assert {"u", "u_exact", "error"} <= set(grid.point_data.keys())
    assert "running case" in err                              # logs go to stderr


def test_study_json_contract(tmp_path, capsys):
    status, out, _ = run(capsys, "-q", "study", os.path.join(EXAMPLES, "mms_helmholtz.toml"),
                         "--levels", "4", "--out", str(tmp_path), "--json")
    assert status == 0
    data = json.loads(out)
    assert len(data["levels"]) == 4
    for row in data["levels"]:
        assert {"h", "ndofs", "qoi", "seconds"} <= set(row)
    for name in ("l2_error", "h1_error", "energy"):
        entry = data["qoi"][name]
        for key in ("order", "extrapolated", "gci_fine", "asymptotic_ratio", "convergence",
                    "mesh_independent"):
            assert key in entry
    assert abs(data["qoi"]["l2_error"]["observed_order"] - 2) <= 0.1
    assert data["qoi"]["energy"]["mesh_independent"] is True
    # run again: every level comes from the cache
    status, out, _ = run(capsys, "-q", "study", os.path.join(EXAMPLES, "mms_helmholtz.toml"),
                         "--levels", "4", "--out", str(tmp_path), "--json")
    assert all(row.get("cached") for row in json.loads(out)["levels"])


@pytest.mark.parametrize("text,pattern", [
    ('problem = "helmholtz_mmx"\n[mesh]\ngeometry = "rectangle"\n',
     "unknown problem 'helmholtz_mmx'; known: helmholtz_mms"),
    ('problem = "helmholtz_mms"\nmeshh = 1\n', "unknown key 'meshh'; allowed: title, problem"),
    ('problem = "helmholtz_mms"\n[mesh\n', r"invalid TOML .*line 2"),
    (GOOD + "[parameters]\nradiuss = 1\n",
     r"\[parameters\]: unknown parameter 'radiuss' for helmholtz_mms; allowed: radius, order"),
    (GOOD + "[parameters]\nradius = -1\n", r"\[parameters\]: radius must be in \(0, inf\)"),
    ('problem = "helmholtz_mms"\n[mesh]\ngeometry = "rectangel"\n',
     r"\[mesh\]: unknown geometry 'rectangel'; known: rectangle"),
    ('problem = "helmholtz_mms"\n[mesh]\ngeometry = "rectangle"\nhh = 1\n',
     r"\[mesh\]: unknown key 'hh' for geometry 'rectangle'; allowed: .*h, width"),
    ('problem = "helmholtz_mms"\n[mesh]\nfile = "missing.msh"\n', "missing.msh: no such file"),
    ('problem = "helmholtz_mms"\n[mesh]\nfile = "a.msh"\ngeometry = "rectangle"\n',
     "give either 'file' or 'geometry'"),
    ('problem = "helmholtz_mms"\n', "missing key 'mesh'"),
    (GOOD + '[output]\npng = ["uu"]\n', r"png field 'uu' does not exist; fields: u, u_exact"),
    (GOOD + '[output]\nvtu = "yes"\n', r"'vtu' must be true or false"),
    ('problem = "tangential_mms"\n[mesh]\ngeometry = "rectangle"\n[parameters]\n'
     'boundary = "bottm"\n', "no boundary named 'bottm'; the mesh has: bottom, left"),
    ('problem = "elasticity_mms"\n[mesh]\ngeometry = "rectangle"\n[parameters]\nnu = 0.5\n'
     'kind = "plane_strain"\n', "nu = 0.5 .* plane_strain"),
])
def test_run_user_errors_are_one_line_exit_2(tmp_path, capsys, text, pattern):
    import re
    case = write_case(tmp_path, text)
    out_dir = tmp_path / "out"
    status, out, err = run(capsys, "run", case, "--out", str(out_dir))
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert lines[-1].startswith("fem-reg: error: ") and re.search(pattern, lines[-1]), err
    assert not out_dir.exists() or not any(out_dir.iterdir())   # nothing half-written


@pytest.mark.parametrize("text,pattern", [
    (GOOD + "[study]\nlevels = 0\n", r"\[study\]: levels must be an integer >= 1, got 0"),
    (GOOD + '[study]\nqoi = ["l3_error"]\n', "unknown QoI 'l3_error' for helmholtz_mms"),
    (GOOD + "[study]\nlevelz = 3\n", r"\[study\]: unknown key 'levelz'"),
    (GOOD + '[study]\nrefinement = "adaptive"\n', "refinement must be one of remesh, uniform"),
    ('problem = "helmholtz_mms"\n[mesh]\nfile = "m.msh"\n[study]\nlevels = 2\n',
     "refinement 'remesh' needs a geometry"),
])
def test_study_user_errors(tmp_path, capsys, text, pattern):
    import re
    shutil.copy(os.path.join(os.path.dirname(__file__), "data", "square_ok.msh"),
                tmp_path / "m.msh")
    status, out, err = run(capsys, "study", write_case(tmp_path, text), "--out",
                           str(tmp_path / "out"))
    assert status == 2 and out == "" and re.search(pattern, err.strip().splitlines()[-1]), err


def test_missing_case_and_bad_command(capsys, tmp_path):
    status, _, err = run(capsys, "run", str(tmp_path / "nope.toml"))
    assert status == 2 and "nope.toml: no such case file" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["runn"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'runn'" in capsys.readouterr().err


def test_mesh_file_case_relative_to_case_file(tmp_path, capsys):
    shutil.copy(os.path.join(os.path.dirname(__file__), "data", "square_ok.msh"),
                tmp_path / "square.msh")
    case = write_case(tmp_path, 'problem = "diffusion_mms"\n[mesh]\nfile = "square.msh"\n'
                                'refine = 2\n')
    status, out, _ = run(capsys, "run", case, "--out", str(tmp_path / "o"), "--json")
    assert status == 0 and json.loads(out)["meta"]["cells"] == 4 * 16


def test_mesh_info_and_make(tmp_path, capsys, data_dir):
    status, out, _ = run(capsys, "mesh", "make", "cook_membrane", str(tmp_path / "cook.msh"),
                         "--h", "8", "--cell-type", "quad")
    assert status == 0 and "boundaries bottom, loaded, top, clamped" in out
    status, out, _ = run(capsys, "mesh", "info", str(tmp_path / "cook.msh"), "--json")
    info = json.loads(out)
    assert info["cell_type"] == "quad" and np.isclose(info["measure"], 1440.0)
    assert set(info["boundaries"]) == {"bottom", "loaded", "top", "clamped"}
    status, out, _ = run(capsys, "mesh", "info", os.path.join(data_dir, "square_ok.msh"))
    assert "4 triangle cells, 5 nodes" in out and "bottom (1)" in out
    status, _, err = run(capsys, "mesh", "info", os.path.join(data_dir, "broken",
                                                              "inverted.msh"))
    assert status == 2 and "inverted triangle cell(s): cell ids 0" in err
    status, _, err = run(capsys, "mesh", "make", "cook", str(tmp_path / "x.msh"))
    assert status == 2 and "unknown geometry 'cook'" in err


def test_mesh_make_out_option_json_and_quiet(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "mesh", "make", "l_bracket", "--h", "0.2", "--json", "-q")
    data = json.loads(out)
    assert status == 0 and data["file"] == "l_bracket.msh" and "reentrant" in data["boundaries"]
    status, _, _ = run(capsys, "mesh", "make", "rectangle", "--out", "sq.vtu", "--h", "0.5")
    assert status == 0 and (tmp_path / "sq.vtu").exists()
    status, _, err = run(capsys, "mesh", "make", "rectangle", "a.msh", "--out", "b.msh")
    assert status == 2 and "two output files" in err and not (tmp_path / "a.msh").exists()
    # the file may follow the options
    status, out, _ = run(capsys, "mesh", "make", "rectangle", "--h", "0.5", "late.msh")
    assert status == 0 and (tmp_path / "late.msh").exists() and "wrote late.msh" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["mesh", "make", "rectangle", "--h", "0.5", "a.msh", "b.msh"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: b.msh" in capsys.readouterr().err


def test_problems_listing(capsys):
    status, out, _ = run(capsys, "problems", "--json")
    data = json.loads(out)
    assert status == 0 and data["helmholtz_mms"]["parameters"] == {"radius": 0.3, "order": 1}


@pytest.mark.slow
def test_demo_quick_writes_report_and_openable_vtu(tmp_path, capsys):
    status, out, _ = run(capsys, "-q", "demo", "--quick", "--out", str(tmp_path), "--json")
    assert status == 0
    data = json.loads(out)
    assert os.path.isfile(data["report"]) and "| case | QoI |" in data["table"]
    vtu = [p for p in data["outputs"] if p.endswith("elasticity_p1.vtu")][0]
    grid = pyvista.read(vtu)
    assert "displacement" in grid.point_data.keys() and "von_mises" in grid.cell_data.keys()
    assert grid.point_data["displacement"].shape[1] == 3
    assert "subdomain" in grid.cell_data.keys() and "boundary" in grid.point_data.keys()
    assert {"boundary:clamped", "boundary:reentrant", "subdomain:bracket"} <= \
        set(grid.field_data.keys())
    assert any(p.endswith(".png") for p in data["outputs"])
    # the fracture contrast: without its gradient term the dissipated energy halves with h
    local = data["studies"]["fracture_sent_local"]
    energies = [row["qoi"]["dissipated_energy"] for row in local["levels"]]
    assert all(0.4 < fine / coarse < 0.6 for coarse, fine in zip(energies, energies[1:]))
    assert local["qoi"]["dissipated_energy"]["mesh_independent"] is False
    gradient = data["studies"]["fracture_sent"]["qoi"]["dissipated_energy"]
    assert gradient["gci_fine"] < 0.1 * local["qoi"]["dissipated_energy"]["gci_fine"]


def test_console_script_is_installed():
    exe = shutil.which("fem-reg") or os.path.join(os.path.dirname(sys.executable), "fem-reg")
    done = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("fem-reg ")


def test_case_from_dict_validation():
    with pytest.raises(CaseError, match="'png' lists field names"):
        case_from_dict({"problem": "x", "mesh": {}, "output": {"png": [1]}})
    case = case_from_dict({"problem": "x", "mesh": {"geometry": "rectangle"}})
    assert case.name == "x"
    assert load_case(os.path.join(EXAMPLES, "mms_elasticity.toml")).study["levels"] == 4


def test_cook_membrane_case_runs_and_studies(tmp_path, capsys):
    """``fem-reg run/study examples/cook_membrane.toml``: 4x4 Allman-type triangles give
    22.17 (table in docs/membranes.md); the uniform-refinement study extrapolates to the
    published 23.96 and says mesh-independent at 1%."""
    case = os.path.join(EXAMPLES, "cook_membrane.toml")
    status, out, _ = run(capsys, "-q", "run", case, "--out", str(tmp_path / "run"), "--json")
    data = json.loads(out)
    assert status == 0 and data["qoi"]["tip_uy"] == pytest.approx(22.167, abs=1e-3)
    assert any(path.endswith("cook_membrane_rotation.png") for path in data["outputs"])
    status, out, _ = run(capsys, "-q", "study", case, "--out", str(tmp_path / "study"),
                         "--json")
    tip = json.loads(out)["qoi"]["tip_uy"]
    assert status == 0 and tip["mesh_independent"]
    assert tip["extrapolated"] == pytest.approx(23.96, rel=0.002)


def test_membrane_case_errors_name_the_key(tmp_path, capsys):
    case = write_case(tmp_path, 'problem = "membrane"\n[mesh]\ngeometry = "cook_membrane"\n'
                      'h = 12.0\n[parameters]\nsupports = { left = "clamped" }\n')
    status, _, err = run(capsys, "run", case, "--out", str(tmp_path / "o"))
    assert status == 2 and "no boundary named 'left'; the mesh has: bottom, clamped" in err
    case = write_case(tmp_path, 'problem = "membrane"\n[mesh]\ngeometry = "cook_membrane"\n'
                      'h = 12.0\n[study]\nqoi = ["tip_uy"]\n', name="c2.toml")
    status, _, err = run(capsys, "study", case, "--out", str(tmp_path / "o2"))
    assert status == 2 and "unknown QoI 'tip_uy'" in err and "compliance" in err


def test_every_registered_problem_implements_the_declared_interface():
    """cases.py and the runner call the Problem interface only (no attribute probing)."""
    import dataclasses

    from fem_reg.cases import PROBLEMS
    from fem_reg.problem import Problem
    for name, cls in PROBLEMS.items():
        assert issubclass(cls, Problem) and cls.name == name
        assert dataclasses.is_dataclass(cls.Parameters) and cls.QOI
        options = cls.solve_options(progress=print, checkpoint="c", resume=True)
        assert set(options) == ({"progress", "checkpoint", "resume"} if cls.iterative else
                                {"progress"} if cls.reports_progress else set())
    with pytest.raises(TypeError, match="lacks Parameters"):
        type("Broken", (Problem,), {"name": "broken", "QOI": ("x",),
                                    "solve": lambda self: None})


def test_errors_are_re_raised_with_their_type_and_where(tmp_path):
    """A problem's error is re-raised as itself (type, attributes, traceback) with the case
    file in front of its message, not rebuilt as a new exception."""
    from fem_reg.cases import run_case
    from fem_reg.errors import UnknownNameError
    case = case_from_dict({"problem": "tangential_mms", "mesh": {"geometry": "rectangle",
                                                                 "h": 0.5},
                           "parameters": {"boundary": "nowhere"}}, source="edge.toml")
    with pytest.raises(UnknownNameError) as caught:
        run_case(case, tmp_path)
    err = caught.value
    assert isinstance(err, KeyError)                      # UnknownNameError is a KeyError
    assert err.context == ("edge.toml",) and "nowhere" in err.message()
    assert str(err).startswith("edge.toml: ") and "'" not in str(err)[:11]
    # the traceback still ends where the name was looked up
    assert traceback.extract_tb(err.__traceback__)[-1].filename.endswith("names.py")


def test_study_writes_each_levels_contour(tmp_path, capsys):
    """``[output] contour`` in a study: one design boundary per level, readable by VTK, each
    inside the domain."""
    case = tmp_path / "cant.toml"
    case.write_text("""
problem = "topopt"
[mesh]
geometry = "cantilever"
h = 0.2
[parameters]
filter_radius = 0.3
max_iterations = 25
history_every = 0
supports = { clamped = "clamped" }
traction = { load = [0.0, -1.0] }
[output]
contour = { field = "density", value = 0.5 }
[study]
levels = 3
refinement = "uniform"
qoi = ["compliance"]
""")
    out = tmp_path / "out"
    assert main(["study", str(case), "--out", str(out), "-q"]) == 0
    for level in range(3):
        line = pyvista.read(out / f"cant_study_level{level}_contour.vtp")
        assert line.n_points > 10
        x, y = line.points[:, 0], line.points[:, 1]
        assert x.min() >= -1e-9 and x.max() <= 2.0 + 1e-9 and y.min() >= -1e-9 \
            and y.max() <= 1.0 + 1e-9
