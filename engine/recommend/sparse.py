"""Array helpers the recommenders share: top-k, row normalisation, sparse row access."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column positions of the ``k`` best scores of each row, best first (ties: lower position)."""
    n = scores.shape[1]
    k = min(k, n)
    if k <= 0:
        return np.zeros((scores.shape[0], 0), dtype=np.int64)
    if k < n:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.tile(np.arange(n), (scores.shape[0], 1))
    picked = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -picked), axis=1)
    return np.take_along_axis(part, order, axis=1)


def normalise_rows(scores: np.ndarray) -> np.ndarray:
    """Each row scaled so its best is 100 (rows of zeros stay zero)."""
    top = scores.max(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(top > 0, scores / np.where(top > 0, top, 1.0) * 100.0, 0.0)
    return out.astype(np.float32)


def rows_entries(
    matrix: sp.csr_matrix, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stored entries of some CSR rows as ``(position in rows, column, value)`` arrays."""
    rows = np.asarray(rows, dtype=np.int64)
    starts = matrix.indptr[rows].astype(np.int64)
    lengths = matrix.indptr[rows + 1] - starts
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    take = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
    which = np.repeat(np.arange(len(rows)), lengths)
    return which, matrix.indices[take], matrix.data[take]


def sparse_rows(matrix: sp.csr_matrix, rows: np.ndarray) -> sp.csr_matrix:
    """Rows of a CSR matrix where -1 gives an empty row (built straight from the CSR
    arrays: scipy's fancy indexing costs more than the work at request time)."""
    rows = np.asarray(rows, dtype=np.int64)
    safe = np.maximum(rows, 0)
    starts = matrix.indptr[safe].astype(np.int64)
    lengths = np.where(rows >= 0, matrix.indptr[safe + 1] - starts, 0)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    take = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
    return sp.csr_matrix(
        (matrix.data[take], matrix.indices[take], indptr), shape=(len(rows), matrix.shape[1])
    )


def row_entries(matrix: sp.csr_matrix, row: int) -> tuple[np.ndarray, np.ndarray]:
    """Column positions and values of one CSR row without scipy's indexing overhead
    (``row`` -1 gives nothing). The matrix must have sorted indices."""
    if row < 0:
        return np.zeros(0, dtype=matrix.indices.dtype), np.zeros(0, dtype=matrix.dtype)
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    return matrix.indices[start:end], matrix.data[start:end]


def lookup(matrix: sp.csr_matrix, row: int, columns: np.ndarray) -> np.ndarray:
    """Values of ``matrix[row, columns]`` (0 where absent), vectorised over ``columns``."""
    idx, data = row_entries(matrix, row)
    columns = np.asarray(columns)
    if len(idx) == 0:
        return np.zeros(len(columns), dtype=float)
    pos = np.minimum(np.searchsorted(idx, columns), len(idx) - 1)
    return np.where(idx[pos] == columns, data[pos], 0).astype(float)
