"""Sweeps as first-class studies: the [sweep] table's points, a sweep that equals the studies
of its points run one by one, its reports, and one-line errors for bad sweeps."""

import csv
import re
import json

import pytest

from fem_reg.cli import main
from fem_reg.errors import ParameterError
from fem_reg.study.sweep import point_label, sweep_points


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


BASE = ('problem = "helmholtz_mms"\n[mesh]\ngeometry = "rectangle"\nh = 0.25\n'
        '[parameters]\nradius = 0.3\n[study]\nlevels = 3\n')


def test_points_are_the_product_or_the_zip_of_the_lists():
    table = {"a": [1, 2], "b": [0.1, 0.2, 0.3]}
    product = sweep_points(table)
    assert len(product) == 6 and product[0] == {"a": 1, "b": 0.1} and \
        product[-1] == {"a": 2, "b": 0.3}
    assert sweep_points({"a": [1, 2], "b": ["x", "y"]}, zipped=True) == \
        [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    with pytest.raises(ParameterError, match="lengths differ"):
        sweep_points(table, zipped=True)
    with pytest.raises(ParameterError, match="'a' must be a non-empty list"):
        sweep_points({"a": 3})
    with pytest.raises(ParameterError, match="lists a value twice"):
        sweep_points({"a": [1, 1]})
    assert point_label({"gamma": 0.01, "kind": "plane strain"}) == \
        "gamma=0.01,kind=plane_strain"


def test_a_sweep_equals_the_studies_of_its_points(tmp_path, capsys):
    """Each point of a sweep (two processes) gives exactly the QoIs and verdicts of the same
    case run as a plain study with that parameter; the table, CSV, JSON, PNG and every
    point's study reports and levels PVD are written; a second run reads every level back."""
    case = tmp_path / "radii.toml"
    case.write_text(BASE + "[sweep]\nradius = [0.1, 1.0]\n")
    status, out, err = run(capsys, "-q", "study", str(case), "--out", str(tmp_path / "sweep"),
                           "--workers", "2", "--json")
    assert status == 0, err
    sweep = json.loads(out)
    assert [p["label"] for p in sweep["points"]] == ["radius=0.1", "radius=1"]
    references = []
    for point in sweep["points"]:
        single = tmp_path / f"single_{point['values']['radius']}.toml"
        single.write_text(BASE.replace("radius = 0.3", f"radius = {point['values']['radius']}"))
        status, out, _ = run(capsys, "-q", "study", str(single), "--out",
                             str(tmp_path / single.stem), "--json")
        reference = json.loads(out)
        references.append(reference)
        assert [r["qoi"] for r in point["levels"]] == [r["qoi"] for r in reference["levels"]]
        for name, entry in reference["qoi"].items():
            assert point["qoi"][name]["mesh_independent"] == entry["mesh_independent"]
            assert point["qoi"][name].get("gci_fine") == entry.get("gci_fine")
    out_dir = tmp_path / "sweep"
    with open(out_dir / "radii_sweep.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["radius"]) for r in rows] == [0.1, 1.0]
    for row, reference in zip(rows, references):
        energy, error = reference["qoi"]["energy"], reference["qoi"]["l2_error"]
        assert row["energy verdict"] == ("yes" if energy["mesh_independent"] else "no")
        assert float(row["energy uncertainty"]) == energy["uncertainty"]
        # an error is judged by its order, never called mesh-independent
        assert row["l2_error verdict"] == ("order ok" if error["order_ok"] else "not shown")
        assert float(row["energy"]) == reference["levels"][-1]["qoi"]["energy"]
    assert (out_dir / "radii_sweep.png").stat().st_size > 10_000
    for label in ("radius=0.1", "radius=1"):
        assert (out_dir / "points" / label / "study_levels.pvd").is_file()
        assert (out_dir / "points" / label / "study.md").is_file()
    status, out, _ = run(capsys, "-q", "study", str(case), "--out", str(out_dir), "--json")
    again = json.loads(out)
    assert all(r.get("cached") for p in again["points"] for r in p["levels"])
    assert [p["qoi"] for p in again["points"]] == [p["qoi"] for p in sweep["points"]]


@pytest.mark.parametrize("table, message", [
    ("radius = [0.1, 0.3]\nzip = 1\n", r"\[sweep\]: 'zip' must be true or false"),
    ("radius = [0.1]\norder = [1, 2]\nzip = true\n", r"lengths differ"),
    ("gamma = [0.1, 0.3]\n", r"unknown parameter 'gamma' for helmholtz_mms; known: radius"),
    ("radius = [0.1, -1.0]\n", r"point radius=-1: .*radius"),
    ("radius = 0.1\n", r"'radius' must be a non-empty list"),
])
def test_bad_sweeps_are_refused_in_one_line(tmp_path, capsys, table, message):
    case = tmp_path / "bad.toml"
    case.write_text(BASE + "[sweep]\n" + table)
    status, out, err = run(capsys, "-q", "study", str(case), "--out", str(tmp_path / "o"))
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("fem-reg: error: ") and "bad.toml" in err
    assert re.search(message, err), err
    assert not (tmp_path / "o" / "cache").exists() or \
        not any((tmp_path / "o" / "cache").iterdir())


def test_until_converged_is_refused_for_a_sweep(tmp_path, capsys):
    case = tmp_path / "bad.toml"
    case.write_text(BASE.replace("levels = 3", "levels = 3\nuntil_converged = true")
                    + "[sweep]\nradius = [0.1, 0.3]\n")
    status, _, err = run(capsys, "-q", "study", str(case), "--out", str(tmp_path / "o"))
    assert status == 2 and "until_converged runs levels one after another" in err


def test_a_level_whose_job_is_lost_is_recorded_failed_and_the_rest_goes_on(tmp_path):
    """A job that comes back as an exception (Dask's KilledWorker once a level's workers
    died more often than the scheduler allows) is a failed level of its point, named in
    the table; every other level of every point is solved and cached."""
    from concurrent.futures import Future, ThreadPoolExecutor

    from fem_reg.mesh import Remeshing
    from fem_reg.mms import HelmholtzMMS
    from fem_reg.study import ProblemSolver
    from fem_reg.study.report import sweep_markdown
    from fem_reg.study.sweep import SweepPoint, run_sweep

    class KilledWorker(Exception):
        pass

    class LosingExecutor(ThreadPoolExecutor):
        """Loses the finest level of the second point (radius 1.0)."""

        def submit(self, fn, solve, sequence, level, *args):
            if solve.parameters["radius"] == 1.0 and level == 2:
                lost = Future()
                lost.set_exception(KilledWorker("level attempted 4 times; workers died"))
                return lost
            return super().submit(fn, solve, sequence, level, *args)

    points = [SweepPoint({"radius": r}, ProblemSolver(HelmholtzMMS, radius=r),
                         Remeshing("rectangle", 0.25, 3)) for r in (0.3, 1.0)]
    with LosingExecutor(max_workers=2) as executor:
        sweep = run_sweep(points, cache_dir=tmp_path, executor=executor)
    first, second = sweep.studies
    assert not first.failed and len(first.rows) == 3
    assert [r["level"] for r in second.failed] == [2]
    assert second.failed[0]["error"].startswith("KilledWorker: level attempted 4 times")
    assert "level(s) 2 failed" in second.stop_reason
    assert len(list(tmp_path.glob("*.json"))) == 5        # the lost level is not cached
    table = sweep_markdown(sweep)
    assert "| radius=1 | 1 |" in table and table.count("| 2 |") == 1
