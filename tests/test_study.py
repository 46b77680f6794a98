"""The refinement-study runner: parallel levels, failures recorded, cache and resume,
stopping rules, reports; and the manufactured-solution study it exists for."""

import json

import numpy as np
import pytest

from fem_reg.errors import ParameterError
from fem_reg.io import Result
from fem_reg.mesh import Remeshing, UniformRefinement, mesh_size, rectangle
from fem_reg.mms import HelmholtzMMS
from fem_reg.study import ProblemSolver, run_study, to_markdown, write_reports
from fem_reg.study.runner import read_cached


class PowerLaw:
    """A cheap 'problem': phi = 1 + h^2 on the mesh, one marker file per call."""

    key = "power-law"

    def __init__(self, log_dir=None, fail_at=None, interrupt_at=None):
        self.log_dir, self.fail_at, self.interrupt_at = log_dir, fail_at, interrupt_at

    def __call__(self, mesh):
        h = mesh_size(mesh)
        level = int(round(np.log2(mesh_size(rectangle(h=0.5)) / h)))
        if self.log_dir is not None:
            (self.log_dir / f"call-{level}-{np.random.randint(1e9)}").touch()
        if level == self.interrupt_at:
            raise KeyboardInterrupt
        if level == self.fail_at:
            raise ValueError("solver blew up")
        return Result(mesh, point_data={"x": mesh.p[0]},
                      qoi={"phi": 1.0 + h ** 2, "psi": 2.0 - h},
                      meta={"ndofs": mesh.nvertices, "expected_order": {"phi": 2},
                            "reference": {"phi": 1.0}})


def calls(log_dir):
    return sorted(int(p.name.split("-")[1]) for p in log_dir.iterdir())


def sequence(levels=4):
    return UniformRefinement(rectangle(h=0.5), levels)


def test_sequential_and_parallel_agree():
    serial = run_study(PowerLaw(), sequence(), tolerance=0.05)
    parallel = run_study(PowerLaw(), sequence(), tolerance=0.05, workers=2)
    for a, b in zip(serial.rows, parallel.rows):
        assert a["qoi"] == b["qoi"] and a["level"] == b["level"]
    phi = serial.analysis["phi"]
    assert np.isclose(phi["order"], 2.0) and np.isclose(phi["extrapolated"], 1.0)
    assert phi["mesh_independent"] and phi["order_ok"]


def test_failing_level_is_recorded_and_the_study_goes_on():
    study = run_study(PowerLaw(fail_at=1), sequence(), tolerance=0.05)
    assert [row["level"] for row in study.failed] == [1]
    assert study.rows[1]["error"] == "ValueError: solver blew up"
    assert "level(s) 1 failed" in study.stop_reason
    assert study.analysis["phi"]["levels"] == 3          # analysed on the levels that ran
    assert "failed: ValueError" in to_markdown(study)


def test_interrupted_study_resumes_where_it_stopped(tmp_path):
    log_dir = tmp_path / "calls"
    log_dir.mkdir()
    cache = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        run_study(PowerLaw(log_dir, interrupt_at=2), sequence(), cache_dir=cache)
    assert calls(log_dir) == [0, 1, 2]
    for p in log_dir.iterdir():
        p.unlink()
    study = run_study(PowerLaw(log_dir), sequence(), cache_dir=cache)
    assert calls(log_dir) == [2, 3]                      # levels 0 and 1 came from the cache
    assert [row.get("cached", False) for row in study.rows] == [True, True, False, False]
    again = run_study(PowerLaw(log_dir), sequence(), cache_dir=cache)
    assert calls(log_dir) == [2, 3] and all(row["cached"] for row in again.rows)
    # a different problem key does not reuse the cache
    run_study(PowerLaw(log_dir), sequence(), cache_dir=cache, key="other")
    assert calls(log_dir) == [0, 1, 2, 2, 3, 3]


def test_until_converged_and_dof_budget():
    study = run_study(PowerLaw(), sequence(6), qoi=["phi"], tolerance=0.05,
                      until_converged=True)
    assert len(study.rows) < 6 and "verified) at level" in study.stop_reason
    study = run_study(PowerLaw(), sequence(6), qoi=["phi"], tolerance=1e-9,
                      until_converged=True)
    assert len(study.rows) == 6 and "level budget" in study.stop_reason
    study = run_study(PowerLaw(), sequence(6), max_dofs=300)
    assert "DOF budget 300" in study.stop_reason
    assert max(row["ndofs"] for row in study.rows) <= 300


def test_reports(tmp_path):
    study = run_study(PowerLaw(), sequence(), cache_dir=tmp_path / "cache", tolerance=0.05)
    files = write_reports(study, tmp_path, stem="s")
    names = {p.rsplit("/", 1)[-1] for p in files}
    assert {"s.md", "s.csv", "s.json", "s.png", "s_levels.pvd"} <= names
    data = json.loads((tmp_path / "s.json").read_text())
    assert len(data["levels"]) == 4 and data["qoi"]["phi"]["convergence"] == "monotonic"
    for key in ("order", "extrapolated", "gci_fine", "asymptotic_ratio", "mesh_independent"):
        assert key in data["qoi"]["phi"]
    assert "| level | h | DOFs | seconds | phi | psi |" in (tmp_path / "s.md").read_text()
    assert (tmp_path / "s.csv").read_text().startswith("level,h,DOFs,seconds,phi,psi")


def test_bad_arguments():
    with pytest.raises(ParameterError, match="sequence must be a MeshSequence"):
        run_study(PowerLaw(), [rectangle(h=0.5)])
    with pytest.raises(ParameterError, match="tolerance must be in"):
        run_study(PowerLaw(), sequence(), tolerance=0)


def test_manufactured_solution_study_reports_theory_and_independence(tmp_path):
    """The harness on the foundation's manufactured-solution case: the theoretical orders
    within 0.1 and the energy mesh-independent at 1%."""
    study = run_study(ProblemSolver(HelmholtzMMS, order=1), Remeshing("rectangle", 0.2, 5),
                      tolerance=0.01, cache_dir=tmp_path, workers=2)
    print(to_markdown(study, "Helmholtz P1"))
    a = study.analysis
    assert abs(a["l2_error"]["observed_order"] - 2) <= 0.1 and a["l2_error"]["order_ok"]
    assert abs(a["h1_error"]["observed_order"] - 1) <= 0.1 and a["h1_error"]["order_ok"]
    assert abs(a["energy"]["observed_order"] - 2) <= 0.1
    assert a["energy"]["mesh_independent"] is True
    assert abs(a["energy"]["extrapolated"] - a["energy"]["reference"]) < 1e-4


class ErrorLaw:
    """An 'error QoI' tending to 0 at order 2, optionally stuck at a floor (a solver
    tolerance): the verification cases of issue 17."""

    key = "error-law"

    def __init__(self, floor=0.0):
        self.floor = floor

    def __call__(self, mesh):
        h = mesh_size(mesh)
        return Result(mesh, qoi={"l2_error": max(0.3 * h ** 2, self.floor)},
                      meta={"ndofs": mesh.nvertices, "expected_order": {"l2_error": 2},
                            "reference": {"l2_error": 0.0}})


def test_errors_tending_to_zero_are_judged_by_their_order_not_a_gci():
    """A GCI relative to a value going to 0 is meaningless (here it would be > 30%): the
    verdict is the observed order against the expected one, and the mesh-independence
    column shows '-'."""
    study = run_study(ErrorLaw(), sequence(5), tolerance=0.01)
    a = study.analysis["l2_error"]
    assert a["mesh_independent"] is None and a["order_ok"] is True
    assert a["gci_fine"] > 0.3 and "verification" in a["reason"]
    assert np.isclose(a["observed_order"], 2.0, atol=0.02)
    row = next(line for line in to_markdown(study).splitlines() if line.startswith("| l2_error"))
    assert row.split("|")[11].strip() == "-"             # the mesh-independent column
    stopped = run_study(ErrorLaw(), sequence(6), tolerance=1e-9, until_converged=True)
    assert len(stopped.rows) == 3 and "at level 2" in stopped.stop_reason


def test_error_plateau_fails_verification():
    study = run_study(ErrorLaw(floor=0.3 * 0.0625 ** 2 * 1.001), sequence(6))
    a = study.analysis["l2_error"]
    assert a["plateau"] and a["order_ok"] is False and "plateau" in a["reason"]
    assert a["mesh_independent"] is None


# -- the cache is verified, not trusted (issue 17) --------------------------------------------

def _cached_study(tmp_path, log_dir=None):
    return run_study(PowerLaw(log_dir), sequence(), cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("damage", ["edit-value", "drop-key", "truncate", "garbage-vtu",
                                    "other-level", "delete-vtu"])
def test_tampered_cache_entries_are_detected_and_solved_again(tmp_path, caplog, damage):
    first = _cached_study(tmp_path)
    cache = tmp_path / "cache"
    entries = sorted(cache.glob("*.json"), key=lambda p: json.loads(p.read_text())["level"])
    target = entries[2]
    record = json.loads(target.read_text())
    if damage == "edit-value":            # a wrong value that would change the verdict
        record["qoi"]["phi"] = 5.0
        target.write_text(json.dumps(record))
    elif damage == "drop-key":
        del record["h"]
        target.write_text(json.dumps(record))
    elif damage == "truncate":
        target.write_text(target.read_text()[:40])
    elif damage == "garbage-vtu":
        (cache / record["fields"]).write_bytes(b"not a vtu at all")
    elif damage == "other-level":         # a copy of another level's entry under this name
        target.write_text(entries[1].read_text())
    elif damage == "delete-vtu":
        (cache / record["fields"]).unlink()
    log_dir = tmp_path / "calls"
    log_dir.mkdir()
    with caplog.at_level("WARNING"):
        again = _cached_study(tmp_path, log_dir)
    assert calls(log_dir) == [2]                           # only the damaged level re-solved
    assert any("solving level 2 again" in r.message for r in caplog.records)
    assert [r["qoi"] for r in again.rows] == [r["qoi"] for r in first.rows]
    assert again.analysis["phi"]["mesh_independent"] == first.analysis["phi"]["mesh_independent"]
    assert read_cached(target, 2, target.stem)[1] is None  # repaired


def test_copied_study_folder_reads_its_own_fields(tmp_path):
    """Fields are named relative to the cache folder: a copied study reads the copy."""
    import shutil
    _cached_study(tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    shutil.rmtree(tmp_path / "a")
    log_dir = tmp_path / "calls"
    log_dir.mkdir()
    study = _cached_study(tmp_path / "b", log_dir)
    assert calls(log_dir) == [] and all(row["cached"] for row in study.rows)
    files = write_reports(study, tmp_path / "report", stem="s")
    pvd = next(p for p in files if p.endswith("s_levels.pvd"))
    assert open(pvd).read().count("<DataSet") == 4


class Oscillating(PowerLaw):
    """phi oscillates with a growing amplitude under refinement: no extrapolated value."""

    def __call__(self, mesh):
        h = mesh_size(mesh)
        level = int(round(np.log2(mesh_size(rectangle(h=0.5)) / h)))
        return Result(mesh, qoi={"phi": 1.0 + (-2.0) ** level * 0.01},
                      meta={"ndofs": mesh.nvertices})


def test_plot_shows_the_values_of_a_qoi_without_reference(tmp_path, monkeypatch):
    """A divergent QoI has no extrapolated value to plot errors against: its values are
    drawn against h on a panel of their own instead of an empty plot."""
    import matplotlib.pyplot as plt
    from fem_reg.study.report import plot_convergence
    study = run_study(Oscillating(), sequence(), cache_dir=tmp_path / "cache", tolerance=0.05)
    assert study.analysis["phi"]["convergence"] == "divergent"
    assert study.analysis["phi"].get("extrapolated") is None
    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    plot_convergence(study, tmp_path / "p.png")
    assert len(figures[0].axes) == 1                    # no empty error panel
    values = figures[0].axes[0]
    assert len(values.lines) == 1
    assert sorted(values.lines[0].get_ydata()) == sorted(
        row["qoi"]["phi"] for row in study.rows)
    assert (tmp_path / "p.png").stat().st_size > 0
