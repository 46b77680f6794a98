"""Small array helpers shared by the mesh and io rooms. Ground floor: numpy only."""

import numpy as np


def pad_to_3d(array):
    """``(n, k)`` rows (coordinates or vectors, ``k <= 3``) padded with zeros to ``(n, 3)``,
    as VTK wants them."""
    array = np.asarray(array, dtype=np.float64)
    return np.hstack((array, np.zeros((len(array), 3 - array.shape[1]))))
