"""Phase-field (gradient-damage) fracture: AT1 and AT2."""

from .bounded import minimize_bounded
from .crack import crack_direction
from .closed_form import critical_stress, crack_profile, homogeneous_stress
from .model import MODELS, PhaseField
from .problem import FractureParameters, PhaseFieldFracture

__all__ = ["minimize_bounded", "crack_direction", "critical_stress", "crack_profile", "homogeneous_stress",
           "MODELS", "PhaseField", "FractureParameters", "PhaseFieldFracture"]
