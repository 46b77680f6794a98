"""Sweeps on a real Dask cluster: a scheduler and workers started as separate processes on
localhost (not an in-process LocalCluster), a worker killed in the middle of a level, the
client killed in the middle of the sweep, and the one-line errors of a cluster that cannot
be used."""

import json
import re
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

distributed = pytest.importorskip("distributed")

from fem_reg.cli import main  # noqa: E402

CASE = ('problem = "helmholtz_mms"\n[mesh]\ngeometry = "rectangle"\nh = 0.1\n'
        '[parameters]\nradius = 0.3\norder = 2\n[study]\nlevels = 4\n'
        '[sweep]\nradius = [0.1, 0.3, 1.0]\n')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args, cwd, log):
    return subprocess.Popen([sys.executable, "-m", *args], cwd=cwd, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two single-threaded workers, each its own process (no nanny: killing
    one is a lost machine, not a restarted process), run from a folder of their own."""
    address = f"tcp://127.0.0.1:{free_port()}"
    elsewhere = tmp_path / "workers_disk"
    elsewhere.mkdir()
    log = open(tmp_path / "cluster.log", "w")
    processes = [start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
                        address.rsplit(":", 1)[1], "--no-dashboard"], elsewhere, log)]
    workers = {}
    for name in ("w0", "w1"):
        workers[name] = start(["distributed.cli.dask_worker", address, "--name", name,
                               "--nthreads", "1", "--no-nanny", "--no-dashboard"],
                              elsewhere, log)
    processes += list(workers.values())
    try:
        client = distributed.Client(address, timeout=30)
        client.wait_for_workers(2, timeout=60)
        yield address, workers, client, elsewhere
        client.close()
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)
        log.close()


def study(*argv):
    return subprocess.Popen([sys.executable, "-m", "fem_reg.cli", "-q", "study", *argv,
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same sweep, one level after another in this process."""
    folder = tmp_path_factory.mktemp("reference")
    (folder / "case.toml").write_text(CASE)
    import contextlib
    import io
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["-q", "study", str(folder / "case.toml"), "--out", str(folder / "out"),
                     "--json"]) == 0
    return json.loads(buffer.getvalue())


def same_sweep(result, reference):
    """Every point's levels solved, with the reference's QoIs and verdicts."""
    assert [p["label"] for p in result["points"]] == [p["label"] for p in reference["points"]]
    for point, expected in zip(result["points"], reference["points"]):
        assert all(not r.get("error") for r in point["levels"]), point["levels"]
        for got, want in zip(point["levels"], expected["levels"]):
            for name, value in want["qoi"].items():
                assert got["qoi"][name] == pytest.approx(value, rel=1e-9, abs=1e-14)
        for name, entry in expected["qoi"].items():
            assert point["qoi"][name]["mesh_independent"] == entry["mesh_independent"]
            assert point["qoi"][name].get("order_ok") == entry.get("order_ok")


@pytest.mark.slow
def test_a_worker_killed_mid_level_is_replaced_and_the_sweep_completes(tmp_path, cluster,
                                                                      reference):
    address, workers, client, elsewhere = cluster
    (tmp_path / "case.toml").write_text(CASE)
    process = study(str(tmp_path / "case.toml"), "--out", str(tmp_path / "out"),
                    "--scheduler", address)
    # wait until the worker to be killed is solving a level, then kill it (SIGKILL: a lost
    # machine, no goodbye to the scheduler)
    victim = next(w for w, info in client.scheduler_info()["workers"].items()
                  if info["name"] == "w1")
    deadline = time.monotonic() + 120
    while not client.processing().get(victim):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no level reached worker w1"
        time.sleep(0.05)
    workers["w1"].kill()
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    result = json.loads(out)
    same_sweep(result, reference)
    # the client wrote the cache; the workers wrote nothing in their own folder
    assert len(list((tmp_path / "out" / "cache").glob("*.json"))) == 12
    assert [p.name for p in elsewhere.iterdir() if not p.name.startswith("dask-")] == []
    assert (tmp_path / "out" / "case_sweep.md").is_file()


@pytest.mark.slow
def test_after_a_client_crash_the_sweep_resumes_from_the_cache(tmp_path, cluster, reference):
    address, workers, client, elsewhere = cluster
    (tmp_path / "case.toml").write_text(CASE)
    cache = tmp_path / "out" / "cache"
    process = study(str(tmp_path / "case.toml"), "--out", str(tmp_path / "out"),
                    "--scheduler", address)
    deadline = time.monotonic() + 120
    while not (cache.is_dir() and list(cache.glob("*.json"))):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no level was cached"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)               # the client dies without a word
    process.communicate(timeout=60)
    kept = {p.name for p in cache.glob("*.json")}
    assert len(kept) >= 1 and not (tmp_path / "out" / "case_sweep.md").exists()
    # nothing half-written: every entry there verifies (a write cut by SIGKILL leaves only
    # its temporary file, which the next run removes)
    from fem_reg.study.runner import read_cached
    for name in kept:
        record, why = read_cached(cache / name, json.loads((cache / name).read_text())["level"],
                                  name[:-5])
        assert record is not None, why
    again = study(str(tmp_path / "case.toml"), "--out", str(tmp_path / "out"),
                  "--scheduler", address)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    result = json.loads(out)
    same_sweep(result, reference)
    cached = sum(bool(r.get("cached")) for p in result["points"] for r in p["levels"])
    assert cached >= len(kept) and not list(cache.glob(".*.tmp*"))


def test_a_cluster_that_cannot_be_used_is_one_line(tmp_path, capsys, monkeypatch):
    """No scheduler at the address; no distributed installed: one line, exit status 2,
    nothing solved."""
    from fem_reg.study import cluster as module
    (tmp_path / "case.toml").write_text(CASE)
    monkeypatch.setattr(module, "CONNECT_SECONDS", 0.5)
    address = f"tcp://127.0.0.1:{free_port()}"
    status = main(["-q", "study", str(tmp_path / "case.toml"), "--out", str(tmp_path / "o"),
                   "--scheduler", address])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert f"fem-reg: error: scheduler {address}: cannot connect" in err
    # the same address from the case's [study] table
    (tmp_path / "keyed.toml").write_text(CASE.replace("levels = 4", f'levels = 4\n'
                                                      f'scheduler = "{address}"'))
    status = main(["-q", "study", str(tmp_path / "keyed.toml"), "--out", str(tmp_path / "k")])
    err = capsys.readouterr().err
    assert status == 2 and f"scheduler {address}: cannot connect" in err
    monkeypatch.setitem(sys.modules, "distributed", None)
    status = main(["-q", "study", str(tmp_path / "case.toml"), "--out", str(tmp_path / "o"),
                   "--scheduler", address])
    err = capsys.readouterr().err
    assert status == 2 and "pip install 'fem-reg[cluster]'" in err
    assert not list((tmp_path / "o" / "cache").glob("*.json"))


@pytest.mark.slow
def test_ctrl_c_on_a_cluster_sweep_is_one_line_and_keeps_the_finished_levels(tmp_path,
                                                                             cluster):
    """SIGINT to the client while the cluster solves: exit status 2, one line saying where
    the finished levels are; nothing half-written; the cluster is free again (the levels
    of the interrupted client are cancelled)."""
    address, workers, client, elsewhere = cluster
    (tmp_path / "case.toml").write_text(CASE)
    process = study(str(tmp_path / "case.toml"), "--out", str(tmp_path / "out"),
                    "--scheduler", address)
    deadline = time.monotonic() + 120
    while not any(client.processing().values()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no level started"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "study interrupted: the levels solved so far are cached" in \
        lines[0], err
    cache = tmp_path / "out" / "cache"
    assert not list(cache.glob(".*.tmp*")) and not (tmp_path / "out" / "case_sweep.md").exists()
    deadline = time.monotonic() + 30           # the whole sweep takes longer than that
    while any(client.processing().values()):
        assert time.monotonic() < deadline, "the cluster still runs the cancelled levels"
        time.sleep(0.1)


def test_a_worker_with_another_fem_reg_is_named_before_anything_runs(tmp_path, capsys):
    """A worker whose fem_reg differs from the client's (here: its version patched by a
    preload script) is refused by name, in one line, before any level is submitted."""
    address = f"tcp://127.0.0.1:{free_port()}"
    preload = tmp_path / "other_version.py"
    preload.write_text("import fem_reg\nfem_reg.__version__ = '0.0.0-other'\n")
    log = open(tmp_path / "cluster.log", "w")
    processes = [start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
                        address.rsplit(":", 1)[1], "--no-dashboard"], tmp_path, log)]
    processes.append(start(["distributed.cli.dask_worker", address, "--nthreads", "1",
                            "--no-nanny", "--no-dashboard", "--preload", str(preload)],
                           tmp_path, log))
    try:
        (tmp_path / "case.toml").write_text(CASE)
        status = main(["-q", "study", str(tmp_path / "case.toml"), "--out",
                       str(tmp_path / "o"), "--scheduler", address])
        err = capsys.readouterr().err
        assert status == 2 and len(err.strip().splitlines()) == 1, err
        assert re.search(r"fem-reg: error: worker tcp://\S+ has fem_reg 0\.0\.0-other; this "
                         r"client runs fem_reg \S+: install the same version", err), err
        assert not list((tmp_path / "o" / "cache").glob("*.json"))
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=30)
        log.close()
