"""Errors a user can cause, each naming its culprit.

Everything in fem_reg may import this module; it imports nothing from fem_reg.
The command line prints any :class:`FemRegError` as one line and exits with status 2.
"""


class FemRegError(Exception):
    """Base class of every error caused by user input (file, mesh, parameter, case key).

    :meth:`within` adds where it happened (a case file, a table) in front of the message and
    returns the same exception, so a caller re-raises it with its type, attributes and
    traceback intact:

    >>> err = ParameterError("nu must be in (-1, 0.5), got 0.7")
    >>> str(err.within("case.toml [parameters]"))
    'case.toml [parameters]: nu must be in (-1, 0.5), got 0.7'
    """

    context: tuple[str, ...] = ()

    def within(self, where):
        """Prefix the message with ``where``; returns ``self``."""
        self.context = (where, *self.context)
        return self

    def message(self):
        """The message without the context."""
        return super().__str__()

    def __str__(self):
        return ": ".join((*self.context, self.message()))


class MeshFileError(FemRegError):
    """A mesh file cannot be read, or holds something fem_reg cannot use."""


class MeshError(FemRegError):
    """A mesh is invalid: inverted or degenerate cells, duplicate nodes, mixed cell types."""


class UnknownNameError(FemRegError, KeyError):
    """A boundary, subdomain, geometry, field or problem name that does not exist."""

    def message(self):  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ParameterError(FemRegError, ValueError):
    """A parameter outside its allowed range or of the wrong type."""


class CaseError(FemRegError):
    """A case file that cannot be read or has unknown keys or bad values."""


class SolverError(FemRegError):
    """A linear or nonlinear solve that failed (no convergence, residual check)."""


class SingularSystemError(SolverError):
    """A singular system, typically from missing supports."""


class WriteError(FemRegError):
    """An output that cannot be written: read-only folder or file system, full disk."""


class ResourceError(FemRegError):
    """A request whose estimated size (cells, DOFs, memory) exceeds the limit."""


class CheckpointError(FemRegError):
    """A checkpoint that cannot be used: truncated, non-finite, or from another case."""


class ClusterError(FemRegError):
    """A cluster that cannot be used: no Dask distributed, no scheduler, no workers, or
    workers without (this version of) fem_reg."""
