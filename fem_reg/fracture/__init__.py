"""Phase-field (gradient-damage) fracture: AT1 and AT2."""

from .bounded import minimize_bounded
from .closed_form import critical_stress, crack_profile, homogeneous_stress
from .model import MODELS, PhaseField
from .problem import FractureParameters, PhaseFieldFracture

__all__ = ["minimize_bounded", "critical_stress", "crack_profile", "homogeneous_stress",
           "MODELS", "PhaseField", "FractureParameters", "PhaseFieldFracture"]
