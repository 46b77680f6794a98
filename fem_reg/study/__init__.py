"""Refinement studies: grid convergence numbers, a resumable runner, reports.

The harness knows no physics: it takes any callable ``mesh -> Result`` and a mesh sequence.
"""

from .convergence import (GridConvergence, celik_order, error_convergence, grid_convergence,
                          least_squares_fit, loglog_slope)
from .report import (markdown_table, plot_convergence, to_csv, to_json, to_markdown,
                     write_reports)
from .runner import ProblemSolver, StudyResult, analyse, run_level, run_study, settled

__all__ = ["GridConvergence", "celik_order", "error_convergence", "grid_convergence",
           "least_squares_fit", "loglog_slope", "plot_convergence", "to_csv", "to_json",
           "to_markdown", "markdown_table", "write_reports", "ProblemSolver", "StudyResult",
           "analyse", "run_level", "run_study", "settled"]
