"""The CSR sparsity pattern of assembled cell matrices, and where each entry lands in it.

Assembly that repeats with new values on a fixed mesh (SIMP stiffnesses, multigrid coarse
operators) needs the pattern once and, for every cell-matrix entry, its position in the CSR
data array. scipy builds the pattern (duplicates summed, indices sorted) and finds the
positions by its sorted per-row search: 4x faster than ``numpy.unique`` over the
(row, column) keys, whose global sort dominated the set-up (5.4 s vs 1.2 s for 13.8M entries
of 24,000 hexahedra).
"""

import numpy as np
import scipy.sparse as sp


def csr_pattern(rows, cols, n):
    """``(indices, indptr, position)`` of the ``n x n`` CSR pattern of the entries
    ``(rows[k], cols[k])``: ``position[k]`` is entry k's index in the data array.

    >>> indices, indptr, position = csr_pattern(np.array([0, 1, 0, 1]),
    ...                                         np.array([0, 1, 0, 0]), 2)
    >>> indices.tolist(), indptr.tolist(), position.tolist()
    ([0, 0, 1], [0, 1, 3], [0, 2, 0, 1])
    """
    index_type = np.int32 if len(rows) < 2 ** 31 and n < 2 ** 31 else np.int64
    rows, cols = rows.astype(index_type, copy=False), cols.astype(index_type, copy=False)
    # int16 counts the duplicates (cells sharing an entry) without overflow
    pattern = sp.csr_matrix((np.ones(len(rows), dtype=np.int16), (rows, cols)), shape=(n, n))
    pattern.sort_indices()
    numbered = sp.csr_matrix((np.arange(pattern.nnz, dtype=np.float64), pattern.indices,
                              pattern.indptr), shape=(n, n))
    position = np.asarray(numbered[rows, cols]).ravel().astype(np.int64)
    return pattern.indices, pattern.indptr, position
