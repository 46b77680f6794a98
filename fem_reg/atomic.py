"""Atomic file writes: write to a temporary file beside the target, then rename.

A crash or a bad input half-way through never leaves a half-written file, and never destroys
the previous version. Ground floor: imports nothing from fem_reg but the errors.
"""

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import FemRegError


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path with the same suffix beside ``path``; rename it over ``path``
    when the block succeeds, remove it when the block fails.

    Examples
    --------
    >>> with atomic_path("out.vtu") as tmp:       # doctest: +SKIP
    ...     meshio.write(tmp, mesh)
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise FemRegError(f"{path.parent}: cannot create output directory ({err.strerror})") \
            from err
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}",
                               dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes the file private (0600); give it the permissions an ordinary
        # open() would have had, so results can be shared like any other file.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path, text):
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
