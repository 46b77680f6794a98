"""From a case file's ``problem = "..."`` to a Problem class: the one place that knows every
physics. Also runs a case (solve and write) and a case's refinement study."""

import contextlib
import shutil
from dataclasses import MISSING, fields, replace
from pathlib import Path

from .atomic import (case_lock, check_writable, recover_staging, relocate,
                     remove_stale_temporaries, staged_outputs)
from .checks import flag, integer, number, one_of, parameters
from .errors import CaseError, FemRegError, SolverError, UnknownNameError
from .io.case_file import check_keys, contour_options, write_outputs
from .mesh import REFINEMENTS, estimate_spec, mesh_from_spec, sequence_from_spec
from .resources import check as check_size
from .fracture import PhaseFieldFracture
from .friction import FrictionalBar, FrictionalSlip
from .membrane import Membrane
from .mms import DiffusionMMS, ElasticityMMS, HelmholtzMMS, TangentialMMS
from .study import ProblemSolver, run_study, write_reports
from .study.report import write_sweep_reports
from .study.sweep import SweepPoint, point_label, run_sweep, sweep_points
from .topopt import TopOpt

PROBLEMS = {problem.name: problem for problem in
            (HelmholtzMMS, DiffusionMMS, TangentialMMS, ElasticityMMS, Membrane, TopOpt,
              FrictionalSlip, FrictionalBar, PhaseFieldFracture)}

STUDY_KEYS = {"levels": int, "refinement": str, "ratio": float, "qoi": list,
              "tolerance": float, "asymptotic_tolerance": float, "workers": int,
              "until_converged": bool, "max_dofs": int, "scheduler": str}
STUDY_DEFAULTS = {"levels": 4, "refinement": "remesh", "ratio": 2.0, "qoi": None,
                  "tolerance": 0.01, "asymptotic_tolerance": 0.1, "workers": 1,
                  "until_converged": False, "max_dofs": None, "scheduler": None}


def problem_class(name, source="case"):
    """The Problem class registered under ``name``."""
    if name not in PROBLEMS:
        raise UnknownNameError(f"{source}: unknown problem '{name}'; known: "
                               f"{', '.join(PROBLEMS)}")
    return PROBLEMS[name]


def problem_parameters(name):
    """``{parameter: default}`` of a registered problem."""
    return {f.name: f.default if f.default is not MISSING else f.default_factory()
            for f in fields(problem_class(name).Parameters)}


def solver_for(case):
    """A picklable ``mesh -> Result`` for the case, its parameters checked now."""
    problem = problem_class(case.problem, case.source)
    try:
        parameters(problem.Parameters, case.parameters, case.problem)
    except FemRegError as err:
        raise err.within(f"{case.source} [parameters]")
    return ProblemSolver(problem, **case.parameters)


def _components(case, dim):
    """Fields per node for the size estimate: a vector field and the problem's
    :attr:`Problem.extra_fields` (the rotation of a membrane, the slip of an interface),
    times the order's nodes."""
    order = case.parameters.get("order", 1)
    extra = problem_class(case.problem, case.source).extra_fields
    return dim + extra, order if isinstance(order, int) and 1 <= order <= 4 else 1


def check_case_size(case, levels=1, refinement="remesh", ratio=2.0, max_dofs=None,
                    budget=None):
    """Refuse (one line, before any meshing) a case or study whose estimated size exceeds
    the limit: ``max_dofs`` (the command line's ``--max-dofs`` or the case's ``max_dofs``),
    else the memory available. Levels above a study's DOF ``budget`` are not checked: the
    study stops before them. Returns the per-level estimates."""
    where = f"{case.source} [mesh]"
    estimates = estimate_spec(case.mesh, levels, case.base_dir, refinement, ratio, where)
    limit = max_dofs if max_dofs is not None else case.max_dofs
    solved_iteratively = problem_class(case.problem, case.source).solved_iteratively
    uniform = refinement == "uniform" or "file" in case.mesh
    for level, estimate in enumerate(estimates):
        # uniform refinement (the mesh's 'refine', a uniform study's levels) leaves the
        # coarser meshes a geometric multigrid needs
        refinements = int(case.mesh.get("refine", 0) or 0) + (level if uniform else 0)
        estimate = replace(estimate.with_dofs(*_components(case, estimate.dim)),
                           iterative=solved_iteratively(case.parameters, case.mesh,
                                                        refinements))
        estimates[level] = estimate
        if budget is not None and estimate.dofs > budget:
            break
        if levels == 1:
            what, advice = where, "; use a larger h"
        else:
            what = f"{where} study level {level} of {levels}"
            advice = (f"; at most {level} level(s) fit: use --levels {level}" if level
                      else "; use a larger h")
        check_size(estimate, what, max_dofs=limit, advice=advice)
    return estimates


def checkpoint_path(case, out_dir):
    """Where a run of ``case`` into ``out_dir`` keeps its checkpoint (iterative problems)."""
    return Path(out_dir) / f"{case.name}.checkpoint.npz"


def run_case(case, out_dir, progress=None, resume=False, max_dofs=None):
    """Mesh, solve and write one case; returns the summary the CLI prints.

    Iterative problems (:attr:`Problem.iterative`) get ``progress(done, total, status)``, a
    checkpoint ``OUT/NAME.checkpoint.npz`` and ``resume`` (continue from it); problems with
    ``reports_progress`` get ``progress`` only (:meth:`Problem.solve_options`). A run that
    stops early (``meta["converged"]`` False: a load step that could not be solved) has its
    outputs written, then raises :class:`SolverError` saying so.
    """
    solve = solver_for(case)
    study_options(case)       # a misspelled [study] key is a mistake under `run` too
    if resume and not solve.problem.iterative:
        raise CaseError(f"{case.source}: --resume is for iterative problems; "
                        f"'{case.problem}' solves in one go")
    out_dir = Path(out_dir)
    checkpoint = checkpoint_path(case, out_dir)
    if resume and not checkpoint.is_file():
        raise CaseError(f"{checkpoint}: no checkpoint to resume from")
    options = solve.problem.solve_options(progress, checkpoint, resume)
    check_case_size(case, max_dofs=max_dofs)
    mesh = mesh_from_spec(case.mesh, case.base_dir, f"{case.source} [mesh]")
    check_writable(out_dir)
    with case_lock(out_dir, case.name):
        recover_staging(out_dir, case.name)
        try:
            result = solve(mesh, **options)
        except FemRegError as err:   # e.g. a boundary name the mesh does not have
            raise err.within(case.source)
        # all outputs or none: written aside, then moved into place together
        with staged_outputs(out_dir, case.name) as stage:
            outputs = relocate(write_outputs(result, case, stage), stage, out_dir)
    if result.meta.get("converged") is False:
        raise SolverError(f"{case.source}: stopped early: {result.meta['stop']}; the "
                          f"converged steps are written to {out_dir}")
    return {"case": case.name, "problem": case.problem, "title": case.title,
            "qoi": result.qoi, "outputs": outputs,
            "meta": {k: v for k, v in result.meta.items() if k != "parameters"}}


def study_options(case, **overrides):
    """The ``[study]`` table checked and completed with defaults; non-None ``overrides``
    (command-line options) win."""
    where = f"{case.source} [study]"
    check_keys(case.study, STUDY_KEYS, where)
    options = {**STUDY_DEFAULTS, **case.study,
               **{k: v for k, v in overrides.items() if v is not None}}
    try:
        integer("levels", options["levels"], low=1)
        one_of("refinement", options["refinement"], REFINEMENTS)
        number("ratio", options["ratio"], low=1.0, low_open=True)
        number("tolerance", options["tolerance"], low=0.0, low_open=True)
        number("asymptotic_tolerance", options["asymptotic_tolerance"], low=0.0,
               low_open=True)
        integer("workers", options["workers"], low=1)
        flag("until_converged", options["until_converged"])
        if options["max_dofs"] is not None:
            integer("max_dofs", options["max_dofs"], low=1)
        if options["scheduler"] is not None and "://" not in options["scheduler"]:
            raise CaseError(f"scheduler must be an address like tcp://HOST:8786, got "
                            f"{options['scheduler']!r}")
    except FemRegError as err:
        raise CaseError(f"{where}: {err}") from err
    problem = problem_class(case.problem, case.source)
    known = problem.qoi_names(case.parameters)
    for name in options["qoi"] or []:
        if name not in known:
            raise CaseError(f"{where}: unknown QoI {name!r} for {case.problem}; known: "
                            f"{', '.join(known)}")
    return options


@contextlib.contextmanager
def _executor(options):
    """The levels' executor: the Dask cluster at ``options["scheduler"]``, else None (the
    local pool of ``workers``)."""
    if options["scheduler"] is None:
        yield None
        return
    from .study.cluster import dask_executor
    with dask_executor(options["scheduler"]) as executor:
        yield executor


def _prepare_study(case, overrides, max_dofs):
    """Checked study options (after the size check) and the mesh sequence."""
    options = study_options(case, **overrides)
    check_case_size(case, options["levels"], options["refinement"], options["ratio"],
                    max_dofs=max_dofs, budget=options["max_dofs"])
    sequence = sequence_from_spec(case.mesh, options["levels"], case.base_dir,
                                  options["refinement"], options["ratio"],
                                  f"{case.source} [mesh]")
    return options, sequence


def study_case(case, out_dir, fresh=False, progress=None, max_dofs=None, **overrides):
    """Run the case's refinement study (or, with a ``[sweep]`` table, one per point: see
    :func:`sweep_case`); write reports; return (StudyResult or SweepResult, files).
    ``max_dofs`` is the size limit (see :func:`check_case_size`)."""
    if case.sweep:
        return sweep_case(case, out_dir, fresh=fresh, progress=progress, max_dofs=max_dofs,
                          **overrides)
    options, sequence = _prepare_study(case, overrides, max_dofs)
    solve = solver_for(case)

    def run(cache, executor):
        return run_study(solve, sequence, qoi=options["qoi"], tolerance=options["tolerance"],
                         asymptotic_tolerance=options["asymptotic_tolerance"],
                         cache_dir=cache, workers=options["workers"], executor=executor,
                         until_converged=options["until_converged"],
                         max_dofs=options["max_dofs"], progress=progress)
    return _run_in_folder(case, out_dir, f"{case.name}_study", fresh, options, run,
                          write_reports)


def _run_in_folder(case, out_dir, stem, fresh, options, run, write):
    """What a study and a sweep share: the output folder and its cache proved writable
    before any level is solved, the case's lock, a staging folder left by a killed run
    recovered, the cache emptied with ``fresh``; then ``run(cache, executor)`` on the
    case's executor, and ``write(result, folder, stem=, title=, contour=)``'s files moved
    into place as one set. Returns (result, files)."""
    out_dir = Path(out_dir)
    cache = out_dir / "cache"
    check_writable(out_dir)      # before any level is solved, not when the report is due
    with case_lock(out_dir, case.name):
        recover_staging(out_dir, stem)
        if fresh and cache.exists():
            shutil.rmtree(cache)
        check_writable(cache)
        remove_stale_temporaries(cache)      # a client killed while writing a level
        with _executor(options) as executor:
            result = run(cache, executor)
        with staged_outputs(out_dir, stem) as stage:
            files = relocate(write(result, stage, stem=stem, title=case.title or case.name,
                                   contour=contour_options(case.output)), stage, out_dir)
    return result, files


SWEEP_OPTIONS = ("zip",)


def sweep_table(case):
    """The points of the case's ``[sweep]`` table, each ``({parameter: value}, solver)``:
    any of the problem's parameters with a list of values; several give their Cartesian
    product, or with ``zip = true`` their values side by side. Every point's parameters are
    checked now (its solver built), before anything is solved."""
    where = f"{case.source} [sweep]"
    table = {k: v for k, v in case.sweep.items() if k not in SWEEP_OPTIONS}
    zipped = case.sweep.get("zip", False)
    if not isinstance(zipped, bool):
        raise CaseError(f"{where}: 'zip' must be true or false, got {zipped!r}")
    known = problem_parameters(case.problem)
    for name in table:
        if name not in known:
            raise CaseError(f"{where}: unknown parameter '{name}' for {case.problem}; known: "
                            f"{', '.join(known)}")
    try:
        points = sweep_points(table, zipped, where)
    except FemRegError as err:
        raise CaseError(str(err)) from err
    solvers = []
    for values in points:
        point = replace(case, parameters={**case.parameters, **values})
        try:
            solvers.append(solver_for(point))
        except FemRegError as err:
            raise CaseError(f"{where} point {point_label(values)}: {err}") from err
    return list(zip(points, solvers))


def sweep_case(case, out_dir, fresh=False, progress=None, max_dofs=None, **overrides):
    """Run a refinement study at every point of the case's ``[sweep]``, all levels of all
    points on one executor; write the sweep's reports (``NAME_sweep.md/csv/json/png``) and
    every point's study in ``points/POINT/``; return (SweepResult, files)."""
    points = sweep_table(case)
    options, sequence = _prepare_study(case, overrides, max_dofs)
    if options["until_converged"]:
        raise CaseError(f"{case.source} [study]: until_converged runs levels one after "
                        f"another; a sweep runs them all at once: leave it out")
    sweep = [SweepPoint(values, solve, sequence) for values, solve in points]

    def run(cache, executor):
        return run_sweep(sweep, qoi=options["qoi"], tolerance=options["tolerance"],
                         asymptotic_tolerance=options["asymptotic_tolerance"],
                         cache_dir=cache, workers=options["workers"], executor=executor,
                         progress=progress)
    return _run_in_folder(case, out_dir, f"{case.name}_sweep", fresh, options, run,
                          write_sweep_reports)
