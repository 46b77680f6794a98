"""``fem-reg demo``: the canonical cases at modest size, a report under ``./fem_reg_demo/``.

Every item is an ordinary case (the same tables a case file holds), run through
:mod:`fem_reg.cases`: what the demo shows is what a user's case file does. The demo grows
with each capability.
"""

import logging
import time
from pathlib import Path

from .atomic import write_text
from .cases import run_case, study_case
from .io.case_file import case_from_dict
from .study.report import analysis_table, level_table, markdown_table

log = logging.getLogger("fem_reg")

# (name, case, mesh for the picture run)
# examples/frictional_slip.toml, monotonic and with 40 increments (minutes -> seconds)
FRICTION_DEMO = {"E": 1.0, "nu": 0.0, "k_t": 5.0, "mu_s": 0.6, "mu_d": 0.4, "D_c": 1e-4,
                 "gamma": 0.1, "traction": {"block_top": [0.0, -0.01]},
                 "displacement": {"block_left": {"x": 0.03}}, "load_path": [1.0],
                 "steps": 40, "probe_at": 0.4}

# examples/fracture_sent_study.toml at a larger l (0.08 mm: coarser meshes, seconds per level)
FRACTURE_DEMO = {"length": 0.08, "model": "AT1", "supports": {"bottom": "clamped"},
                 "loaded": "top", "direction": "y", "displacement": 0.012, "steps": 25,
                 "history_every": 0}
FRACTURE_MESH = {"geometry": "sent_specimen", "h": 0.2, "h_crack": 0.04, "band": 0.2}

DEMO_CASES = [
    ("helmholtz_p1", {
        "title": "Helmholtz (PDE filter) operator, P1, manufactured solution",
        "problem": "helmholtz_mms",
        "mesh": {"geometry": "rectangle", "h": 0.2},
        "parameters": {"radius": 0.3, "order": 1},
        "output": {"png": ["u", "error"]},
        "study": {"levels": 5, "qoi": ["l2_error", "h1_error", "energy"],
                  "tolerance": 0.01}},
     {"geometry": "rectangle", "h": 0.04}),
    ("helmholtz_p2", {
        "title": "Helmholtz (PDE filter) operator, P2, manufactured solution",
        "problem": "helmholtz_mms",
        "mesh": {"geometry": "rectangle", "h": 0.2},
        "parameters": {"radius": 0.3, "order": 2},
        "output": {"png": ["u"]},
        "study": {"levels": 4, "qoi": ["l2_error", "h1_error", "energy"],
                  "tolerance": 0.01}},
     {"geometry": "rectangle", "h": 0.08}),
    ("tangential_p1", {
        "title": "Tangential gradient penalty on the block/base interface, P1",
        "problem": "tangential_mms",
        "mesh": {"geometry": "block_on_base", "h": 0.1},
        "parameters": {"boundary": "interface", "gamma": 0.05, "order": 1},
        "output": {"png": ["s"]},
        "study": {"levels": 5, "qoi": ["l2_error", "h1_error"], "tolerance": 0.01}},
     {"geometry": "block_on_base", "h": 0.04}),
    ("elasticity_p1", {
        "title": "Plane-stress elasticity on the L-bracket, P1, manufactured solution",
        "problem": "elasticity_mms",
        "mesh": {"geometry": "l_bracket", "h": 0.1},
        "parameters": {"E": 1.0, "nu": 0.3, "kind": "plane_stress", "order": 1},
        "output": {"png": ["displacement"], "warp": "displacement"},
        "study": {"levels": 4, "refinement": "uniform", "qoi": ["l2_error", "h1_error"],
                  "tolerance": 0.01}},
     {"geometry": "l_bracket", "h": 0.025}),
    ("cook_membrane", {
        "title": "Cook's membrane, Allman-type triangle with drilling rotations",
        "problem": "membrane",
        "mesh": {"geometry": "cook_membrane", "h": 11.0, "structured": True},
        "parameters": {"element": "allman", "E": 1.0, "nu": 1 / 3,
                       "supports": {"clamped": "clamped"},
                       "traction": {"loaded": [0.0, 1 / 16]},
                       "probes": {"tip": [48.0, 52.0]}},
        "output": {"png": ["displacement", "rotation"], "warp": "displacement"},
        "study": {"levels": 5, "refinement": "uniform", "qoi": ["tip_uy", "compliance"],
                  "tolerance": 0.01}},
     {"geometry": "cook_membrane", "h": 2.75, "structured": True}),
    ("mbb_topopt", {
        "title": "MBB half-beam, SIMP with the Helmholtz filter at a fixed physical radius",
        "problem": "topopt",
        "mesh": {"geometry": "mbb_beam", "h": 2.0},
        "parameters": {"volume_fraction": 0.5, "filter": "helmholtz", "filter_radius": 4.0,
                       "optimizer": "oc", "max_iterations": 200, "tolerance": 0.01,
                       "supports": {"symmetry": "fixed_x", "support": "fixed_y"},
                       "traction": {"load": [0.0, -1.0]}, "history_every": 10},
        "output": {"png": ["density"], "cmap": "gray_r", "edges": False,
                   "contour": {"field": "density", "value": 0.5}},
        "study": {"levels": 3, "qoi": ["compliance"], "tolerance": 0.02}},
     {"geometry": "mbb_beam", "h": 1.0}),
    ("frictional_slip", {
        "title": "Block pushed on a rigid base, steep slip weakening, gradient-regularized "
                 "slip (gamma = 0.1)",
        "problem": "frictional_slip",
        "mesh": {"geometry": "block_on_base", "h": 0.1, "width": 2.0, "height": 0.5,
                 "with_base": False},
        "parameters": FRICTION_DEMO,
        "output": {"png": ["slip"], "warp": "displacement"},
        "study": {"levels": 3, "qoi": ["peak_force", "dissipated_energy",
                                       "transition_width"], "tolerance": 0.02}},
     {"geometry": "block_on_base", "h": 0.05, "width": 2.0, "height": 0.5,
      "with_base": False}),
    ("frictional_slip_local", {
        "title": "The same block with the local law (gamma = 0): the front follows the mesh",
        "problem": "frictional_slip",
        "mesh": {"geometry": "block_on_base", "h": 0.1, "width": 2.0, "height": 0.5,
                 "with_base": False},
        "parameters": {**FRICTION_DEMO, "gamma": 0.0},
        "output": {"png": ["slip"], "warp": "displacement"},
        "study": {"levels": 3, "qoi": ["peak_force", "dissipated_energy",
                                       "transition_width"], "tolerance": 0.02}},
     {"geometry": "block_on_base", "h": 0.05, "width": 2.0, "height": 0.5,
      "with_base": False}),
    ("fracture_sent", {
        "title": "Single-edge-notched tension, phase-field fracture (AT1, l = 0.08 mm)",
        "problem": "phase_field_fracture",
        "mesh": FRACTURE_MESH,
        "parameters": FRACTURE_DEMO,
        "output": {"png": ["damage"]},
        "study": {"levels": 3, "qoi": ["peak_force", "dissipated_energy"],
                  "tolerance": 0.02}},
     {**FRACTURE_MESH, "h": 0.1, "h_crack": 0.02}),
    ("fracture_sent_local", {
        "title": "The same specimen without the gradient term (local softening): the crack "
                 "is one element wide and its energy vanishes with h",
        "problem": "phase_field_fracture",
        "mesh": FRACTURE_MESH,
        "parameters": {**FRACTURE_DEMO, "regularization": "local"},
        "output": {"png": ["damage"]},
        "study": {"levels": 3, "qoi": ["peak_force", "dissipated_energy"],
                  "tolerance": 0.02}},
     {**FRACTURE_MESH, "h": 0.1, "h_crack": 0.02}),
]


def run_demo(out_dir, quick=False):
    """Run every demo case: a refinement study and a picture run; write ``README.md``.

    Returns a JSON-serializable summary with the printed ``table`` and the ``outputs``.
    """
    out_dir = Path(out_dir)
    start = time.perf_counter()
    sections, summary_rows, outputs, studies = [], [], [], {}
    for name, data, picture_mesh in DEMO_CASES:
        case = case_from_dict(data, source=name)
        log.info("demo: %s", case.title)
        levels = min(3, data["study"]["levels"]) if quick else None
        study, files = study_case(case, out_dir / name, levels=levels)
        picture = case_from_dict({**data, "mesh": picture_mesh}, source=name)
        run = run_case(picture, out_dir / name)
        outputs += files + run["outputs"]
        studies[name] = study.to_dict()
        for qoi, a in study.analysis.items():
            # an error tending to 0 is verified by its order: no extrapolated value or GCI
            error = a.get("mesh_independent", False) is None
            summary_rows.append([name, qoi, _num(a.get("observed_order")),
                                 _num(a.get("expected_order")), _yes(a.get("order_ok")),
                                 "-" if error else _num(a.get("extrapolated"), 6),
                                 _yes(a.get("mesh_independent"))])
        pictures = [Path(p).name for p in run["outputs"] if p.endswith(".png")]
        sections += [f"## {case.title}", "",
                     f"Case `{name}`: problem `{case.problem}`, parameters "
                     f"`{case.parameters}`, mesh `{case.mesh}`, "
                     f"{len(study.rows)} levels ({data['study'].get('refinement', 'remesh')}).",
                     "", markdown_table(*level_table(study)), "",
                     markdown_table(*analysis_table(study)), "",
                     f"![convergence]({name}/{case.name}_study.png)", ""]
        sections += [f"![{p}]({name}/{p})" for p in pictures] + [""]
    header = ["case", "QoI", "observed order", "expected", "order ok", "extrapolated",
              "mesh-independent"]
    table = markdown_table(header, summary_rows)
    seconds = time.perf_counter() - start
    report = write_text(out_dir / "README.md", "\n".join(
        ["# fem_reg demo", "",
         "Refinement studies of the shared weak forms against manufactured solutions on "
         "unstructured gmsh meshes, of Cook's membrane with drilling rotations "
         "(converged vertical displacement at (48, 52): 23.96), and of a topology "
         "optimization (MBB half-beam) with the filter radius fixed in physical length "
         "(coarse levels: its verdict shows how far the compliance is from "
         "mesh-independence; see examples/topopt_mesh_independence.py), and of a block "
         "pushed along a frictional base with steep slip weakening, gradient-regularized and "
         "local (the local front is one element wide: its transition width halves with h; "
         "examples/frictional_slip_study.py runs five levels and a sweep of gamma), and of "
         "phase-field fracture of a notched specimen with and without the gradient term "
         "(examples/fracture_sent_study.toml and fracture_sent_local_study.toml run four "
         "levels at l = 0.03 mm). "
         "Observed order: "
         "least-squares slope of "
         "|QoI - exact| over the three finest levels; order ok: within 0.1 of the "
         "expected order (errors of manufactured solutions are judged by this alone: their "
         "exact value is 0, so a GCI relative to it means nothing and the mesh-independent "
         "column shows '-'). Mesh-independent: GCI (Celik et al. 2008) below the tolerance "
         "in the asymptotic range, or oscillations whose data range is within it; never for "
         "divergent or indeterminate data (docs/refinement_studies.md).",
         "", table, "", f"Total time {seconds:.1f} s.", ""] + sections))
    return {"table": table, "report": str(report), "outputs": outputs + [str(report)],
            "seconds": seconds, "studies": studies}


def _num(value, digits=3):
    return "-" if value is None else f"{value:.{digits}g}"


def _yes(value):
    return "-" if value is None else ("yes" if value else "no")
