"""What a run will cost before it starts: DOFs and memory from an estimated cell count, and
the limit above which fem_reg refuses (one line, exit 2) instead of filling the machine.

The memory model was measured on this project's machine (peak resident size of ``fem-reg
run``, direct solver, default install): a 2D P1 elasticity run with 258,014 triangles and
259,352 DOFs peaked at 1.02 GB; a 3D one with 37,205 tetrahedra and 23,112 DOFs at 0.56 GB;
the interpreter with the libraries loaded is 0.18-0.25 GB. The model below covers both
with margin: per cell 1.5 kB (gmsh, the mesh, its facets and quadrature data), per DOF
2.5 kB in 2D and, in 3D, 16 kB growing as ``N^(1/3)`` (the fill of a sparse direct
factorization of a 3D operator grows faster than its size). It is a guard against a run
that cannot fit (``h = 5e-4`` on the unit square is 9 million triangles), not a prediction.

Ground floor: imports nothing from fem_reg but the errors.
"""

import atexit
import os
import sys
import weakref
from dataclasses import dataclass

from .errors import ResourceError

BASE_BYTES = 250e6
BYTES_PER_CELL = 1.5e3
BYTES_PER_DOF = {1: 1.0e3, 2: 2.5e3, 3: 16e3}
# iterative solvers (multigrid-CG): 3D topology optimization peaked at 3.2 GB on 98k
# hexahedra, 313k unknowns, density filter (10 kB per unknown), and at 12.2 GB on 192k
# hexahedra, 610k unknowns, Helmholtz filter (20 kB per unknown; at 24k hexahedra 1.5 GB:
# the growth is faster than linear, most likely the filter's 3D factorization)
BYTES_PER_DOF_ITERATIVE = {1: 1.0e3, 2: 2.5e3, 3: 20e3}
DOF_3D_REFERENCE = 2.3e4
MEMORY_SHARE = 0.8            # of the memory available when the run starts


def available_memory():
    """Bytes of memory available now (``MemAvailable``; total physical memory elsewhere)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * 2 ** 30


@dataclass(frozen=True)
class Estimate:
    """Estimated size of one mesh (and of the problem on it)."""

    cells: float
    nodes: float
    dim: int
    dofs: float = 0.0
    iterative: bool = False       # solved by a preconditioned iteration, not factorized

    @property
    def memory(self):
        """Estimated peak memory in bytes."""
        if self.iterative:
            return BASE_BYTES + BYTES_PER_CELL * self.cells + \
                BYTES_PER_DOF_ITERATIVE[self.dim] * self.dofs
        per_dof = BYTES_PER_DOF[self.dim]
        if self.dim == 3:
            per_dof *= max(1.0, self.dofs / DOF_3D_REFERENCE) ** (1.0 / 3.0)
        return BASE_BYTES + BYTES_PER_CELL * self.cells + per_dof * self.dofs

    def refined(self, times):
        """The same mesh split uniformly ``times`` times (``2^dim`` children per cell)."""
        growth = 2.0 ** (self.dim * times)
        return Estimate(self.cells * growth, self.nodes * growth, self.dim)

    def with_dofs(self, components, order=1):
        """The same mesh with ``components`` fields of polynomial ``order`` per node
        (degree-``order`` Lagrange nodes: about ``order^dim`` per vertex)."""
        return Estimate(self.cells, self.nodes, self.dim,
                        float(self.nodes * components * order ** self.dim), self.iterative)


def _size(value):
    if value >= 1e12:
        return f"{value:.3g} "
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.3g}"


def check(estimate, what, max_dofs=None, max_cells=None, memory=None, advice=""):
    """Refuse ``estimate`` with a :class:`ResourceError` naming ``what`` when it exceeds the
    limit: ``max_dofs`` (or ``max_cells``) when given, which raises (or lowers) it
    deliberately; else :data:`MEMORY_SHARE` of the available ``memory``."""
    described = (f"{what}: about {_size(estimate.cells)} cells"
                 + (f", {_size(estimate.dofs)} DOFs" if estimate.dofs else "")
                 + f", {_size(estimate.memory)}B of memory estimated")
    if max_dofs is not None:
        if estimate.dofs > max_dofs:
            raise ResourceError(f"{described}: above the limit of {_size(max_dofs)} DOFs "
                                f"(--max-dofs / max_dofs){advice}")
        return estimate
    if max_cells is not None:
        if estimate.cells > max_cells:
            raise ResourceError(f"{described}: above the limit of {_size(max_cells)} cells "
                                f"(--max-cells){advice}")
        return estimate
    memory = available_memory() if memory is None else memory
    if estimate.memory > MEMORY_SHARE * memory:
        option = "--max-dofs / max_dofs" if estimate.dofs else "--max-cells"
        raise ResourceError(f"{described}; this machine has {_size(memory)}B available"
                            f"{advice}, or raise the limit with {option} if you know it "
                            f"fits")
    return estimate


THREAD_ABOVE = 20_000        # unknowns: below this a factorization takes milliseconds
SOLVING = "fem_reg solve"    # the name of a helper thread while it is in a long C call


def interruptible(function, *args, size=None, **kwargs):
    """``function(*args, **kwargs)`` in a helper thread while this one waits in short
    polls, so that Ctrl-C and SIGTERM reach Python at once. For long calls into C that
    release the GIL (SuperLU's and PARDISO's factorizations: 6 s for a million unknowns in
    2D) and would otherwise hold the signal until they return. On an interrupt the helper
    is left to finish in the background of a process that is exiting. ``size`` (unknowns)
    below :data:`THREAD_ABOVE` calls directly."""
    if size is not None and size < THREAD_ABOVE:
        return function(*args, **kwargs)
    import threading
    outcome = {}
    done = threading.Event()

    def target():
        try:
            value = function(*args, **kwargs)
            if not outcome.get("abandoned"):
                outcome["value"] = value
            del value        # an abandoned result is freed here, not at interpreter exit
        except BaseException as err:       # handed to the caller
            outcome["error"] = err
        finally:
            done.set()

    thread = threading.Thread(target=target, daemon=True, name=SOLVING)
    thread.start()
    try:
        while not done.wait(0.1):          # an Event, not join(): an interrupted join can
            pass                           # leave the thread's state inconsistent (3.11)
    except BaseException:
        outcome["abandoned"] = True
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class OwnedFactor:
    """A sparse factorization ``factorize(*args, **kwargs)`` (``scipy.sparse.linalg.splu``)
    made, kept and freed by a helper thread of its own; ``.factor`` is the factor object.

    SuperLU frees a factor's memory only in the thread that made it (scipy issue 15921): a
    factor made in :func:`interruptible`'s helper and dropped by the caller leaks all of it,
    about 23 MB per factorization of 26k unknowns, and a phase-field run that refactorizes
    every staggered iteration was killed for memory at 21 GB. The helper here factorizes (as
    interruptibly as :func:`interruptible`), then waits until :meth:`close` (or garbage
    collection) and drops the factor itself. ``size`` below :data:`THREAD_ABOVE` factorizes
    in the calling thread, which then frees it. Use as a context manager for a one-off."""

    def __init__(self, factorize, *args, size=None, **kwargs):
        self._release = self._thread = None
        if size is not None and size < THREAD_ABOVE:
            self.factor = factorize(*args, **kwargs)
            return
        import threading
        outcome, ready, release = {}, threading.Event(), threading.Event()

        def own():
            try:
                outcome["factor"] = factorize(*args, **kwargs)
            except BaseException as err:       # handed to the caller
                outcome["error"] = err
            finally:
                threading.current_thread().name = "fem_reg factor"      # idle from here
                ready.set()
            release.wait()
            outcome.clear()                  # the last reference, dropped in this thread
            _OWNERS.discard(threading.current_thread())

        thread = threading.Thread(target=own, daemon=True, name=SOLVING)
        _OWNERS.add(thread)
        thread.start()
        try:
            while not ready.wait(0.1):       # see interruptible: Ctrl-C reaches Python
                pass
        except BaseException:
            release.set()                    # abandoned: freed when the factorization ends
            raise
        if "error" in outcome:
            error = outcome.pop("error")
            release.set()
            raise error
        self.factor = outcome["factor"]
        self._release, self._thread = release, thread
        _LIVE.add(self)

    def solve(self, b):
        return self.factor.solve(b)

    def close(self, wait=False):
        """Free the factor (in the thread that made it; ``wait``: until it is freed)."""
        if sys.is_finalizing():
            # too late to run the owner: a factor freed while the interpreter is torn down
            # broke the final flush of stdout (exit status 120); the process is exiting
            return
        self.factor = None                   # before the owner drops the last reference
        if self._release is not None:
            self._release.set()
            self._release = None
            if wait:
                self._thread.join(timeout=10.0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


_LIVE: "weakref.WeakSet[OwnedFactor]" = weakref.WeakSet()     # freed at exit (below)
_OWNERS: set = set()      # helper threads that have not yet freed their factor


@atexit.register
def _free_live_factors():
    """Before the interpreter is torn down: free the factors still held, and wait for the
    helpers still freeing one (a factor closed just before exit, e.g. by the garbage
    collection of its solver: freed during finalization it broke stdout's final flush,
    exit status 120)."""
    for owned in list(_LIVE):
        owned.close(wait=True)
    for thread in list(_OWNERS):
        if thread.name != SOLVING:           # still factorizing (abandoned): not waited for
            thread.join(timeout=10.0)
