"""Parameter sweeps: one refinement study per parameter point, every level of every point on
one executor, one report.

A sweep is a table of parameter -> values (``{"gamma": [0.01, 0.1, 0.3]}``): several keys
give their Cartesian product, or, with ``zip``, their values side by side. Each point is a
whole refinement study (:func:`~fem_reg.study.run_study`'s cache, verdict and reports); the
levels of all points go to one executor at once (a local process pool or a Dask cluster),
are stored by this process as they come back, and a sweep run again reads them from the
cache. The harness knows no physics: a point is a callable ``mesh -> Result`` and a mesh
sequence, like a study.
"""

import itertools
import math
import re
from dataclasses import dataclass

from ..checks import integer, positive
from ..errors import ParameterError
from .runner import StudyResult, analyse, plan_study, run_plans


def sweep_points(table, zipped=False, where="sweep"):
    """The points of a sweep table ``{parameter: [values]}``: their Cartesian product in the
    table's key order, or with ``zipped`` the i-th values of every key together (the lists
    then have one length). Returns a list of ``{parameter: value}``."""
    if not isinstance(table, dict) or not table:
        raise ParameterError(f"{where}: give at least one parameter and its list of values")
    for name, values in table.items():
        if not isinstance(values, list) or not values:
            raise ParameterError(f"{where}: '{name}' must be a non-empty list of values, got "
                                 f"{values!r}")
        if len({repr(v) for v in values}) != len(values):
            raise ParameterError(f"{where}: '{name}' lists a value twice: {values!r}")
    names = list(table)
    if zipped:
        lengths = {name: len(values) for name, values in table.items()}
        if len(set(lengths.values())) > 1:
            raise ParameterError(f"{where}: zip = true pairs the lists, but their lengths "
                                 f"differ: {lengths}")
        combos = zip(*table.values())
    else:
        combos = itertools.product(*table.values())
    return [dict(zip(names, combo)) for combo in combos]


def point_label(values):
    """A file-name-safe label of a point: ``gamma=0.01,radius=2``."""
    text = ",".join(f"{name}={_value(v)}" for name, v in values.items())
    return re.sub(r"[^A-Za-z0-9=,.+_-]", "_", text)


def _value(v):
    return f"{v:g}" if isinstance(v, float) else str(v)


@dataclass
class SweepPoint:
    """One point: its parameter values, what solves a level there, and the mesh sequence."""

    values: dict
    solve: object
    sequence: object

    @property
    def label(self):
        return point_label(self.values)


@dataclass
class SweepResult:
    """The points' values and their refinement studies, in sweep order."""

    parameters: list
    points: list
    studies: list
    tolerance: float

    @property
    def labels(self):
        return [point_label(values) for values in self.points]

    def failed_levels(self):
        return sum(len(study.failed) for study in self.studies)

    def to_dict(self):
        return {"parameters": self.parameters, "tolerance": self.tolerance,
                "points": [{"label": label, "values": values, **study.to_dict()}
                           for label, values, study in zip(self.labels, self.points,
                                                           self.studies)]}


def run_sweep(points, *, qoi=None, tolerance=0.01, asymptotic_tolerance=0.1, cache_dir=None,
              fields=True, executor=None, workers=1, expected_orders=None, progress=None):
    """Every level of every :class:`SweepPoint` on one executor (see
    :func:`~fem_reg.study.runner.run_plans`), then each point's analysis.

    ``progress(event, record)`` is told about every level of every point; the record carries
    the point's label under ``"point"``. The points share ``cache_dir``: their entries are
    told apart by the problem's key (its parameters). Returns a :class:`SweepResult`.
    """
    if not points:
        raise ParameterError("a sweep needs at least one point")
    tolerance = positive("tolerance", tolerance)
    workers = integer("workers", workers, low=1)
    report = progress or (lambda event, record: None)
    plans = []
    for point in points:
        def told(event, record, label=point.label):
            report(event, {**record, "point": label})
        plans.append(plan_study(point.solve, point.sequence, cache_dir=cache_dir,
                                fields=fields, progress=told))
    run_plans(plans, executor=executor, workers=workers)

    def judge(rows):
        return analyse(rows, qoi, tolerance, asymptotic_tolerance, expected_orders)

    studies = [plan.result(judge, tolerance, f"all {plan.sequence.levels} levels solved")
               for plan in plans]
    return SweepResult(parameters=list(points[0].values), points=[p.values for p in points],
                       studies=studies, tolerance=tolerance)


def sweep_rows(sweep, qoi=None):
    """Header and one row per point: its values, then per QoI the finest level's value, the
    uncertainty its verdict judged (relative: the GCI for monotonic convergence, three times
    the spread for oscillatory; see :attr:`GridConvergence.uncertainty`) and the
    :func:`verdict`, then the failed levels."""
    names = qoi or sorted({name for study in sweep.studies for name in study.analysis})
    header = ["point"] + list(sweep.parameters)
    for name in names:
        header += [name, f"{name} uncertainty", f"{name} verdict"]
    header.append("failed levels")
    rows = []
    for label, values, study in zip(sweep.labels, sweep.points, sweep.studies):
        row = [label] + [values[p] for p in sweep.parameters]
        for name in names:
            a = study.analysis.get(name, {})
            row += [finest_value(study, name), a.get("uncertainty"), verdict(a)]
        row.append(",".join(str(r["level"]) for r in study.failed))
        rows.append(row)
    return header, rows


def verdict(entry):
    """A QoI's verdict in words: ``yes`` / ``no`` (mesh-independent at the tolerance), or
    for an error judged by its order, ``order ok`` / ``not shown``."""
    if not entry:
        return "not shown"
    if entry.get("mesh_independent") is None:
        return "order ok" if entry.get("order_ok") else "not shown"
    return "yes" if entry["mesh_independent"] else "no"


def finest_value(study, name):
    """The QoI on the finest level that solved (None if none did)."""
    good = [row for row in study.rows if not row.get("error") and name in row.get("qoi", {})]
    return min(good, key=lambda row: row["h"])["qoi"][name] if good else None


def error_bar(study, name):
    """The uncertainty band of the finest value (``uncertainty |phi_fine|``: the GCI, or
    the data-range band of oscillatory convergence), None when there is none."""
    value, band = finest_value(study, name), study.analysis.get(name, {}).get("uncertainty")
    if value is None or band is None or not math.isfinite(band):
        return None
    relative = study.analysis[name].get("relative", True)
    return abs(band * value) if relative else abs(band)


__all__ = ["SweepPoint", "SweepResult", "StudyResult", "error_bar", "finest_value",
           "point_label", "run_sweep", "sweep_points", "sweep_rows", "verdict"]
