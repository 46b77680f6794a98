"""Tables that come with a result (an optimization's convergence history): CSV and a PNG."""

from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import ParameterError


def _columns(name, table):
    if not isinstance(table, dict) or not table:
        raise ParameterError(f"series '{name}' must be a non-empty table {{column: values}}")
    lengths = {len(v) for v in table.values()}
    if len(lengths) != 1:
        raise ParameterError(f"series '{name}': columns differ in length {sorted(lengths)}")
    return list(table), lengths.pop()


def write_series_csv(name, table, path):
    """One row per entry, one column per key; written atomically."""
    columns, _ = _columns(name, table)
    data = np.column_stack([np.asarray(table[c], dtype=np.float64) for c in columns])
    with atomic_path(path) as tmp:
        np.savetxt(tmp, data, fmt="%.10g", delimiter=",", header=",".join(columns),
                   comments="")
    return Path(path)


def plot_series(name, table, path, title=None):
    """Every column against the first, one panel each (log scale where positive and spanning
    more than two decades)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    columns, _ = _columns(name, table)
    x = np.asarray(table[columns[0]], dtype=np.float64)
    panels = columns[1:]
    ncols = 2
    nrows = max(1, (len(panels) + 1) // 2)
    fig, axes = plt.subplots(nrows, ncols, figsize=(10, 2.6 * nrows), squeeze=False)
    for ax, column in zip(axes.ravel(), panels):
        y = np.asarray(table[column], dtype=np.float64)
        ax.plot(x, y, lw=1.2)
        if np.all(y > 0) and y.max() > 100 * y.min():
            ax.set_yscale("log")
        ax.set_ylabel(column)
        ax.grid(alpha=0.3)
        # at most five labelled ticks: numbers like 0.0025 otherwise run into each other
        ax.xaxis.set_major_locator(MaxNLocator(5))
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel(columns[0])
    fig.suptitle(title or name)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return Path(path)
