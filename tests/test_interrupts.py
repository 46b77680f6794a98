"""Real signals sent to real `fem-reg` processes: Ctrl-C (SIGINT) and SIGTERM stop every
phase within a few seconds with one line and exit status 2; SIGKILL while the final outputs
are written loses nothing that `--resume` cannot give back."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fem_reg.atomic import STAGING_PREFIX

FEM_REG = [sys.executable, "-c", "import sys; from fem_reg.cli import main; "
           "sys.exit(main(sys.argv[1:]))"]
EXAMPLES = Path(__file__).parent.parent / "examples"

TOPOPT = """
title = "cantilever for interrupts"
problem = "topopt"
[mesh]
geometry = "cantilever"
h = 0.05
[parameters]
filter_radius = 0.15
max_iterations = 150
tolerance = 1e-9
checkpoint_every = 5
history_every = 10
supports = { clamped = "clamped" }
traction = { load = [0.0, -1.0] }
[output]
png = ["density"]
"""


def start(*argv):
    return subprocess.Popen(FEM_REG + list(argv), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def stop(process, sig, after):
    """Send ``sig`` after ``after`` seconds; return (status, stderr, seconds to exit)."""
    time.sleep(after)
    assert process.poll() is None, process.communicate()[1]
    process.send_signal(sig)
    sent = time.perf_counter()
    _, err = process.communicate(timeout=60)
    return process.returncode, err, time.perf_counter() - sent


def case_and_reference(tmp_path, name, text):
    """The case file ``name.toml`` holding ``text``, and its uninterrupted run (``--json``)
    into ``tmp_path / "ref"``."""
    case = tmp_path / f"{name}.toml"
    case.write_text(text)
    reference = subprocess.run(FEM_REG + ["run", str(case), "--out", str(tmp_path / "ref"),
                                          "--json", "-q"], capture_output=True, text=True)
    assert reference.returncode == 0, reference.stderr
    return case, reference


def last_line(err):
    return err.strip().splitlines()[-1]


@pytest.mark.slow
@pytest.mark.parametrize("sig, word", [(signal.SIGINT, "interrupted"),
                                       (signal.SIGTERM, "terminated \\(SIGTERM\\)")])
def test_signal_stops_gmsh_meshing_at_once(tmp_path, sig, word):
    """gmsh ignores signals while it meshes (8 s for this mesh): it runs in a child."""
    target = tmp_path / "big.msh"
    process = start("mesh", "make", "rectangle", str(target), "--h", "0.003")
    status, err, seconds = stop(process, sig, 3.0)
    assert status == 2 and seconds < 3.0, (seconds, err)
    import re
    assert re.fullmatch(rf"fem-reg: error: mesh make {word}: no mesh file was written",
                        last_line(err)), err
    assert not target.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_sigterm_during_an_optimization_then_resume(tmp_path):
    case, reference = case_and_reference(tmp_path, "cant", TOPOPT)
    out = tmp_path / "out"
    process = start("run", str(case), "--out", str(out), "-q")
    status, err, seconds = stop(process, signal.SIGTERM, 3.0)
    assert status == 2 and seconds < 3.0, err
    assert "run terminated (SIGTERM): no output was changed; the run's checkpoint" \
        in last_line(err) and "--resume" in last_line(err)
    assert sorted(p.name for p in out.iterdir()) == ["cant.checkpoint.npz"]
    resumed = subprocess.run(FEM_REG + ["run", str(case), "--out", str(out), "--resume",
                                        "--json", "-q"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["qoi"] == json.loads(reference.stdout)["qoi"]


FRACTURE = """
title = "SENT for interrupts"
problem = "phase_field_fracture"
[mesh]
geometry = "sent_specimen"
h = 0.1
h_crack = 0.025
band = 0.1
[parameters]
length = 0.05
displacement = 0.012
steps = 40
checkpoint_every = 2
history_every = 4
[output]
png = ["damage"]
"""


@pytest.mark.slow
def test_sigterm_during_a_load_history_then_resume(tmp_path):
    """SIGTERM once the first checkpoint is written (2 of 40 steps): one line, exit 2, only
    the checkpoint in the output folder; --resume ends where an uninterrupted run ends."""
    case, reference = case_and_reference(tmp_path, "sent", FRACTURE)
    out = tmp_path / "out"
    process = start("run", str(case), "--out", str(out), "-q")
    checkpoint = out / "sent.checkpoint.npz"
    deadline = time.perf_counter() + 60
    while not checkpoint.exists() and time.perf_counter() < deadline:
        time.sleep(0.05)
    status, err, seconds = stop(process, signal.SIGTERM, 0.0)
    assert status == 2 and seconds < 3.0, err
    assert "no output was changed; the run's checkpoint" in last_line(err), err
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == \
        ["sent.checkpoint.npz"]
    resumed = subprocess.run(FEM_REG + ["run", str(case), "--out", str(out), "--resume",
                                        "--json", "-q"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    expected, got = (json.loads(r.stdout)["qoi"] for r in (reference, resumed))
    assert got == pytest.approx(expected, rel=1e-9)
    assert expected["final_force"] < 0.01 * expected["peak_force"]      # the crack ran
    assert (out / "sent.pvd").read_text().count("<DataSet") == \
        (tmp_path / "ref" / "sent.pvd").read_text().count("<DataSet")


KILL_WHILE_WRITING = """
import os, signal, sys
from fem_reg.io import vtk
from fem_reg.cli import main
real = vtk.PvdWriter.add
def add(self, mesh, time):
    if len(self.entries) == 3:
        os.kill(os.getpid(), signal.SIGKILL)      # killed half-way through the history
    return real(self, mesh, time)
vtk.PvdWriter.add = add
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_sigkill_while_the_outputs_are_written_then_resume(tmp_path):
    """The run converged and was killed while writing its PVD: nothing half-written is
    visible, and --resume rebuilds every output from the checkpoint without optimizing."""
    case = tmp_path / "cant.toml"
    case.write_text(TOPOPT.replace("max_iterations = 150", "max_iterations = 40"))
    out = tmp_path / "out"
    killed = subprocess.run([sys.executable, "-c", KILL_WHILE_WRITING, "run", str(case),
                             "--out", str(out), "-q"], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert visible == ["cant.checkpoint.npz"]             # no .pvd listing 3 of 5 steps
    resumed = subprocess.run(FEM_REG + ["run", str(case), "--out", str(out), "--resume",
                                        "--json"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "written again without solving" in resumed.stderr
    data = json.loads(resumed.stdout)
    assert data["qoi"]["iterations"] == 40
    pvd = (out / "cant.pvd").read_text()
    assert pvd.count("<DataSet") == 5 and len(list((out / "cant").glob("*.vtu"))) == 5
    assert (out / "cant_density.png").is_file() and (out / "cant_convergence.csv").is_file()
    assert not any(p.name.startswith(STAGING_PREFIX) or ".tmp" in p.name
                   for p in out.rglob("*"))


@pytest.mark.slow
def test_ctrl_c_stops_a_process_pool_study_and_the_rerun_uses_the_cache(tmp_path):
    out = tmp_path / "study"
    argv = ["study", str(EXAMPLES / "mms_helmholtz.toml"), "--workers", "2", "--levels", "7",
            "--out", str(out), "--json", "-q"]
    process = start(*argv)
    deadline = time.perf_counter() + 120
    while len(list((out / "cache").glob("*.json"))) < 3 and time.perf_counter() < deadline:
        time.sleep(0.2)                  # the finest level (about 10 s) is still running
    time.sleep(0.5)
    workers = descendants(process.pid)
    assert workers                        # the pool's workers (and a meshing child)
    status, err, seconds = stop(process, signal.SIGINT, 0.0)
    assert status == 2 and seconds < 5.0, (seconds, err)
    assert "study interrupted: the levels solved so far are cached" in last_line(err)
    cached = len(list((out / "cache").glob("*.json")))
    assert 3 <= cached < 7 and not list(out.glob("*_study.*"))
    rerun = subprocess.run(FEM_REG + argv, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    levels = json.loads(rerun.stdout)["levels"]
    assert sum(bool(row.get("cached")) for row in levels) == cached
    assert not [pid for pid in workers if alive(pid)]      # no orphan left computing


def descendants(pid):
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                              text=True).stdout.split()
    return [int(c) for c in children] + [d for c in children for d in descendants(int(c))]


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
