"""Reports of a refinement study: Markdown, CSV, JSON, a log-log plot, a PVD of the levels."""

import csv
import io
import json
import logging
import math
from pathlib import Path

import numpy as np

from ..atomic import atomic_path, write_text
from ..errors import FemRegError
from ..io import PvdWriter
from .runner import settled
from .sweep import error_bar, finest_value, sweep_rows

log = logging.getLogger(__name__)


def _fmt(value, digits=6):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}"


def _percent(value, relative=True):
    if value is None:
        return "-"
    return f"{100 * value:.3g}%" if relative else f"{value:.3g}"


def level_table(study, qoi=None):
    """Header and rows: level, h, DOFs, seconds, each QoI (failed levels show the error)."""
    names = qoi or list(study.analysis)
    header = ["level", "h", "DOFs", "seconds"] + names
    rows = []
    for row in study.rows:
        if row.get("error"):
            rows.append([row["level"], _fmt(row.get("h")), "-", _fmt(row.get("seconds"), 3)]
                        + [f"failed: {row['error']}"] + [""] * (len(names) - 1))
            continue
        rows.append([row["level"], _fmt(row["h"], 4), row.get("ndofs", "-"),
                     _fmt(row["seconds"], 3)] + [_fmt(row["qoi"].get(n)) for n in names])
    return header, rows


def analysis_table(study):
    """One row per QoI: order, extrapolated, GCI, convergence, verdict."""
    header = ["QoI", "convergence", "order", "expected", "observed (log-log)", "order ok",
              "extrapolated", "reference", "GCI fine", "asymptotic ratio",
              "mesh-independent", "reason"]
    rows = []
    for name, a in study.analysis.items():
        rel = a.get("relative", True)
        rows.append([name, a.get("convergence", "-"), _fmt(a.get("order"), 4),
                     _fmt(a.get("expected_order"), 3), _fmt(a.get("observed_order"), 4),
                     _fmt(a.get("order_ok")), _fmt(a.get("extrapolated"), 8), _fmt(a.get("reference"), 8),
                     _percent(a.get("gci_fine"), rel), _fmt(a.get("asymptotic_ratio"), 4),
                     _fmt(a.get("mesh_independent")), a.get("reason", "")])
    return header, rows


def markdown_table(header, rows):
    lines = ["| " + " | ".join(map(str, header)) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def to_markdown(study, title="Refinement study"):
    """The level table and the analysis table, with the stopping reason."""
    parts = [f"## {title}", "", markdown_table(*level_table(study)), "",
             markdown_table(*analysis_table(study)), "",
             f"Tolerance {_percent(study.tolerance)}; {study.stop_reason}.", ""]
    return "\n".join(parts)


def to_csv(study):
    """Levels as CSV rows, then one row per QoI analysis."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for header, rows in (level_table(study), analysis_table(study)):
        writer.writerow(header)
        writer.writerows(rows)
        writer.writerow([])
    return buffer.getvalue()


def to_json(study):
    return json.dumps(study.to_dict(), indent=1, default=float)


def plot_convergence(study, path, qoi=None, title=None):
    """Log-log plot of ``|phi - phi_ref|`` against h per QoI (``phi_ref`` the exact value
    when the problem knows it, else the extrapolated one), with the observed slope and a
    reference triangle of the expected order."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = qoi or list(study.analysis)
    good = [row for row in study.rows if not row.get("error")]
    # QoIs with neither an exact nor an extrapolated value (divergent, too few levels) are
    # drawn as their values against h on a panel of their own, not left out
    unreferenced = [name for name in names
                    if study.analysis.get(name, {}).get("reference") is None
                    and study.analysis.get(name, {}).get("extrapolated") is None]
    if unreferenced:
        if len(unreferenced) < len(names):
            fig, (ax, values) = plt.subplots(1, 2, figsize=(11.5, 4.8))
        else:                                    # nothing to draw errors of
            fig, values = plt.subplots(figsize=(6.4, 4.8))
            ax = None
        for name in unreferenced:
            pairs = sorted((row["h"], row["qoi"][name]) for row in good if name in row["qoi"])
            if pairs:
                h, phi = zip(*pairs)
                values.semilogx(h, phi, "o-", label=name)
        _ticks_at(values, sorted({row["h"] for row in good}), "{:.3g}")
        values.set_xlabel("h (representative cell size)")
        values.set_ylabel("phi")
        values.set_title("values (no extrapolated reference)" if ax is not None else
                         f"{title or 'Refinement study'}: values (no extrapolated "
                         f"reference)", fontsize=10 if ax is None else None)
        values.grid(True, which="both", alpha=0.3)
        values.legend(fontsize=8)
    else:
        fig, ax = plt.subplots(figsize=(6.4, 4.8))
    if ax is None:
        return _save_figure(fig, path)
    plotted = False
    for name in names:
        if name in unreferenced:
            continue
        a = study.analysis.get(name, {})
        reference = a.get("reference")
        if reference is None:
            reference = a.get("extrapolated")
        pairs = [(row["h"], abs(row["qoi"][name] - reference)) for row in good
                 if name in row["qoi"]]
        pairs = [(h, e) for h, e in pairs if e > 0]
        if len(pairs) < 2:
            continue
        h, err = map(np.asarray, zip(*sorted(pairs)))
        slope = np.polyfit(np.log(h[:3]), np.log(err[:3]), 1)[0]
        line, = ax.loglog(h, err, "o-", label=f"{name} (slope {slope:.2f})")
        expected = a.get("expected_order")
        if expected:
            # reference triangle below the finest segment
            h0, h1 = h[0], h[0] * 2.0
            e0 = err[0] * 0.5
            ax.loglog([h0, h1, h1, h0], [e0, e0, e0 * 2.0 ** expected, e0], "-",
                      color=line.get_color(), lw=0.8, alpha=0.7)
            ax.annotate(f"{expected:g}", (h1, e0 * 2.0 ** (expected / 2)), fontsize=8,
                        color=line.get_color(), xytext=(3, 0), textcoords="offset points")
        plotted = True
    if plotted:                  # the levels' h as the ticks (minor labels overlap)
        _ticks_at(ax, sorted({row["h"] for row in good}), "{:.3g}")
    ax.set_xlabel("h (representative cell size)")
    ax.set_ylabel("|phi - phi_ref|")
    if unreferenced:
        fig.suptitle(title or "Refinement study")
        ax.set_title("errors against the reference")
    else:
        ax.set_title(title or "Refinement study")
    ax.grid(True, which="both", alpha=0.3)
    if plotted:
        ax.legend(fontsize=8)
    return _save_figure(fig, path)


def _save_figure(fig, path):
    import matplotlib.pyplot as plt
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    plt.close(fig)
    return path


def _level_fields(study):
    """``(level, meshio.Mesh)`` of every level whose fields were kept."""
    import meshio
    for row in study.rows:
        if not row.get("fields"):
            continue
        # cached fields are named relative to the cache folder (a copied study still works)
        fields = Path(study.cache_dir or ".") / row["fields"]
        if fields.is_file():
            yield row["level"], meshio.read(fields)


def write_levels_pvd(study, path):
    """A PVD collection stepping through the levels' fields (level number as time)."""
    writer = PvdWriter(path)
    for level, fields in _level_fields(study):
        writer.add(fields, time=level)
    return writer.files if writer.entries else []


def write_level_contours(study, contour, out_dir, stem):
    """The contour ``{field, value, format}`` of every level's fields, as
    ``STEM_levelK_contour.FORMAT``; a level whose field does not reach the value (a coarse
    level's gray design) is skipped with a warning."""
    from ..io.contour import write_contour
    files = []
    for level, fields in _level_fields(study):
        path = Path(out_dir) / f"{stem}_level{level}_contour.{contour['format']}"
        try:
            files.append(write_contour(fields, contour["field"], float(contour["value"]),
                                       path))
        except FemRegError as err:
            log.warning("level %d: no contour (%s)", level, err)
    return files


def write_reports(study, out_dir, stem="study", title=None, contour=None):
    """Markdown, CSV, JSON, PNG and PVD into ``out_dir``, and the levels' contours when
    ``contour`` (``{field, value, format}``) is given; returns the files written."""
    out_dir = Path(out_dir)
    files = [write_text(out_dir / f"{stem}.md", to_markdown(study, title or stem)),
             write_text(out_dir / f"{stem}.csv", to_csv(study)),
             write_text(out_dir / f"{stem}.json", to_json(study)),
             plot_convergence(study, out_dir / f"{stem}.png", title=title or stem)]
    files += write_levels_pvd(study, out_dir / f"{stem}_levels.pvd")
    if contour is not None:
        files += write_level_contours(study, contour, out_dir, stem)
    return [str(f) for f in files]


# -- sweeps: one refinement study per parameter point ------------------------------------------

def _cell(value):
    if isinstance(value, float) or value is None or isinstance(value, bool):
        return _fmt(value)
    return str(value)


def sweep_markdown(sweep, title="Parameter sweep", qoi=None):
    """One row per point: the values, each QoI on the finest level with its GCI and verdict."""
    header, rows = sweep_rows(sweep, qoi)
    cells = []
    for row in rows:
        formatted = []
        for name, value in zip(header, row):
            formatted.append(_percent(value) if name.endswith(" uncertainty") else
                             _cell(value))
        cells.append(formatted)
    done = sum(bool(study.analysis) and all(settled(a) for a in study.analysis.values())
               for study in sweep.studies)
    levels = max(len(study.rows) for study in sweep.studies)
    parts = [f"## {title}", "", markdown_table(header, cells), "",
             f"{len(sweep.points)} points x {levels} levels; tolerance "
             f"{_percent(sweep.tolerance)}; every QoI mesh-independent (an error: at its "
             f"expected order) at {done} of {len(sweep.points)} points; "
             f"{sweep.failed_levels()} failed level(s). Each point's study: points/POINT/.", ""]
    return "\n".join(parts)


def sweep_csv(sweep, qoi=None):
    """The sweep table as CSV (numbers unformatted)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header, rows = sweep_rows(sweep, qoi)
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return buffer.getvalue()


def plot_sweep(sweep, path, qoi=None, title=None):
    """Each QoI (finest level) against the sweep's first parameter, the uncertainty its
    verdict judged as error bars (the GCI band; three times the spread for oscillatory
    convergence); with several parameters, one line per combination of the others. A point
    without one (divergent, too few levels) is drawn hollow, without a bar."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = qoi or sorted({name for study in sweep.studies for name in study.analysis})
    first, others = sweep.parameters[0], sweep.parameters[1:]
    fig, axes = plt.subplots(1, max(len(names), 1), figsize=(4.6 * max(len(names), 1), 4.0),
                             squeeze=False)
    numeric = all(isinstance(v[first], (int, float)) and not isinstance(v[first], bool)
                  for v in sweep.points)
    for ax, name in zip(axes[0], names):
        groups = {}
        for values, study in zip(sweep.points, sweep.studies):
            key = tuple(values[p] for p in others)
            groups.setdefault(key, []).append((values[first], finest_value(study, name),
                                               error_bar(study, name)))
        for key, entries in groups.items():
            label = ", ".join(f"{p}={_value_text(v)}" for p, v in zip(others, key)) or None
            x = [e[0] if numeric else str(e[0]) for e in entries]
            y = [np.nan if e[1] is None else e[1] for e in entries]
            bars = [0.0 if e[2] is None else e[2] for e in entries]
            line = ax.errorbar(x, y, yerr=bars, fmt="o-", capsize=4, label=label)
            hollow = [k for k, e in enumerate(entries) if e[2] is None and e[1] is not None]
            if hollow:
                ax.plot([x[k] for k in hollow], [y[k] for k in hollow], "o", mfc="white",
                        color=line[0].get_color(), zorder=5)
        if numeric and all(v[first] > 0 for v in sweep.points) and \
                max(v[first] for v in sweep.points) > 4 * min(v[first] for v in sweep.points):
            ax.set_xscale("log")
        if numeric:                  # the swept values as the ticks, in plain numbers
            _ticks_at(ax, sorted({v[first] for v in sweep.points}), "{:g}")
        ax.set_xlabel(first)
        ax.set_title(name, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        if others:
            ax.legend(fontsize=8)
    fig.suptitle(f"{title or 'Parameter sweep'}: finest level; error bars: GCI (data range "
                 f"if oscillatory)", fontsize=11)
    fig.tight_layout()
    return _save_figure(fig, path)


def _ticks_at(ax, values, style):
    """Ticks on the x axis at ``values`` only, labelled with ``style`` (a log axis's
    minor labels would overlap them)."""
    from matplotlib.ticker import NullFormatter
    ax.set_xticks(values, [style.format(float(v)) for v in values])
    ax.xaxis.set_minor_formatter(NullFormatter())


def _value_text(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def write_sweep_reports(sweep, out_dir, stem="sweep", title=None, contour=None):
    """The sweep's table (Markdown, CSV), JSON and QoI-against-parameter PNG into
    ``out_dir``, and every point's study reports and levels PVD (:func:`write_reports`) in
    ``out_dir/points/LABEL/``; returns the files written."""
    out_dir = Path(out_dir)
    title = title or stem
    files = [write_text(out_dir / f"{stem}.md", sweep_markdown(sweep, title)),
             write_text(out_dir / f"{stem}.csv", sweep_csv(sweep)),
             write_text(out_dir / f"{stem}.json",
                        json.dumps(sweep.to_dict(), indent=1, default=float)),
             plot_sweep(sweep, out_dir / f"{stem}.png", title=title)]
    for label, study in zip(sweep.labels, sweep.studies):
        files += write_reports(study, out_dir / "points" / label, stem="study",
                               title=f"{title}: {label}", contour=contour)
    return [str(f) for f in files]
