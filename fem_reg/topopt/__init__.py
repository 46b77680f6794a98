"""Density-filtered topology optimization (work in progress, issue 5): so far the Helmholtz
density filter and the Heaviside projection, each with its adjoint."""

from .filters import HelmholtzFilter, heaviside, helmholtz_radius

__all__ = ["HelmholtzFilter", "heaviside", "helmholtz_radius"]
