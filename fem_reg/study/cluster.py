"""Levels on a Dask distributed cluster: connect to its scheduler, check its workers, hand
the study an executor.

The workers solve (:func:`~fem_reg.study.runner.solve_level`) and send the record and the
fields back; this process writes the cache, so the workers need not share its disk. They
need fem_reg (the same version) and its dependencies installed. A worker lost in the middle
of a level makes the scheduler run the level again elsewhere (its ``allowed-failures``,
3 by default); a level lost more often than that is recorded as failed and the others go
on. Start a cluster with ``dask scheduler`` and ``dask worker tcp://HOST:8786`` (see
``docs/cluster.md``).
"""

import contextlib
import logging

from ..errors import ClusterError

log = logging.getLogger(__name__)

CONNECT_SECONDS = 10.0
WORKER_WAIT_SECONDS = 30.0


@contextlib.contextmanager
def dask_executor(address):
    """Yield a ``concurrent.futures`` executor on the Dask scheduler at ``address``
    (``tcp://HOST:PORT``), its workers checked; the connection is closed afterwards (its
    unfinished levels are then cancelled)."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError(f"scheduler {address}: Dask's distributed is not installed; "
                           f"pip install 'fem-reg[cluster]'") from None
    from .. import __version__
    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise ClusterError(f"scheduler {address}: cannot connect ({reason[:200]})") from None
    try:
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
        except (TimeoutError, OSError):
            raise ClusterError(f"scheduler {address}: no worker joined in "
                               f"{WORKER_WAIT_SECONDS:g} s; start one with 'dask worker "
                               f"{address}'") from None
        def worker_version():
            # defined here, so that it travels by value: a worker without fem_reg can run it
            try:
                from fem_reg import __version__ as version
            except ImportError:
                return None
            return version

        versions = client.run(worker_version, on_error="return")
        for worker, version in sorted(versions.items()):
            if version != __version__:
                have = "no fem_reg" if version is None or isinstance(version, BaseException) \
                    else f"fem_reg {version}"
                raise ClusterError(f"worker {worker} has {have}; this client runs fem_reg "
                                   f"{__version__}: install the same version on every worker")
        log.info("Dask scheduler %s: %d worker(s)", address, len(versions))
        yield client.get_executor(pure=False)
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=5)
