"""Faults a user meets: failing writes (injected: the tests run as root, so permissions alone
would not fail), interrupted and concurrent runs, late validation. Each ends with one line
naming the culprit, exit status 2, and nothing already written lost or half-written."""

import errno
import json
import os
import re

import pytest

from fem_reg import atomic
from fem_reg.atomic import (COMPLETE, STAGING_PREFIX, case_lock, recover_staging,
                            staged_outputs)
from fem_reg.cli import main
from fem_reg.errors import FemRegError, WriteError

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")
GOOD = ('problem = "helmholtz_mms"\n[mesh]\ngeometry = "rectangle"\nh = 0.25\n'
        '[output]\npng = ["u"]\n')


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_line_error(status, err, pattern):
    lines = err.strip().splitlines()
    assert status == 2, err
    assert lines[-1].startswith("fem-reg: error: ") and re.search(pattern, lines[-1]), err


def snapshot(folder):
    """Every file under ``folder`` with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder):
    return [p.name for p in folder.rglob("*")
            if ".tmp" in p.name or p.name.startswith((STAGING_PREFIX, ".probe"))
            or p.name.endswith(".lock")]


@pytest.fixture
def case(tmp_path):
    path = tmp_path / "case.toml"
    path.write_text(GOOD)
    return str(path)


def fail_on(monkeypatch, code, after=0):
    """Make the ``after``-th and later atomic renames raise OSError(code)."""
    real = os.replace
    count = {"n": 0}

    def replace(src, dst):
        count["n"] += 1
        if count["n"] > after and ".tmp" in str(src):
            raise OSError(code, os.strerror(code))
        return real(src, dst)
    monkeypatch.setattr(atomic.os, "replace", replace)


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "No space left on device"),
                                         (errno.EROFS, "Read-only file system")])
@pytest.mark.parametrize("after", [0, 2])
def test_failing_write_keeps_the_previous_outputs(tmp_path, capsys, monkeypatch, case, code,
                                                  words, after):
    out = tmp_path / "out"
    assert run(capsys, "-q", "run", case, "--out", str(out))[0] == 0
    before = snapshot(out)
    fail_on(monkeypatch, code, after)
    status, stdout, err = run(capsys, "-q", "run", case, "--out", str(out))
    one_line_error(status, err, rf"case.*: cannot write \({words}\)")
    assert stdout == "" and snapshot(out) == before and leftovers(out) == []


def test_read_only_folder_is_refused_before_solving(tmp_path, capsys, monkeypatch, case):
    """A study checks that its folders take a file before it solves any level."""
    solved = []
    import fem_reg.study.runner as runner
    real = runner.run_level
    monkeypatch.setattr(runner, "run_level", lambda *a, **k: solved.append(1) or real(*a, **k))

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))
    monkeypatch.setattr(atomic.tempfile, "NamedTemporaryFile", refuse)
    status, _, err = run(capsys, "-q", "study", case, "--levels", "2", "--out",
                         str(tmp_path / "study"))
    one_line_error(status, err, r"study: not writable \(Read-only file system\)")
    assert solved == []


def test_full_disk_while_writing_a_vtu_leaves_no_half_file(tmp_path, monkeypatch):
    """VTK-style writers that fail quietly leave an empty file: caught as a failed write."""
    target = tmp_path / "a.vtu"
    target.write_text("old")
    with pytest.raises(WriteError, match="a.vtu: cannot write .nothing was written"):
        with atomic.atomic_path(target):
            pass
    assert target.read_text() == "old" and leftovers(tmp_path) == []


def test_interrupt_while_writing_outputs_keeps_the_previous_set(tmp_path, capsys,
                                                                monkeypatch, case):
    out = tmp_path / "out"
    assert run(capsys, "-q", "run", case, "--out", str(out))[0] == 0
    before = snapshot(out)
    from fem_reg.io import result as result_module
    real = result_module.Result.plot

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(result_module.Result, "plot", interrupted)
    status, _, err = run(capsys, "-q", "run", case, "--out", str(out))
    one_line_error(status, err, r"run interrupted: no output was written or changed")
    assert snapshot(out) == before and leftovers(out) == []
    monkeypatch.setattr(result_module.Result, "plot", real)


def test_staging_left_by_a_kill_during_the_commit_is_finished(tmp_path):
    """SIGKILL between the moves: the next run moves the rest of the complete set."""
    folder = tmp_path / "out"
    (folder / "run").mkdir(parents=True)
    (folder / "run.vtu").write_text("old vtu")
    (folder / "run" / "run_0000.vtu").write_text("old step")
    stage = folder / f"{STAGING_PREFIX}run"
    (stage / "run").mkdir(parents=True)
    (stage / "run" / "run_0000.vtu").write_text("new step")
    (stage / "run.pvd").write_text("new pvd")
    (stage / COMPLETE).write_text(json.dumps(["run", "run.pvd", "run.vtu"]))
    os.replace(tmp_path / "out" / "run.vtu", tmp_path / "moved.vtu")   # already moved ...
    (folder / "run.vtu").write_text("new vtu")                          # ... before the kill
    assert recover_staging(folder, "run") == "committed"
    assert snapshot(folder) == {"run.vtu": b"new vtu", "run.pvd": b"new pvd",
                                "run/run_0000.vtu": b"new step"}
    # an incomplete staging folder (killed while writing) is discarded
    (folder / f"{STAGING_PREFIX}run").mkdir()
    (folder / f"{STAGING_PREFIX}run" / "run.vtu").write_text("half")
    assert recover_staging(folder, "run") == "discarded"
    assert snapshot(folder)["run.vtu"] == b"new vtu"


def test_staged_outputs_replace_a_folder_whole(tmp_path):
    folder = tmp_path / "out"
    (folder / "hist").mkdir(parents=True)
    for k in range(5):
        (folder / "hist" / f"s{k}.vtu").write_text("old")
    with staged_outputs(folder, "x") as stage:
        (stage / "hist").mkdir()
        (stage / "hist" / "s0.vtu").write_text("new")
    assert snapshot(folder) == {"hist/s0.vtu": b"new"}


def test_second_writer_of_the_same_case_refuses(tmp_path, capsys, case):
    out = tmp_path / "out"
    with case_lock(out, "case"):
        status, _, err = run(capsys, "-q", "run", case, "--out", str(out))
        one_line_error(status, err, rf"{out}: another fem-reg process \(pid {os.getpid()}\) "
                                    r"is writing 'case' there")
        with pytest.raises(FemRegError, match="another fem-reg process"):
            with case_lock(out, "case"):
                pass
    assert run(capsys, "-q", "run", case, "--out", str(out))[0] == 0   # released
    assert leftovers(out) == []


@pytest.mark.parametrize("extra, pattern", [
    ('cmap = "virdis"\n', r"unknown colour map 'cmap = 'virdis''; close: viridis"),
    ('warp = "u"\n', r"warp field 'u' must be a vector point field"),
    ("threshold = 50.0\n", r"threshold = 50 hides every cell of 'u'"),
    ('contour = {field = "u", value = 7.0}\n', r"contour value 7 is outside the range of 'u'"),
    ('contour = {field = "u", value = 0.5, format = "stl"}\n', r"'stl' is for 3D"),
])
def test_output_options_are_checked_before_the_first_file(tmp_path, capsys, extra, pattern):
    case = tmp_path / "case.toml"
    case.write_text(GOOD + extra)
    out = tmp_path / "out"
    status, _, err = run(capsys, "-q", "run", str(case), "--out", str(out))
    one_line_error(status, err, pattern)
    assert snapshot(out) == {} if out.exists() else True


def test_misspelled_study_key_is_refused_by_run(tmp_path, capsys):
    case = tmp_path / "case.toml"
    case.write_text(GOOD + "[study]\nlevel = 3\n")
    status, _, err = run(capsys, "-q", "run", str(case), "--out", str(tmp_path / "out"))
    one_line_error(status, err, r"\[study\]: unknown key 'level'; allowed: levels")


# -- bounded resources ------------------------------------------------------------------------

@pytest.mark.parametrize("h", ["5e-4", "1e-9"])
def test_oversized_run_is_refused_before_meshing(tmp_path, capsys, h):
    """h = 5e-4 on the unit square is about 9.3 million triangles (it used to grow to 7 GB
    and ignore Ctrl-C); h = 1e-9 used to hang. Both are refused in well under a second."""
    import time
    case = tmp_path / "big.toml"
    case.write_text(f'problem = "helmholtz_mms"\n[mesh]\ngeometry = "rectangle"\nh = {h}\n')
    start = time.perf_counter()
    status, _, err = run(capsys, "-q", "run", str(case), "--out", str(tmp_path / "out"))
    one_line_error(status, err, r"big.toml \[mesh\]: about .* cells, .* DOFs, .*B of memory "
                                r"estimated; this machine has .*B available; use a larger h")
    assert time.perf_counter() - start < 5


def test_cell_estimate_matches_the_mesh():
    from fem_reg.mesh import estimate_spec, mesh_from_spec
    for spec in ({"geometry": "rectangle", "h": 0.02}, {"geometry": "cook_membrane", "h": 2.0},
                 {"geometry": "rectangle", "h": 0.05, "cell_type": "quad"},
                 {"geometry": "cantilever_box", "h": 0.1}):
        estimate = estimate_spec(spec)[0]
        mesh = mesh_from_spec(spec)
        assert estimate.cells == pytest.approx(mesh.nelements, rel=0.15), spec
        assert estimate.nodes == pytest.approx(mesh.nvertices, rel=0.15), spec


def test_study_levels_are_estimated_before_any_is_solved(tmp_path, capsys):
    status, _, err = run(capsys, "-q", "study", os.path.join(EXAMPLES, "mms_helmholtz.toml"),
                         "--levels", "50", "--out", str(tmp_path / "s"))
    one_line_error(status, err, r"study level \d+ of 50: about .* cells.*at most \d+ level\(s\) "
                                r"fit: use --levels \d+")
    assert not (tmp_path / "s" / "cache").exists()


def test_max_dofs_sets_the_limit(tmp_path, capsys, case):
    status, _, err = run(capsys, "-q", "run", case, "--out", str(tmp_path / "o"),
                         "--max-dofs", "10")
    one_line_error(status, err, r"above the limit of 10 DOFs \(--max-dofs / max_dofs\)")
    path = tmp_path / "limited.toml"
    path.write_text("max_dofs = 10\n" + GOOD)
    one_line_error(*run(capsys, "-q", "run", str(path), "--out", str(tmp_path / "o"))[::2],
                   r"limited.toml \[mesh\]: .*above the limit of 10 DOFs")
    # the option overrides the case key (raises the limit)
    assert run(capsys, "-q", "run", str(path), "--out", str(tmp_path / "o"),
               "--max-dofs", "100000")[0] == 0


def test_mesh_make_is_refused_above_the_memory(tmp_path, capsys):
    status, _, err = run(capsys, "-q", "mesh", "make", "rectangle", str(tmp_path / "m.msh"),
                         "--h", "1e-9")
    one_line_error(status, err, r"rectangle at h = 1e-09: about .* cells.*--max-cells")
    assert not (tmp_path / "m.msh").exists()


def test_gmsh_failure_advice_fits_the_size(monkeypatch):
    """When gmsh fails at a tiny h the advice is a larger h (it used to say 'smaller')."""
    import gmsh
    from fem_reg.errors import MeshError
    from fem_reg.mesh import rectangle

    def fail(dim):
        raise Exception("Invalid boundary mesh (overlapping facets)")
    monkeypatch.setattr(gmsh.model.mesh, "generate", fail)
    with pytest.raises(MeshError, match=r"h = 1e-09 .*below what gmsh can resolve: use a "
                                        r"larger h"):
        rectangle(h=1e-9)
    with pytest.raises(MeshError, match=r"h = 2 .*coarse.*try a smaller h"):
        rectangle(h=2.0)


@pytest.mark.slow
def test_ctrl_c_reaches_python_during_a_long_factorization():
    """SuperLU holds a signal until it returns (about 3 s for this 300,000-unknown
    Laplacian); the factorization runs in a helper thread, so Ctrl-C interrupts at once."""
    import signal
    import threading
    import time

    import numpy as np
    import scipy.sparse as sp

    from fem_reg.fe import solve_linear
    n = 550
    line = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
    A = sp.kronsum(line, line).tocsr()
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        solve_linear(A, np.ones(A.shape[0]), method="direct")
    assert time.perf_counter() - start < 1.0
    for thread in threading.enumerate():        # let the abandoned factorization end here
        if thread.name == "fem_reg solve":
            thread.join()


def test_truncated_checkpoint_is_one_line_naming_the_file(tmp_path, capsys):
    """It used to end in a BadZipFile traceback."""
    case = tmp_path / "small.toml"
    case.write_text('problem = "topopt"\n[mesh]\ngeometry = "cantilever"\nh = 0.3\n'
                    '[parameters]\nmax_iterations = 3\nsupports = { clamped = "clamped" }\n'
                    'traction = { load = [0.0, -1.0] }\n')
    out = tmp_path / "out"
    assert run(capsys, "-q", "run", str(case), "--out", str(out))[0] == 0
    checkpoint = out / "small.checkpoint.npz"
    checkpoint.write_bytes(checkpoint.read_bytes()[:200])
    before = snapshot(out)
    status, _, err = run(capsys, "-q", "run", str(case), "--out", str(out), "--resume")
    one_line_error(status, err, r"small.checkpoint.npz: not a readable checkpoint \(truncated "
                                r"or corrupted: BadZipFile\); remove it or run without --resume")
    assert snapshot(out) == before


def test_an_interrupt_names_a_checkpoint_only_when_this_run_wrote_one(tmp_path, capsys,
                                                                     monkeypatch):
    """Ctrl-C in an iterative run before its first checkpoint (an older run's file is
    there) says nothing was written; after this run's checkpoint it points to --resume."""
    from fem_reg import cases
    case = tmp_path / "sent.toml"
    case.write_text('problem = "phase_field_fracture"\n[mesh]\ngeometry = "sent_specimen"\n'
                    'h = 0.1\n')
    out = tmp_path / "out"
    out.mkdir()
    checkpoint = out / "sent.checkpoint.npz"
    checkpoint.write_bytes(b"an earlier run's")
    os.utime(checkpoint, (0, 0))

    def interrupted(case, out_dir, **options):
        if options.get("resume"):
            checkpoint.write_bytes(b"this run's")
        raise KeyboardInterrupt

    monkeypatch.setattr(cases, "run_case", interrupted)
    status, _, err = run(capsys, "-q", "run", str(case), "--out", str(out))
    one_line_error(status, err, r"run interrupted: no output was written or changed")
    status, _, err = run(capsys, "-q", "run", str(case), "--out", str(out), "--resume")
    one_line_error(status, err, r"run interrupted: no output was changed; the run's "
                                r"checkpoint is in .*out: continue with --resume")


def test_an_interrupt_while_vtk_loads_is_an_interrupt_not_an_import_error():
    """VTK's module loader turned a SIGTERM raised inside it into 'ImportError: Failed to
    load vtkRenderingContextOpenGL2' (seen twice in CI): the loading holds the signals and
    delivers them afterwards, to the program's own handler."""
    import subprocess
    import sys
    code = ("import os, signal, sys\n"
            "from fem_reg.io import plot\n"
            "from fem_reg import atomic\n"
            "signal.signal(signal.SIGTERM, lambda s, f: sys.exit(7))\n"
            "with atomic.signals_held():\n"
            "    os.kill(os.getpid(), signal.SIGTERM)\n"
            "    plot._pyvista()\n"
            "    print('loaded', flush=True)\n"
            "print('not reached')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 7, result.stderr
    assert result.stdout == "loaded\n"            # delivered after the block, not inside


def test_a_temporary_left_by_a_killed_study_is_removed_by_the_next(tmp_path, capsys, case):
    """SIGKILL during an atomic write leaves its temporary file (never renamed, so never a
    result); the next study on the folder removes it and leaves the others alone."""
    out = tmp_path / "study"
    cache = out / "cache"
    cache.mkdir(parents=True)
    stale = cache / ".dbeafb59fa8cf9cd_7a7509ffa3861629.zudv3mvd.tmp.vtu"
    stale.write_text("half a VTU")
    mine = cache / "notes.txt"
    mine.write_text("kept")
    status, _, err = run(capsys, "-q", "study", case, "--levels", "2", "--out", str(out))
    assert status == 0, err
    assert not stale.exists() and mine.read_text() == "kept"
    assert len(list(cache.glob("*.json"))) == 2
