"""The interface every physics implements: the case registry (:mod:`fem_reg.cases`), the CLI
and the study runner call only this, never probe a class for attributes.

A problem is built from a mesh and its parameters (``Problem(mesh, **parameters)``, the
parameters a frozen dataclass ``Parameters`` validated in the constructor) and ``solve()``
returns a :class:`~fem_reg.io.Result`. The next physics (phase-field fracture) plugs in by
subclassing :class:`Problem` and registering the class in :data:`fem_reg.cases.PROBLEMS`.

Ground floor: imports nothing from fem_reg (the Result type is named, not imported).
"""

from abc import ABC, abstractmethod
from typing import Any, Callable, ClassVar

Progress = Callable[[int, int, str], None]


class Problem(ABC):
    """Base class of every problem a case file can name.

    Class attributes
    ----------------
    name
        The name a case file's ``problem = "..."`` uses.
    Parameters
        Frozen dataclass of the parameters (names, defaults, validation in ``__post_init__``).
    QOI
        Names of the quantities of interest ``solve()`` reports (``<probe>`` patterns allowed;
        :meth:`qoi_names` expands them for given parameters).
    iterative
        ``solve(progress=, checkpoint=, resume=)``: a long iteration with a checkpoint.
    reports_progress
        ``solve(progress=)``: progress reports without a checkpoint.
    """

    name: ClassVar[str]
    Parameters: ClassVar[type]
    QOI: ClassVar[tuple[str, ...]]
    iterative: ClassVar[bool] = False
    reports_progress: ClassVar[bool] = False
    #: fields per mesh node beyond the displacement's ``dim`` components, for the size
    #: estimate made before meshing (default 1: a rotation, a slip, a scalar)
    extra_fields: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:            # a concrete, registrable problem
            missing = [a for a in ("Parameters", "QOI") if not hasattr(cls, a)]
            if missing:
                raise TypeError(f"problem {cls.__name__} lacks {', '.join(missing)}")

    @classmethod
    def qoi_names(cls, values: dict[str, Any]) -> list[str]:
        """The QoIs ``solve()`` reports with these parameters (default: :attr:`QOI`)."""
        return list(cls.QOI)

    @classmethod
    def solved_iteratively(cls, values: dict[str, Any], mesh: dict[str, Any],
                           refinements: int = 0) -> bool:
        """Whether the linear systems of a case with these parameters and this ``[mesh]``
        table, whose mesh is split ``refinements`` times uniformly, will be solved by a
        preconditioned iteration, not factorized (default: no). The memory estimate made
        before meshing grows linearly with the unknowns then."""
        return False

    @classmethod
    def solve_options(cls, progress: Progress | None = None, checkpoint: Any = None,
                      resume: bool = False) -> dict[str, Any]:
        """The keyword arguments of ``solve()`` a run passes, by what the problem declares."""
        if cls.iterative:
            return {"progress": progress, "checkpoint": checkpoint, "resume": resume}
        if cls.reports_progress:
            return {"progress": progress}
        return {}

    @abstractmethod
    def solve(self, **options: Any) -> Any:
        """Solve; return a :class:`fem_reg.io.Result` (fields, QoIs, meta with ``ndofs``);
        not annotated with it because this floor does not import :mod:`fem_reg.io`."""
