import os

import numpy as np
import pytest

os.environ.setdefault("PYVISTA_OFF_SCREEN", "true")

DATA = os.path.join(os.path.dirname(__file__), "data")


@pytest.fixture(params=["tri", "quad", "tet", "hex"])
def named_mesh(request):
    """A small mesh of each cell type with named boundaries and subdomains (and, in 2D, a
    named interior interface)."""
    from fem_reg.mesh import block_on_base, cantilever_box
    return {"tri": lambda: block_on_base(h=0.2),
            "quad": lambda: block_on_base(h=0.25, cell_type="quad", structured=True),
            "tet": lambda: cantilever_box(h=0.5),
            "hex": lambda: cantilever_box(h=0.5, cell_type="hexahedron", structured=True),
            }[request.param]()


@pytest.fixture
def data_dir():
    return DATA


def convergence_table(title, rows, columns):
    """Print a convergence table (visible with ``pytest -s``) and return the rates between
    successive rows. ``rows`` are (h, ndofs, value, ...)."""
    rows = np.asarray(rows, dtype=float)
    print(f"\n{title}")
    print(f"{'h':>10} {'DOFs':>8} " + " ".join(f"{c:>12} {'rate':>6}" for c in columns))
    rates = np.log(rows[:-1, 2:] / rows[1:, 2:]) / np.log(rows[:-1, :1] / rows[1:, :1])
    for i, row in enumerate(rows):
        cells = []
        for j in range(len(columns)):
            rate = f"{rates[i - 1, j]:6.3f}" if i else " " * 6
            cells.append(f"{row[2 + j]:12.4e} {rate}")
        print(f"{row[0]:10.4g} {int(row[1]):8d} " + " ".join(cells))
    return rates


def fitted_order(h, values, levels=3):
    """Least-squares slope of log(value) vs log(h) over the finest ``levels``."""
    from fem_reg.study import loglog_slope
    return loglog_slope(h, values, levels=levels)


def central_difference(function, x, direction, step):
    """``(f(x + step d) - f(x - step d)) / (2 step)``: the directional derivative of ``f``
    (scalar- or array-valued) at ``x`` along ``d`` by central differences, the one
    finite-difference helper of the gradient and Jacobian checks."""
    x = np.asarray(x, dtype=np.float64)
    direction = np.asarray(direction, dtype=np.float64)
    return (np.asarray(function(x + step * direction))
            - np.asarray(function(x - step * direction))) / (2.0 * step)


def interrupt_at(step, error=KeyboardInterrupt):
    """A progress callback that raises ``error`` (Ctrl-C) when ``step`` is reported done."""
    def progress(done, total, status):
        if done == step:
            raise error
    return progress
