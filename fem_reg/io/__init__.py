"""Results, VTU/PVD writers, pictures, case files, progress; safe (atomic) file writes."""

from ..atomic import atomic_path, write_text
from .case_file import Case, case_from_dict, load_case
from .result import Result
from .vtk import PvdWriter, write_vtu

__all__ = ["Result", "PvdWriter", "write_vtu", "atomic_path", "write_text", "Case",
           "case_from_dict", "load_case"]
