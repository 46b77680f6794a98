"""Where a load history stands: the state a phase-field run advances step by step and its
checkpoint holds."""

import json
from dataclasses import dataclass, field

import numpy as np

#: the columns of a step's row in :attr:`LoadState.rows`
ROW = ("displacement", "force", "elastic_energy", "fracture_energy", "external_work",
       "staggered_iterations")


@dataclass
class LoadState:
    """The last accepted step of a load history.

    ``u``, ``d``: its fields; ``driving``: the history field ``H`` (None without one);
    ``initial``: the fracture energy the loading started from; ``pending``: the
    displacements still to reach with the halvings each may take, the next last; ``rows``:
    one :data:`ROW` per accepted step; ``snapshots``: ``(displacement, u, d)`` kept for
    the PVD; ``work``, ``force``, ``displacement``: the external work so far and the last
    step's reaction and displacement; ``cuts``: the step halvings; ``seconds``: the time
    spent in earlier processes (a resumed run's); ``counters``: the solvers' statistics.
    """
    u: np.ndarray
    d: np.ndarray
    driving: np.ndarray | None
    initial: float
    pending: list
    rows: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)
    work: float = 0.0
    force: float = 0.0
    displacement: float = 0.0
    cuts: int = 0
    seconds: float = 0.0
    counters: dict = field(default_factory=dict)

    def cut(self):
        """The next step did not converge in time: two half steps replace it."""
        target, halvings = self.pending.pop()
        self.pending += [(target, halvings - 1),
                         (0.5 * (target + self.displacement), halvings - 1)]
        self.cuts += 1

    def accept(self, u, d, driving, force, elastic, fracture, iterations, keep):
        """Record the next step, reached with these fields, reaction and energies; its
        fields are kept for the PVD when ``keep``."""
        target, _ = self.pending.pop()
        # the trapezoidal work of the reaction; the exact work lies between its rectangles
        # when the force drops within a step
        self.work += 0.5 * (force + self.force) * (target - self.displacement)
        self.u, self.d, self.driving = u, d, driving
        self.force, self.displacement = force, target
        self.rows.append((target, force, elastic, fracture, self.work, iterations))
        if keep:
            self.snapshots.append((target, u, d))

    def arrays(self):
        """The state as named arrays (``numpy.savez``)."""
        n, m = len(self.rows), len(self.snapshots)
        return {"u": self.u, "d": self.d,
                "driving": np.zeros(0) if self.driving is None else self.driving,
                "scalars": np.array([self.initial, self.work, self.force, self.displacement,
                                     self.cuts, self.seconds]),
                "pending": np.array(self.pending, dtype=np.float64).reshape(-1, 2),
                "rows": np.array(self.rows, dtype=np.float64).reshape(n, len(ROW)),
                "snapshot_at": np.array([s[0] for s in self.snapshots], dtype=np.float64),
                "snapshot_u": np.array([s[1] for s in self.snapshots]).reshape(m, self.u.size),
                "snapshot_d": np.array([s[2] for s in self.snapshots]).reshape(m, self.d.size),
                "counters": np.array(json.dumps(self.counters))}

    @classmethod
    def from_arrays(cls, stored):
        """The state of :meth:`arrays` read back."""
        initial, work, force, displacement, cuts, seconds = stored["scalars"]
        return cls(u=stored["u"].copy(), d=stored["d"].copy(),
                   driving=stored["driving"].copy() if stored["driving"].size else None,
                   initial=float(initial),
                   pending=[(float(t), int(h)) for t, h in stored["pending"]],
                   rows=[tuple(row) for row in stored["rows"]],
                   snapshots=list(zip(stored["snapshot_at"], stored["snapshot_u"],
                                      stored["snapshot_d"])),
                   work=float(work), force=float(force), displacement=float(displacement),
                   cuts=int(cuts), seconds=float(seconds),
                   counters=json.loads(str(stored["counters"])))
