"""Mesh a canonical geometry where Ctrl-C can stop it.

gmsh's mesher runs in C and does not return to Python until it is done, so a SIGINT waits
for it: 8 s for 258,000 triangles here, minutes for millions. A mesh estimated above
:data:`IN_PROCESS_CELLS` (about two seconds of gmsh) is therefore made in a child process
(``spawn``: the parent's threads and locks are not copied); the parent waits in short
polls, so Ctrl-C or SIGTERM reaches it at once and it kills the child. Smaller meshes are
made here: the child's start-up (about a second) would cost more than the wait.
"""

import multiprocessing
import os
import signal

from ..errors import MeshError
from .estimate import estimate_geometry
from .geometry import GEOMETRIES

IN_PROCESS_CELLS = 60_000
POLL_SECONDS = 0.1


def _die_with_parent(parent):
    """Linux: the kernel kills this process when its parent dies (a study worker that was
    terminated, a CLI killed by SIGKILL): no orphaned gmsh keeps meshing."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)          # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:                 # the parent died before the call
        os._exit(1)


def _mesh_in_child(connection, geometry, options, parent):
    _die_with_parent(parent)
    try:
        connection.send(("mesh", GEOMETRIES[geometry](**options)))
    except BaseException as err:   # sent back and raised in the parent
        connection.send(("error", err))
    finally:
        connection.close()


def make_geometry(geometry, **options):
    """``GEOMETRIES[geometry](**options)``, in a child process when it is large."""
    h = options.get("h")
    if h is None or estimate_geometry(geometry, h, {k: v for k, v in options.items()
                                                    if k != "h"}).cells <= IN_PROCESS_CELLS:
        return GEOMETRIES[geometry](**options)
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_mesh_in_child,
                            args=(sender, geometry, options, os.getpid()),
                            daemon=True, name=f"gmsh {geometry}")
    child.start()
    sender.close()
    try:
        while not receiver.poll(POLL_SECONDS):
            if not child.is_alive():
                code = child.exitcode
                raise MeshError(f"{geometry}: the gmsh process ended without a mesh (exit "
                                f"code {code}{': out of memory?' if code == -9 else ''}) "
                                f"at h = {h:g}")
        kind, value = receiver.recv()
    except EOFError:
        raise MeshError(f"{geometry}: the gmsh process ended without a mesh at h = {h:g}") \
            from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
    if kind == "error":
        raise value
    return value
