"""Manufactured-solution problems verifying the shared forms (the verification physics)."""

from .problems import DiffusionMMS, ElasticityMMS, HelmholtzMMS, TangentialMMS

__all__ = ["DiffusionMMS", "ElasticityMMS", "HelmholtzMMS", "TangentialMMS"]
