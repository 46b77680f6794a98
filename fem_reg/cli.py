"""The ``fem-reg`` command: parse, look up the case, run, write.

``--json`` prints one JSON object on stdout; progress and logs go to stderr. A user mistake
prints one line ``fem-reg: error: ...`` and exits with status 2.
"""

import argparse
import contextlib
import json
import os
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from . import __version__
from .errors import FemRegError

log = logging.getLogger("fem_reg")


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2, like every user mistake)."""

    def error(self, message):
        self.exit(2, f"fem-reg: error: {message} (see '{self.prog} --help')\n")


class IntermixedParser(Parser):
    """A subcommand whose optional positional may follow its options (``mesh make
    rectangle --h 0.1 out.msh``): plain argparse fills the positionals at the first option
    and rejects the file given after it."""

    _intermixing = False

    def parse_known_args(self, args=None, namespace=None):
        if self._intermixing:                    # the two passes of the intermixed parse
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def _print_json(data):
    json.dump(data, sys.stdout, indent=1, default=float)
    sys.stdout.write("\n")


def _out_dir(args, default):
    return Path(args.out) if args.out else Path("fem_reg_out") / default


def cmd_run(args):
    from .cases import checkpoint_path, problem_class, run_case
    from .io.case_file import load_case
    case = load_case(args.case)
    out = _out_dir(args, case.name)
    if problem_class(case.problem, case.source).iterative:
        checkpoint, started = checkpoint_path(case, out), time.time()

        def kept():
            # read when the interrupt comes: one before this run's first checkpoint leaves
            # none (or an earlier run's, which is not this run's to resume)
            if checkpoint.is_file() and checkpoint.stat().st_mtime >= started:
                return (f"no output was changed; the run's checkpoint is in {out}: continue "
                        f"with --resume")
            return INTERRUPTED["run"]

        args.interrupted = kept
    start = time.perf_counter()
    log.info("running %s (%s) -> %s", case.name, case.problem, out)
    from .io.progress import ProgressBar
    bar = ProgressBar(case.name, enabled=not args.quiet)

    def progress(done, total, status):
        bar.total = total
        bar.completed = done
        bar.update(status)

    with bar:
        summary = run_case(case, out, progress=progress, resume=args.resume,
                           max_dofs=args.max_dofs)
    summary["seconds"] = time.perf_counter() - start
    if summary["meta"].get("rebuilt_from_checkpoint"):
        stop = summary["meta"].get("stop", "all its load steps")
        log.info("the checkpoint's run had finished (%s): its outputs were written again "
                 "without solving%s", stop,
                 "; raise max_iterations to continue" if stop == "max_iterations" else "")
    if args.json:
        _print_json(summary)
    else:
        print(f"{case.name}: {case.title or case.problem}")
        for name, value in summary["qoi"].items():
            print(f"  {name:>24s} = {value:.8g}")
        steps = [p for p in summary["outputs"] if Path(p).parent.parent == out]
        for path in summary["outputs"]:
            if path not in steps:
                print(f"  wrote {path}")
        if steps:
            print(f"  wrote {len(steps)} steps in {Path(steps[0]).parent}")


def _study_progress(levels, quiet, points=None):
    """One bar over every level (of every point of a sweep), with the time remaining."""
    from .io.progress import ProgressBar
    what = "refinement study" if points is None else f"sweep of {points} points"
    bar = ProgressBar(what, total=levels * (points or 1), enabled=not quiet, eta=True)

    def report(event, record):
        where = f"level {record['level']}"
        if "point" in record:
            where = f"{record['point']} {where}"
        if event in ("done", "cached"):
            state = "cached" if event == "cached" else \
                ("FAILED" if record.get("error") else f"{record.get('seconds', 0):.1f}s")
            bar.advance(status=f"{where}: {record.get('ndofs') or '-'} DOFs, {state}")
            if record.get("error"):
                log.warning("%s failed: %s", where, record["error"])
        elif event == "start" and points is None:
            bar.update(status=f"{where} ...")
    return bar, report


def cmd_study(args):
    from .cases import study_case, study_options, sweep_table
    from .io.case_file import load_case
    from .study import to_markdown
    from .study.report import sweep_markdown
    case = load_case(args.case)
    overrides = dict(levels=args.levels, workers=args.workers, tolerance=args.tolerance,
                     scheduler=args.scheduler)
    options = study_options(case, **overrides)
    points = len(sweep_table(case)) if case.sweep else None
    out = _out_dir(args, case.name)
    args.interrupted = (f"the levels solved so far are cached in {out / 'cache'}; no report "
                        f"was changed: run the same command again to continue")
    where = f"the Dask cluster at {options['scheduler']}" if options["scheduler"] else \
        f"{options['workers']} local process(es)"
    log.info("%s of %s: %d levels (%s) on %s -> %s",
             "study" if points is None else f"sweep of {points} points", case.name,
             options["levels"], options["refinement"], where, out)
    bar, report = _study_progress(options["levels"], args.quiet, points)
    with bar:
        study, files = study_case(case, out, fresh=args.fresh, progress=report,
                                  max_dofs=args.max_dofs, **overrides)
    if args.json:
        _print_json({"case": case.name, "problem": case.problem, **study.to_dict(),
                     "outputs": files})
    elif points is None:
        print(to_markdown(study, case.title or case.name))
        for path in files[:5]:
            print(f"wrote {path}")
    else:
        print(sweep_markdown(study, case.title or case.name))
        for path in files[:4]:
            print(f"wrote {path}")
        print(f"wrote {len(files) - 4} files of the points' studies in {out / 'points'}")
    return 0


def cmd_demo(args):
    from .demo import run_demo
    args.interrupted = (f"the finished studies are cached under {args.out or 'fem_reg_demo'}: "
                        f"run fem-reg demo again to continue")
    summary = run_demo(Path(args.out or "fem_reg_demo"), quick=args.quick)
    if args.json:
        _print_json(summary)
    else:
        print(summary["table"])
        print(f"\nreport: {summary['report']}")


def cmd_mesh_info(args):
    from .mesh import load_mesh, mesh_info
    info = mesh_info(load_mesh(args.file))
    if args.json:
        _print_json({"file": args.file, **info})
        return
    q, e = info["quality"], info["edge_length"]
    print(f"{args.file}: {info['cells']} {info['cell_type']} cells, {info['nodes']} nodes, "
          f"{info['dim']}D, measure {info['measure']:.6g}")
    print(f"  edge length  min {e['min']:.4g}  mean {e['mean']:.4g}  max {e['max']:.4g}")
    print(f"  quality      min {q['min']:.3f}  mean {q['mean']:.3f}  (worst cell "
          f"{q['worst_cell']}, {q['poor_cells']} below 0.2)")
    for kind in ("boundaries", "subdomains"):
        names = ", ".join(f"{k} ({v})" for k, v in info[kind].items()) or "none"
        print(f"  {kind:12s} {names}")


def cmd_mesh_make(args):
    from .mesh import GEOMETRIES, estimate_geometry, save_mesh
    from .mesh.make import make_geometry
    from .errors import UnknownNameError
    from .resources import check
    if args.geometry not in GEOMETRIES:
        raise UnknownNameError(f"unknown geometry '{args.geometry}'; known: "
                               f"{', '.join(GEOMETRIES)}")
    options = {"structured": args.structured}
    if args.h is not None:
        options["h"] = args.h
    if args.cell_type:
        options["cell_type"] = args.cell_type
    if args.output and args.out and args.output != args.out:
        raise FemRegError(f"two output files given: '{args.output}' and --out '{args.out}'")
    target = args.output or args.out or f"{args.geometry}.msh"
    if args.h is not None:
        sizes = {k: v for k, v in options.items() if k != "h"}
        check(estimate_geometry(args.geometry, args.h, sizes),
              f"{args.geometry} at h = {args.h:g}", max_cells=args.max_cells,
              advice="; use a larger h")
    mesh = make_geometry(args.geometry, **options)
    path = save_mesh(mesh, target)
    if args.json:
        from .mesh import mesh_info
        _print_json({"file": str(path), **mesh_info(mesh)})
        return
    print(f"wrote {path}: {mesh.nelements} cells, boundaries "
          f"{', '.join(mesh.boundaries or {})}")


def _first_paragraph(doc):
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def cmd_problems(args):
    from .cases import PROBLEMS, problem_parameters
    data = {name: {"parameters": problem_parameters(name), "qoi": list(cls.QOI),
                   "doc": _first_paragraph(cls.__doc__)}
            for name, cls in PROBLEMS.items()}
    if args.json:
        _print_json(data)
        return
    for name, entry in data.items():
        params = ", ".join(f"{k}={v!r}" for k, v in entry["parameters"].items())
        print(f"{name}: {entry['doc']}\n    parameters: {params}\n    qoi: "
              f"{', '.join(entry['qoi'])}")


def build_parser():
    parser = Parser(prog="fem-reg", description="Gradient-regularized finite elements on "
                    "unstructured meshes, with refinement studies.")
    parser.add_argument("--version", action="version", version=f"fem-reg {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or logs")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    quiet = Parser(add_help=False)
    quiet.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                       help="no progress or logs")

    run = sub.add_parser("run", parents=[quiet],
                         help="solve one case file and write its outputs")
    run.add_argument("case", help="case file (TOML)")
    run.add_argument("--out", help="output directory (default fem_reg_out/CASE)")
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.add_argument("--resume", action="store_true",
                     help="continue an interrupted optimization or load history from its "
                          "checkpoint")
    run.add_argument("--max-dofs", type=int, metavar="N",
                     help="size limit (default: what the available memory allows)")
    run.set_defaults(func=cmd_run)

    study = sub.add_parser("study", parents=[quiet],
                           help="refinement study of a case file (one per point of a "
                                "[sweep])")
    study.add_argument("case", help="case file (TOML)")
    study.add_argument("--levels", type=int, help="number of mesh levels")
    study.add_argument("--workers", type=int, help="levels solved in parallel processes")
    study.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="solve the levels on this Dask cluster (pip install "
                            "'fem-reg[cluster]')")
    study.add_argument("--tolerance", type=float, help="GCI tolerance, e.g. 0.01 for 1%%")
    study.add_argument("--fresh", action="store_true", help="ignore cached levels")
    study.add_argument("--max-dofs", type=int, metavar="N",
                       help="size limit per level (default: what the available memory "
                            "allows)")
    study.add_argument("--out", help="output directory (default fem_reg_out/CASE)")
    study.add_argument("--json", action="store_true", help="print one JSON object")
    study.set_defaults(func=cmd_study)

    demo = sub.add_parser("demo", parents=[quiet],
                          help="run the canonical cases, write a report")
    demo.add_argument("--out", help="output directory (default fem_reg_demo)")
    demo.add_argument("--quick", action="store_true", help="fewer levels (seconds)")
    demo.add_argument("--json", action="store_true", help="print one JSON object")
    demo.set_defaults(func=cmd_demo)

    mesh = sub.add_parser("mesh", parents=[quiet], help="mesh utilities")
    mesh_sub = mesh.add_subparsers(dest="mesh_command", required=True,
                                   parser_class=IntermixedParser)
    info = mesh_sub.add_parser("info", parents=[quiet],
                               help="cells, nodes, quality, names of a mesh file")
    info.add_argument("file")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(func=cmd_mesh_info)
    make = mesh_sub.add_parser("make", parents=[quiet],
                               help="mesh a canonical geometry and save it")
    make.add_argument("geometry", help="rectangle, cook_membrane, mbb_beam, ...")
    make.add_argument("output", nargs="?", help="output file (.msh, .vtu, .xdmf); "
                      "default GEOMETRY.msh")
    make.add_argument("--out", help="output file (same as the positional argument)")
    make.add_argument("--json", action="store_true", help="print one JSON object")
    make.add_argument("--h", type=float, help="target element size")
    make.add_argument("--cell-type", help="triangle/quad (2D), tetra/hexahedron (3D)")
    make.add_argument("--structured", action="store_true", help="mapped (transfinite) mesh")
    make.add_argument("--max-cells", type=int, metavar="N",
                      help="size limit (default: what the available memory allows)")
    make.set_defaults(func=cmd_mesh_make)

    problems = sub.add_parser("problems", parents=[quiet],
                              help="list problems, parameters and QoIs")
    problems.add_argument("--json", action="store_true", help="print one JSON object")
    problems.set_defaults(func=cmd_problems)
    return parser


INTERRUPTED = {"run": "no output was written or changed (outputs are written as one set)",
               "mesh make": "no mesh file was written",
               "mesh info": "nothing was written", "problems": "nothing was written"}


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (SIGINT)."""


def _terminate(signum, frame):
    raise Terminated()


@contextlib.contextmanager
def _sigterm_as_interrupt():
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:          # not the main thread (an embedding application): leave it
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("fem-reg: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.WARNING if args.quiet else logging.INFO)
    log.propagate = False
    command = " ".join(filter(None, (args.command, getattr(args, "mesh_command", None))))
    args.interrupted = INTERRUPTED.get(command, "")
    try:
        with _sigterm_as_interrupt():
            status = args.func(args)
            sys.stdout.flush()
    except BrokenPipeError:
        # the reader (``| head``) went away: not an error of ours; silence the final flush
        sys.stdout = open(os.devnull, "w")
        return 0
    except FemRegError as err:
        message = " ".join(str(err).split())
        print(f"fem-reg: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        what = "terminated (SIGTERM)" if isinstance(err, Terminated) else "interrupted"
        kept = args.interrupted() if callable(args.interrupted) else args.interrupted
        print(f"fem-reg: error: {command} {what}: {kept}", file=sys.stderr)
        from .resources import SOLVING
        if any(t.name == SOLVING and t.is_alive() for t in threading.enumerate()):
            # a factorization abandoned in C: leave without finalizing under its feet
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(2)
        return 2
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
