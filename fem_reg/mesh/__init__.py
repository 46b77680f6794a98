"""Meshes: load/save with names, canonical geometries, refinement sequences, validation."""

from .geometry import (GEOMETRIES, block_on_base, cantilever, cantilever_box, cook_membrane,
                       distorted_patch, interval, l_bracket, macneal_harder_beam, mbb_beam, planar_mesh,
                       rectangle, sent_slab, sent_specimen)
from .info import cell_sizes, mesh_info
from .io import load_mesh, save_mesh
from .spec import (REFINEMENTS, estimate_spec, geometry_options, mesh_from_spec,
                   sequence_from_spec)
from .estimate import estimate_geometry, estimate_refined, estimate_remeshing
from .names import boundary, boundary_nodes, names, subdomain, vertex_at
from .refine import MeshSequence, Remeshing, UniformRefinement, coarser_meshes, refine
from .size import mesh_size
from .split import split_interface

__all__ = ["GEOMETRIES", "block_on_base", "cantilever", "cantilever_box", "cook_membrane",
           "distorted_patch", "interval", "macneal_harder_beam",
           "l_bracket", "mbb_beam", "sent_specimen", "sent_slab", "planar_mesh", "rectangle",
           "mesh_info", "cell_sizes", "load_mesh", "save_mesh", "boundary", "boundary_nodes", "names", "subdomain", "vertex_at", "MeshSequence",
           "Remeshing", "UniformRefinement", "mesh_size", "refine", "coarser_meshes",
           "REFINEMENTS",
           "geometry_options", "mesh_from_spec", "sequence_from_spec", "split_interface",
           "estimate_spec", "estimate_geometry", "estimate_refined", "estimate_remeshing"]
