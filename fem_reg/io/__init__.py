"""Results, VTU/PVD writers, pictures, case files, progress."""

from .result import Result
from .vtk import PvdWriter, write_vtu

__all__ = ["Result", "PvdWriter", "write_vtu"]
