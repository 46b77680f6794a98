"""Checkpoints of long runs: named arrays written atomically with what identifies the case
(its parameters and mesh) and the format's version, and read back checked. A checkpoint
that is truncated, corrupted, non-finite, of another case or of another format is a
:class:`~fem_reg.errors.CheckpointError` naming the file, never a traceback."""

import hashlib
import json
import zipfile

import numpy as np

from ..atomic import atomic_path
from ..errors import CheckpointError

REMEDY = "remove it or run without --resume"


def fingerprint(parameters, mesh, ignore=()):
    """A short digest of ``parameters`` (a dict, less the names in ``ignore``: those that
    may change between a run and its resumption) and of the mesh's nodes and cells."""
    data = {k: v for k, v in parameters.items() if k not in ignore}
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode())
    digest.update(np.ascontiguousarray(mesh.p).tobytes())
    digest.update(np.ascontiguousarray(mesh.t).tobytes())
    return digest.hexdigest()[:16]


def save_checkpoint(path, arrays, case, version):
    """Write ``arrays`` (names to arrays or scalars) to ``path`` atomically, with the case's
    :func:`fingerprint` ``case`` and the format ``version``."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays, fingerprint=np.array(case), version=np.array(version))


def load_checkpoint(path, case, version):
    """The arrays of the checkpoint at ``path``, checked: readable and complete, of the case
    ``case`` (its :func:`fingerprint`), of format ``version``, and finite."""
    try:
        with np.load(path, allow_pickle=False) as data:
            stored = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as err:
        raise CheckpointError(f"{path}: not a readable checkpoint (truncated or "
                              f"corrupted: {type(err).__name__}); {REMEDY}") from err
    if "fingerprint" not in stored or str(stored["fingerprint"]) != case:
        raise CheckpointError(f"{path}: the checkpoint belongs to another case or mesh "
                              f"(parameters or mesh changed); {REMEDY}")
    if int(stored.get("version", 0)) != version:
        raise CheckpointError(f"{path}: written by another version of fem_reg "
                              f"(checkpoint format {int(stored.get('version', 0))}, this "
                              f"one reads {version}); {REMEDY}")
    for name, values in stored.items():
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            raise CheckpointError(f"{path}: '{name}' holds non-finite values (a corrupted "
                                  f"checkpoint); {REMEDY}")
    return stored


def wrong_size(path, what, found, expected):
    """The error of a checkpoint whose ``what`` has ``found`` values where the case has
    ``expected``."""
    return CheckpointError(f"{path}: {what} has {found} values for {expected}; {REMEDY}")
