"""A plain vectorized numpy/scipy transcription of the 88-line MATLAB code (Andreassen,
Clausen, Schevenels, Lazarov & Sigmund 2011, "Efficient topology optimization in MATLAB using
88 lines of code", SMO 43:1-16): the MBB half-beam on an ``nelx x nely`` grid of unit Q4
elements, sensitivity (``ft = 1``) or density (``ft = 2``) filter, OC with bisection.

It is the baseline of ``benchmarks/topopt_mbb.py`` and the independent reference of the
literature tests: same algorithm, same element matrix, same node numbering (column-major,
from the top left), ``K(freedofs, freedofs) \\ F`` by SuperLU (``scipy.sparse.linalg.spsolve``)
where MATLAB uses CHOLMOD.
"""

import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla


def element_matrix(nu):
    """The 8x8 Q4 plane-stress stiffness of a unit square element, E = 1 (lines 13-17)."""
    A11 = np.array([[12, 3, -6, -3], [3, 12, 3, 0], [-6, 3, 12, -3], [-3, 0, -3, 12]])
    A12 = np.array([[-6, -3, 0, 3], [-3, -6, -3, -6], [0, -3, -6, 3], [3, -6, 3, -6]])
    B11 = np.array([[-4, 3, -2, 9], [3, -4, -9, 4], [-2, -9, -4, -3], [9, 4, -3, -4]])
    B12 = np.array([[2, -3, 4, -9], [-3, 2, 9, -2], [4, 9, 2, 3], [-9, -2, 3, 2]])
    A = np.block([[A11, A12], [A12.T, A11]])
    B = np.block([[B11, B12], [B12.T, B11]])
    return 1.0 / (1.0 - nu ** 2) / 24.0 * (A + nu * B)


def top88(nelx, nely, volfrac=0.5, penal=3.0, rmin=1.5, ft=1, max_iterations=1000,
          tolerance=0.01):
    """Run the 88-line algorithm; returns a dict with the final compliance ``c`` (of the last
    analysed design), ``iterations``, ``xPhys`` (nely x nelx), and the time per iteration."""
    E0, Emin, nu = 1.0, 1e-9, 0.3
    KE = element_matrix(nu)
    nele = nelx * nely
    nodenrs = np.arange((1 + nelx) * (1 + nely)).reshape(1 + nelx, 1 + nely).T   # column-major
    edofVec = (2 * nodenrs[:-1, :-1] + 2).reshape(-1, order="F")                 # 0-based
    edofMat = edofVec[:, None] + np.array([0, 1, 2 * nely + 2, 2 * nely + 3, 2 * nely,
                                           2 * nely + 1, -2, -1])
    iK = np.kron(edofMat, np.ones((8, 1), dtype=int)).reshape(-1)
    jK = np.kron(edofMat, np.ones((1, 8), dtype=int)).reshape(-1)
    ndof = 2 * (nely + 1) * (nelx + 1)
    F = np.zeros(ndof)
    F[1] = -1.0
    fixeddofs = np.union1d(np.arange(0, 2 * (nely + 1), 2), [ndof - 1])
    freedofs = np.setdiff1d(np.arange(ndof), fixeddofs)
    # filter (lines 36-55), vectorized over the neighbour offsets
    reach = int(np.ceil(rmin)) - 1
    i1, j1 = np.meshgrid(np.arange(nelx), np.arange(nely), indexing="ij")
    rows, cols, vals = [], [], []
    for di in range(-reach, reach + 1):
        for dj in range(-reach, reach + 1):
            i2, j2 = i1 + di, j1 + dj
            inside = (i2 >= 0) & (i2 < nelx) & (j2 >= 0) & (j2 < nely)
            w = max(0.0, rmin - np.hypot(di, dj))
            rows.append((i1 * nely + j1)[inside])
            cols.append((i2 * nely + j2)[inside])
            vals.append(np.full(inside.sum(), w))
    H = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(nele, nele))
    Hs = np.asarray(H.sum(axis=1)).ravel()
    # optimization loop (lines 57-87); element e = i * nely + j (column-major x(:))
    x = np.full(nele, volfrac)
    xPhys = x.copy()
    U = np.zeros(ndof)
    loop, change, c = 0, 1.0, None
    seconds = []
    while change > tolerance and loop < max_iterations:
        tick = time.perf_counter()
        loop += 1
        sK = (KE.reshape(-1)[:, None] * (Emin + xPhys ** penal * (E0 - Emin))).T.reshape(-1)
        K = sp.csc_matrix((sK, (iK, jK)), shape=(ndof, ndof))
        K = (K + K.T) / 2
        U[freedofs] = spla.spsolve(K[freedofs][:, freedofs], F[freedofs])
        Ue = U[edofMat]
        ce = np.einsum("ei,ij,ej->e", Ue, KE, Ue)
        c = float(np.sum((Emin + xPhys ** penal * (E0 - Emin)) * ce))
        dc = -penal * (E0 - Emin) * xPhys ** (penal - 1) * ce
        dv = np.ones(nele)
        if ft == 1:
            dc = H @ (x * dc) / Hs / np.maximum(1e-3, x)
        else:
            dc = H @ (dc / Hs)
            dv = H @ (dv / Hs)
        l1, l2, move = 0.0, 1e9, 0.2
        while (l2 - l1) / (l1 + l2) > 1e-3:
            lmid = 0.5 * (l2 + l1)
            xnew = np.maximum(0, np.maximum(x - move, np.minimum(
                1, np.minimum(x + move, x * np.sqrt(-dc / dv / lmid)))))
            xPhys = xnew if ft == 1 else (H @ xnew) / Hs
            if xPhys.sum() > volfrac * nele:
                l1 = lmid
            else:
                l2 = lmid
        change = float(np.abs(xnew - x).max())
        x = xnew
        seconds.append(time.perf_counter() - tick)
    return {"c": c, "iterations": loop, "xPhys": xPhys.reshape(nelx, nely).T,
            "seconds_per_iteration": float(np.mean(seconds))}


if __name__ == "__main__":
    for ft in (1, 2):
        out = top88(60, 20, ft=ft)
        print(f"ft={ft}: c = {out['c']:.2f} after {out['iterations']} iterations")
