"""Gradient-regularized frictional slip on interfaces (2D body on a rigid base, 1D bar)."""

from .closed_form import BarSolution, bar_solution
from .law import SlipWeakening
from .problem import FrictionalBar, FrictionalSlip, line_operators
from .quantities import front_slip, slip_zone_length, transition_width
from .solver import SlipSolver, State, StepFailed, follow, follow_slip

__all__ = ["BarSolution", "bar_solution", "SlipWeakening", "FrictionalBar", "FrictionalSlip",
           "front_slip", "slip_zone_length", "transition_width", "SlipSolver", "State", "StepFailed",
           "follow", "follow_slip", "line_operators"]
