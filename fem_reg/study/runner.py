"""Run a problem over a mesh sequence: levels in parallel, cached on disk, resumable.

A study needs a callable ``mesh -> Result`` (picklable when levels run in other processes,
e.g. :class:`ProblemSolver`) and a :class:`~fem_reg.mesh.MeshSequence`. Each level's record
(h, DOFs, seconds, QoIs, the reference values and expected orders the problem declares) is
written to ``cache_dir`` as JSON, with the level's fields as VTU, under a key made from the
problem's key and the mesh's key. Running the study again reads the finished levels back,
so a study interrupted at level 4 starts again at level 4. A level that fails is recorded
with its error (and not cached); the others go on.
"""

import contextlib
import hashlib
import json
import logging
import multiprocessing
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_text
from ..io import write_vtu
from ..checks import integer, positive
from ..errors import FemRegError, ParameterError
from ..mesh import MeshSequence, mesh_size
from .convergence import ROUND_OFF, error_convergence, grid_convergence

log = logging.getLogger(__name__)


class ProblemSolver:
    """``mesh -> Result`` for a Problem class and its parameters; picklable, with a key.

    Examples
    --------
    >>> from fem_reg.mesh import rectangle
    >>> from fem_reg.mms import HelmholtzMMS
    >>> solve = ProblemSolver(HelmholtzMMS, radius=0.3)
    >>> coarse, fine = (solve(rectangle(h=h)) for h in (0.25, 0.125))
    >>> sorted(fine.qoi)
    ['energy', 'h1_error', 'l2_error']
    >>> 3.5 < coarse.qoi["l2_error"] / fine.qoi["l2_error"] < 5     # order 2: h / 2, error / 4
    True
    """

    def __init__(self, problem, **parameters):
        self.problem = problem
        self.parameters = parameters

    def __call__(self, mesh, **options):
        return self.problem(mesh, **self.parameters).solve(**options)

    @property
    def key(self):
        text = json.dumps({"problem": f"{self.problem.__module__}.{self.problem.__name__}",
                           "parameters": self.parameters}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _solver_key(solve, key):
    if key is not None:
        return str(key)
    if hasattr(solve, "key"):
        return solve.key
    return f"{getattr(solve, '__module__', '')}.{getattr(solve, '__qualname__', repr(solve))}"


CACHE_KEYS = ("level", "key", "h", "cells", "ndofs", "seconds", "qoi", "reference",
              "expected_order", "error", "sha256")


def _digest(record):
    """SHA-256 of a record's content (everything but the digest itself), canonical JSON."""
    body = {k: v for k, v in record.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_cached(cache_file, level, key, fields=True):
    """A level's cached record, verified: ``(record, None)``, or ``(None, why)`` when the
    entry is unreadable, incomplete, tampered with (content hash), for another level or
    problem (key), or its fields file is missing or altered. Never trusted blindly: a bad
    entry is solved again."""
    cache_file = Path(cache_file)
    try:
        record = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        return None, f"unreadable ({type(err).__name__})"
    if not isinstance(record, dict):
        return None, "not a level record"
    missing = [k for k in CACHE_KEYS if k not in record]
    if missing:
        return None, f"incomplete (no {', '.join(missing)})"
    if record["sha256"] != _digest(record):
        return None, "content does not match its hash (edited or corrupted)"
    if record["key"] != key or record["level"] != level:
        return None, f"belongs to {record['key']} level {record['level']}"
    if record.get("error"):
        return None, "a failed level"
    if fields:
        name = record.get("fields")
        path = cache_file.parent / name if isinstance(name, str) else None
        if path is None or Path(name).is_absolute() or not path.is_file():
            return None, "its fields file is missing"
        if _file_digest(path) != record.get("fields_sha256"):
            return None, f"its fields file {path.name} does not match its hash"
    return record, None


def solve_level(solve, sequence, level, fields=False):
    """Build the mesh of ``level`` and solve: ``(record, fields)``, the level's record (h,
    cells, DOFs, seconds, QoIs, references, expected orders) and, with ``fields``, the
    result's fields as a ``meshio.Mesh`` (else None). Never raises for a failing solve: the
    error is recorded. Runs where the level runs (a pool's process, a Dask worker): it
    writes nothing, so workers need not share the client's disk."""
    start = time.perf_counter()
    record = {"level": level}
    try:
        mesh = sequence.mesh(level)
        record.update(h=mesh_size(mesh), cells=int(mesh.nelements))
        result = solve(mesh)
        record.update(
            ndofs=int(result.meta.get("ndofs", 0)),
            seconds=time.perf_counter() - start,
            qoi=dict(result.qoi),
            reference={k: float(v) for k, v in result.meta.get("reference", {}).items()},
            expected_order={k: float(v)
                            for k, v in result.meta.get("expected_order", {}).items()},
            error=None)
        return record, (result.to_meshio() if fields else None)
    except Exception as err:  # a failing level is data for the study, not its end
        return _failed(record, err, start), None


def _failed(record, err, start):
    """``record`` marked failed by ``err`` (one line; a traceback for a bug, not for a
    user's mistake)."""
    message = str(err).splitlines()[0] if str(err) else type(err).__name__
    record.update(seconds=time.perf_counter() - start, qoi=record.get("qoi") or {},
                  ndofs=record.get("ndofs"), error=f"{type(err).__name__}: {message}")
    record.pop("sha256", None)
    if not isinstance(err, FemRegError):
        record["traceback"] = traceback.format_exc(limit=6)
    return record


def store_level(record, fields, cache_file=None, fields_file=None, key=None):
    """Write a solved level where the study keeps it (in the client, after
    :func:`solve_level`): the fields to ``fields_file``, and the record to ``cache_file``
    with its key (``key``, default the file's stem), a content hash and the fields file's
    name (relative to the cache folder) and hash. Returns the record; a write that fails
    marks it failed (and it is not cached)."""
    if record.get("error"):
        return record
    start = time.perf_counter() - record.get("seconds", 0.0)
    try:
        if cache_file is not None:
            cache_file = Path(cache_file)
            record["key"] = key or cache_file.stem
            if fields_file is not None and fields is not None:
                write_vtu(fields_file, fields)
                record["fields"] = Path(fields_file).name
                record["fields_sha256"] = _file_digest(fields_file)
            record["sha256"] = _digest(record)
            write_text(cache_file, json.dumps(record, indent=1))
        elif fields_file is not None and fields is not None:
            write_vtu(fields_file, fields)
            record["fields"] = str(fields_file)
    except Exception as err:
        return _failed(record, err, start)
    return record


def run_level(solve, sequence, level, cache_file=None, fields_file=None, key=None):
    """Solve ``level`` and store it (:func:`solve_level`, then :func:`store_level`), here."""
    record, fields = solve_level(solve, sequence, level, fields_file is not None)
    return store_level(record, fields, cache_file, fields_file, key)


def _stop_workers(pool):
    """Ctrl-C (or an error) in the parent: end the pool's running levels now instead of
    waiting for them (a level can take minutes; the finished ones are cached)."""
    processes = getattr(pool, "_processes", None) or {}    # ProcessPoolExecutor: pid -> Process
    for process in list(processes.values()):
        with contextlib.suppress(Exception):
            process.terminate()


@dataclass
class StudyResult:
    """Rows per level and the convergence analysis per QoI."""

    rows: list
    analysis: dict
    tolerance: float
    stop_reason: str
    key: str = ""
    sequence: dict = field(default_factory=dict)
    cache_dir: str | None = None

    @property
    def failed(self):
        return [row for row in self.rows if row.get("error")]

    def verdicts(self):
        """QoI name -> mesh_independent (None for an error judged by its order)."""
        return {name: a["mesh_independent"] for name, a in self.analysis.items()}

    def to_dict(self):
        return {"tolerance": self.tolerance, "stop_reason": self.stop_reason,
                "sequence": self.sequence, "levels": self.rows, "qoi": self.analysis}


def settled(entry):
    """A QoI's analysis needs no more levels: mesh-independent, or (an error that tends to 0,
    judged by code verification) its observed order agrees with the expected one."""
    if entry.get("mesh_independent") is None:
        return bool(entry.get("order_ok"))
    return bool(entry["mesh_independent"])


def analyse(rows, qoi, tolerance, asymptotic_tolerance=0.1, expected_orders=None):
    """Per-QoI grid convergence over the levels that succeeded.

    A QoI whose exact value the problem declares as 0 (an error of a manufactured solution)
    is judged by code verification (:func:`~fem_reg.study.convergence.error_convergence`):
    ``mesh_independent`` is None (a GCI relative to a value tending to 0 means nothing) and
    ``order_ok`` carries the verdict. Other QoIs get the GCI verdict; with a known exact
    value their error's order is checked too, and an error plateau is added to the reason.
    """
    good = [row for row in rows if not row.get("error") and row.get("qoi")]
    expected_orders = expected_orders or {}
    analysis = {}
    names = qoi if qoi is not None else \
        sorted({name for row in good for name in row["qoi"]})
    for name in names:
        points = [(row["h"], row["qoi"][name]) for row in good if name in row["qoi"]]
        entry = {"levels": len(points), "mesh_independent": False}
        expected = expected_orders.get(name)
        if expected is None:
            expected = next((row["expected_order"][name] for row in good
                             if name in row.get("expected_order", {})), None)
        reference = next((row["reference"][name] for row in good
                          if name in row.get("reference", {})), None)
        entry["expected_order"] = expected
        entry["reference"] = reference
        h, phi = zip(*points) if points else ((), ())
        scale = max((abs(v) for v in phi), default=0.0)
        verification = reference is not None and abs(reference) <= ROUND_OFF * scale
        check = None
        if reference is not None and len(points) >= 2:
            check = error_convergence(h, [v - reference for v in phi], expected,
                                      levels=min(3, len(h)))
            entry.update(observed_order=check["observed_order"],
                         local_error_orders=check["local_orders"], plateau=check["plateau"])
            if expected is not None:
                entry["order_ok"] = check["order_ok"]
        if verification:
            entry["mesh_independent"] = None
        if len(points) < 2 or (len(points) == 2 and expected is None):
            entry["reason"] = f"{len(points)} level(s) solved; need 3 (or 2 with an " \
                              f"expected order)"
            analysis[name] = entry
            continue
        try:
            gc = grid_convergence(h, phi, expected_order=expected)
        except FemRegError as err:
            entry["reason"] = str(err)
            analysis[name] = entry
            continue
        independent, reason = gc.verdict(tolerance, asymptotic_tolerance)
        entry.update(gc.to_dict())
        if verification:
            entry["reason"] = f"verification against the exact value 0: {check['reason']}"
        else:
            if check is not None and check["plateau"]:
                reason = f"{reason}; {check['reason']}"
            entry.update(mesh_independent=independent, reason=reason)
        analysis[name] = entry
    return analysis


def run_study(solve, sequence, *, qoi=None, tolerance=0.01, asymptotic_tolerance=0.1,
              cache_dir=None, fields=True, key=None, executor=None, workers=1,
              until_converged=False, max_dofs=None, expected_orders=None, progress=None):
    """Solve on every level of ``sequence`` and analyse the QoIs.

    Parameters
    ----------
    solve
        Callable ``mesh -> Result`` (picklable for ``workers > 1`` or an ``executor``).
    sequence
        A :class:`~fem_reg.mesh.MeshSequence`.
    qoi
        Names of the QoIs to judge (default: all).
    tolerance
        Relative GCI below which a QoI counts as mesh-independent (e.g. 0.01 = 1%).
    cache_dir
        Where level records and fields go; finished levels found there are not run again.
        Written here, by the caller's process, as each level comes back: the processes or
        cluster workers that solve need not share this disk.
    fields
        Also store each level's fields (for the PVD through the levels).
    key
        Identifies the problem in the cache (default: ``solve.key``, else its name).
    executor
        A ``concurrent.futures.Executor`` (or compatible: ``dask.distributed.Client
        .get_executor()``, Ray's ``RayExecutor``); default a process pool of ``workers``.
    workers
        Processes for the default executor; 1 runs the levels here, one after another.
    until_converged
        Stop as soon as every watched QoI is mesh-independent (levels then run in order).
    max_dofs
        Do not start a level whose estimated DOFs exceed this.
    expected_orders
        QoI -> formal order, overriding what the problem declares.
    progress
        Callable ``(event, record)`` told ``"start"`` / ``"done"`` for each level.

    Returns
    -------
    StudyResult
    """
    tolerance = positive("tolerance", tolerance)
    workers = integer("workers", workers, low=1)
    if max_dofs is not None:
        max_dofs = integer("max_dofs", max_dofs, low=1)
    plan = plan_study(solve, sequence, cache_dir=cache_dir, fields=fields, key=key,
                      progress=progress)

    def judge(rows):
        return analyse(rows, qoi, tolerance, asymptotic_tolerance, expected_orders)

    if workers == 1 and executor is None or until_converged:
        stop_reason = _run_in_order(plan, max_dofs=max_dofs,
                                    judge=judge if until_converged else None)
    else:
        run_plans([plan], executor=executor, workers=workers)
        stop_reason = f"all {sequence.levels} levels solved"
    return plan.result(judge, tolerance, stop_reason)


@dataclass
class StudyPlan:
    """One refinement study's work: what solves a level, the mesh sequence, where its
    levels are kept, the levels already read back (``rows``) and those to solve
    (``todo``). :func:`run_plans` runs the levels of several plans on one executor."""

    solve: object
    sequence: MeshSequence
    files: "_LevelFiles"
    rows: dict
    todo: list
    key: str
    report: object

    def run(self, level):
        """Solve ``level`` here and keep it."""
        self.report("start", {"level": level})
        self.keep(run_level(self.solve, self.sequence, level, *self.files(level)))

    def keep(self, record):
        self.rows[record["level"]] = record
        self.report("done", record)

    def result(self, judge, tolerance, stop_reason):
        """The :class:`StudyResult` of the levels kept so far."""
        ordered = [self.rows[level] for level in sorted(self.rows)]
        failed = [row["level"] for row in ordered if row.get("error")]
        if failed:
            stop_reason += f"; level(s) {', '.join(map(str, failed))} failed"
        cache = self.files.cache
        return StudyResult(rows=ordered, analysis=judge(ordered), tolerance=tolerance,
                           stop_reason=stop_reason, key=self.key,
                           sequence=self.sequence.describe(),
                           cache_dir=str(cache) if cache is not None else None)


def plan_study(solve, sequence, *, cache_dir=None, fields=True, key=None, progress=None):
    """A :class:`StudyPlan`: the cached levels read back and verified, the others to do."""
    if not isinstance(sequence, MeshSequence):
        raise ParameterError(f"sequence must be a MeshSequence, got {type(sequence).__name__}")
    problem_key = _solver_key(solve, key)
    cache = Path(cache_dir) if cache_dir is not None else None
    report = progress or (lambda event, record: None)
    files = _LevelFiles(cache, problem_key, sequence, fields)
    rows = _read_cache(sequence, files, fields, report)
    todo = [level for level in range(sequence.levels) if level not in rows]
    return StudyPlan(solve, sequence, files, rows, todo, problem_key, report)


class _LevelFiles:
    """``level -> (record file, fields file)`` in the cache (``(None, None)`` without one)."""

    def __init__(self, cache, problem_key, sequence, fields):
        self.cache, self.problem_key = cache, problem_key
        self.sequence, self.fields = sequence, fields

    def __call__(self, level):
        if self.cache is None:
            return None, None
        stem = f"{self.problem_key}_{self.sequence.key(level)}"
        return (self.cache / f"{stem}.json",
                self.cache / f"{stem}.vtu" if self.fields else None)


def _read_cache(sequence, files, fields, report):
    """The verified cached levels (a bad entry is reported and left to be solved again)."""
    rows = {}
    for level in range(sequence.levels):
        cache_file, _ = files(level)
        if cache_file is None or not cache_file.is_file():
            continue
        record, why = read_cached(cache_file, level, cache_file.stem, fields)
        if record is None:
            log.warning("cache entry %s: %s; solving level %d again", cache_file, why, level)
            report("invalid", {"level": level, "reason": why})
            continue
        rows[level] = {**record, "cached": True}
        report("cached", rows[level])
    return rows


def _estimated_dofs(rows, level):
    """DOFs of ``level`` extrapolated from the growth between the last two solved levels."""
    done = [rows[k] for k in sorted(rows) if rows[k].get("ndofs")]
    if not done:
        return None
    last = done[-1]
    growth = last["ndofs"] / done[-2]["ndofs"] if len(done) > 1 else 4.0
    return last["ndofs"] * growth ** (level - last["level"])


def _run_in_order(plan, *, max_dofs, judge):
    """Levels one after another, here; stops at the DOF budget, or (with ``judge``) as soon
    as every watched QoI is settled. Returns the stop reason."""
    levels = plan.sequence.levels
    for level in plan.todo:
        estimate = _estimated_dofs(plan.rows, level) if max_dofs is not None else None
        if estimate is not None and estimate > max_dofs:
            return f"DOF budget {max_dofs} reached before level {level}"
        plan.run(level)
        if judge is not None:
            analysis = judge(list(plan.rows.values()))
            if analysis and all(settled(a) for a in analysis.values()):
                return (f"every watched QoI mesh-independent (or, for errors, verified) at "
                        f"level {level}")
    if judge is not None:
        return f"level budget ({levels} levels) reached before every QoI was mesh-independent"
    return f"all {levels} levels solved"


def run_plans(plans, *, executor=None, workers=1):
    """The levels still to do of every plan, on one executor: here one after another,
    coarse to fine (``workers = 1``, no executor), on a process pool of ``workers`` (its
    running levels terminated on Ctrl-C; the finished ones are cached), or on ``executor``
    (a Dask cluster's). To a pool or cluster the finest levels are submitted first (the
    longest jobs, for the balance). Each level is stored here as it comes back, so an interrupted run resumes
    from the cache; a level whose job failed (a worker lost more often than the cluster
    retries it) is recorded as failed and the others go on."""
    if executor is None and workers == 1:            # coarse to fine, point by point
        for plan in plans:
            for level in plan.todo:
                plan.run(level)
        return
    jobs = sorted(((plan, level) for plan in plans for level in plan.todo),
                  key=lambda job: -job[1])
    # "spawn", not fork: the parent has BLAS/MKL, VTK and gmsh threads running, and a forked
    # child can inherit a held lock and hang forever.
    pool = executor or ProcessPoolExecutor(max_workers=workers,
                                           mp_context=multiprocessing.get_context("spawn"))
    try:
        pending = {}
        for plan, level in jobs:
            plan.report("start", {"level": level})
            wants_fields = plan.files(level)[1] is not None
            future = pool.submit(solve_level, plan.solve, plan.sequence, level, wants_fields)
            pending[future] = (plan, level, time.perf_counter())
        for future in as_completed(pending):
            plan, level, submitted = pending[future]
            try:
                record, fields = future.result()
            except Exception as err:        # the job, not the solve (which never raises)
                plan.keep(_failed({"level": level}, err, submitted))
                continue
            plan.keep(store_level(record, fields, *plan.files(level)))
    except BaseException:
        if executor is None:
            _stop_workers(pool)
        else:
            for future in pending:
                future.cancel()
        raise
    finally:
        if executor is None:
            pool.shutdown(wait=False, cancel_futures=True)
