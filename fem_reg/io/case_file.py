"""Case files: TOML, validated, with errors that name the bad key and the allowed ones.

A case file says what to solve, on which mesh, and what to write::

    title = "Helmholtz filter operator, manufactured solution"
    problem = "helmholtz_mms"          # a key of fem_reg.cases.PROBLEMS

    [mesh]                             # a geometry meshed by gmsh ...
    geometry = "rectangle"
    h = 0.1
    # file = "meshes/cook_membrane.msh"   ... or a mesh file (relative to this file)

    [parameters]                       # the problem's parameters
    radius = 0.3

    [output]
    vtu = true                         # write the result as .vtu (or .pvd for a history)
    png = ["u"]                        # fields to picture

    [study]                            # read by `fem-reg study`
    levels = 4

    max_dofs = 5_000_000               # optional, top level: the size limit (default: what
                                       # the available memory allows)

Nothing is evaluated: values are TOML data only.
"""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CaseError

TOP_LEVEL = {"title": str, "problem": str, "mesh": dict, "parameters": dict, "output": dict,
             "study": dict, "sweep": dict, "max_dofs": int}
OUTPUT_KEYS = {"vtu": bool, "png": list, "warp": str, "cmap": str, "threshold": float,
               "series": bool, "contour": dict, "edges": bool}
CONTOUR_KEYS = {"field": str, "value": float, "format": str}
TYPE_NAMES = {str: "a string", dict: "a table", bool: "true or false", list: "a list",
              int: "an integer", float: "a number"}


@dataclass(frozen=True)
class Case:
    """A parsed case: what to solve (``problem``, ``parameters``), where (``mesh``), what to
    write (``output``) and how to study it (``study``)."""

    problem: str
    mesh: dict
    parameters: dict = field(default_factory=dict)
    output: dict = field(default_factory=dict)
    study: dict = field(default_factory=dict)
    sweep: dict = field(default_factory=dict)
    title: str = ""
    max_dofs: int | None = None
    source: str = "case"
    base_dir: Path = Path(".")

    @property
    def name(self):
        """A short name for output files: the case file's stem, else the problem."""
        stem = Path(self.source).stem
        return stem if stem and self.source != "case" else self.problem


def check_keys(table, allowed, where):
    """Refuse keys not in ``allowed`` (a dict name -> type, or a list of names)."""
    for key in table:
        if key not in allowed:
            raise CaseError(f"{where}: unknown key '{key}'; allowed: {', '.join(allowed)}")
    if isinstance(allowed, dict):
        for key, value in table.items():
            expected = allowed[key]
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                continue
            if not isinstance(value, expected) or (expected is not bool
                                                   and isinstance(value, bool)):
                raise CaseError(f"{where}: '{key}' must be {TYPE_NAMES[expected]}, "
                                f"got {value!r}")


def case_from_dict(data, source="case", base_dir="."):
    """Validate a case given as a dict (what ``tomllib`` returns, or built in Python)."""
    if not isinstance(data, dict):
        raise CaseError(f"{source}: a case is a table of keys, got {type(data).__name__}")
    check_keys(data, TOP_LEVEL, source)
    for key in ("problem", "mesh"):
        if key not in data:
            raise CaseError(f"{source}: missing key '{key}'"
                            + (" (a [mesh] table)" if key == "mesh" else ""))
    output = data.get("output", {})
    check_keys(output, OUTPUT_KEYS, f"{source} [output]")
    for name in output.get("png", []):
        if not isinstance(name, str):
            raise CaseError(f"{source} [output]: 'png' lists field names, got {name!r}")
    check_output_options(output, f"{source} [output]")
    return Case(problem=data["problem"], mesh=dict(data["mesh"]),
                parameters=dict(data.get("parameters", {})), output=dict(output),
                study=dict(data.get("study", {})), sweep=dict(data.get("sweep", {})),
                title=data.get("title", ""),
                max_dofs=_max_dofs(data.get("max_dofs"), source),
                source=str(source), base_dir=Path(base_dir))


def _max_dofs(value, source):
    if value is not None and value < 1:
        raise CaseError(f"{source}: 'max_dofs' must be a positive integer, got {value}")
    return value


def load_case(path):
    """Read and validate a TOML case file.

    Raises
    ------
    CaseError
        Missing or unreadable file, invalid TOML, unknown keys, wrong types.
    """
    path = Path(path)
    if not path.is_file():
        raise CaseError(f"{path}: no such case file")
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as err:
        raise CaseError(f"{path}: invalid TOML ({err})") from err
    except (OSError, UnicodeDecodeError) as err:
        raise CaseError(f"{path}: cannot read ({err})") from err
    return case_from_dict(data, source=str(path), base_dir=path.parent)


def check_output_options(output, where):
    """What ``[output]`` asks for that can be checked without a result: the colour map's
    name, the contour's keys and format. Called when the case is read, before any work."""
    cmap = output.get("cmap")
    if cmap is not None:
        import matplotlib
        if cmap not in matplotlib.colormaps:
            close = [n for n in sorted(matplotlib.colormaps) if n.lower().startswith(
                cmap.lower()[:3])][:6]
            raise CaseError(f"{where}: unknown colour map 'cmap = {cmap!r}'"
                            + (f"; close: {', '.join(close)}" if close else
                               "; any matplotlib colour map name, e.g. viridis, gray_r"))
    contour = output.get("contour")
    if contour is not None:
        check_keys(contour, CONTOUR_KEYS, f"{where} contour")
        if contour.get("format", "vtp") not in ("vtp", "stl"):
            raise CaseError(f"{where}: contour format must be vtp or stl, got "
                            f"{contour['format']!r}")


def _scalar_range(values):
    values = np.asarray(values, dtype=np.float64)
    if values.ndim > 1:
        values = np.linalg.norm(values.reshape(len(values), -1), axis=1)
    return float(values.min()), float(values.max())


def contour_options(output):
    """``[output] contour`` completed with its defaults, or None."""
    contour = output.get("contour")
    if contour is None:
        return None
    return {"field": "density", "value": 0.5, "format": "vtp", **contour}


def check_outputs(result, case):
    """Everything ``[output]`` asks for, checked against the result before the first file
    is written: field names, the warp field, the threshold and the contour level within
    their field's range. Returns the contour options completed with defaults (or None)."""
    where = f"{case.source} [output]"
    check_output_options(case.output, where)
    for name in case.output.get("png", []):
        if name not in result.fields:
            raise CaseError(f"{where}: png field '{name}' does not exist; "
                            f"fields: {', '.join(result.fields)}")
    warp = case.output.get("warp")
    if warp is not None and warp not in result.point_data:
        raise CaseError(f"{where}: warp field '{warp}' does not exist; "
                        f"point fields: {', '.join(result.point_data)}")
    if warp is not None and np.asarray(result.point_data[warp]).ndim != 2:
        raise CaseError(f"{where}: warp field '{warp}' must be a vector point field")
    threshold = case.output.get("threshold")
    if threshold is not None:
        for name in case.output.get("png", []):
            low, high = _scalar_range(result.field(name)[0])
            if high < threshold:
                raise CaseError(f"{where}: threshold = {threshold:g} hides every cell of "
                                f"'{name}' (its range is [{low:.3g}, {high:.3g}])")
    contour = contour_options(case.output)
    if contour is None:
        return None
    if contour["field"] not in result.fields:
        raise CaseError(f"{where}: contour field '{contour['field']}' does "
                        f"not exist; fields: {', '.join(result.fields)}")
    values = np.asarray(result.field(contour["field"])[0])
    if values.ndim != 1:
        raise CaseError(f"{where}: contour field '{contour['field']}' must be a scalar field")
    low, high = _scalar_range(values)
    if not low < contour["value"] < high:
        raise CaseError(f"{where}: contour value {contour['value']:g} is outside the range "
                        f"of '{contour['field']}' ([{low:.3g}, {high:.3g}])")
    if contour["format"] == "stl" and result.mesh.dim() != 3:
        raise CaseError(f"{where}: contour format 'stl' is for 3D iso-surfaces; use vtp in 2D")
    return contour


def write_outputs(result, case, out_dir):
    """Write what ``[output]`` asks for; returns the files written.

    Default: the result as ``.vtu`` (plus a ``.pvd`` of its history if it has one) and its
    series (CSV and PNG). ``png`` lists fields to picture (``cmap``, ``threshold``: show
    only cells above a level, for 3D designs), ``contour = {field, value, format}`` writes
    an iso-line/surface (``.vtp`` or ``.stl``). Everything is checked
    (:func:`check_outputs`) before anything is written.
    """
    out_dir = Path(out_dir)
    contour = check_outputs(result, case)
    warp = case.output.get("warp")
    files = []
    if case.output.get("vtu", True):
        files += result.write(out_dir / f"{case.name}.vtu")
        if result.history:
            files += result.write(out_dir / f"{case.name}.pvd")
    for name in case.output.get("png", []):
        files.append(result.plot(name, out_dir / f"{case.name}_{name}.png", warp=warp,
                                 title=case.title or case.name,
                                 cmap=case.output.get("cmap", "viridis"),
                                 threshold=case.output.get("threshold"),
                                 show_edges=case.output.get("edges")))
    if case.output.get("series", True):
        from .series import plot_series, write_series_csv
        for name, table in result.series.items():
            files.append(write_series_csv(name, table, out_dir / f"{case.name}_{name}.csv"))
            files.append(plot_series(name, table, out_dir / f"{case.name}_{name}.png",
                                     title=f"{case.title or case.name}: {name}"))
    if contour is not None:
        from .contour import write_contour
        files.append(write_contour(result, contour["field"], float(contour["value"]),
                                   out_dir / f"{case.name}_contour.{contour['format']}"))
    return [str(f) for f in files]
