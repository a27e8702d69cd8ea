"""The similarity maths of a whole topic, in numpy: unit vectors, blocks of
cosine similarities with non-candidates masked, and the pairs above a floor.

Rows are addressed by index; a row's round is an int id (-1: no round), so
this module knows nothing of questions.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence

import numpy as np

BLOCK_ROWS = 1024


def unit_matrix(vectors: Sequence[Sequence[float]]) -> np.ndarray:
    """One row a vector, scaled to length 1 (a zero vector stays zero)."""
    if not vectors:
        return np.zeros((0, 0), dtype=np.float32)
    matrix = np.vstack([np.asarray(v, dtype=np.float32) for v in vectors])
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def round_ids(rounds: Sequence[Hashable | None]) -> np.ndarray:
    """A small int per distinct round, -1 where a row has none."""
    ids: dict[Hashable, int] = {}
    return np.array(
        [ids.setdefault(r, len(ids)) if r else -1 for r in rounds], dtype=np.int64
    )


def candidate_blocks(
    matrix: np.ndarray, rounds: np.ndarray
) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, similarities of a block of rows to all rows), with -inf where
    the other row is no candidate: itself, its own round, no round."""
    in_no_round = rounds < 0
    total = len(rounds)
    for start in range(0, total, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, total)
        sims = matrix[start:stop] @ matrix.T
        block = rounds[start:stop]
        sims[:, in_no_round] = -np.inf
        sims[(block[:, None] == rounds[None, :]) & (block[:, None] >= 0)] = -np.inf
        sims[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        yield start, sims


def matches_above(
    matrix: np.ndarray,
    rounds: np.ndarray,
    floor: float,
    on_progress: Callable[[int, int], None] | None = None,
    limit: int | None = None,
) -> Iterator[tuple[int, list[tuple[int, float]]]]:
    """(row, [(other row, similarity), …] at or above `floor`) for every row,
    at most `limit` of them: the most similar, ties by row."""
    for start, sims in candidate_blocks(matrix, rounds):
        if limit is not None:
            _keep_nearest(sims, floor, limit)
        hits_i, hits_j = np.nonzero(sims >= floor)
        found: dict[int, list[tuple[int, float]]] = {}
        for i, j in zip(hits_i.tolist(), hits_j.tolist(), strict=True):
            found.setdefault(i, []).append((j, float(sims[i, j])))
        for i in range(len(sims)):
            matches = found.get(i, [])
            if limit is not None and len(matches) > limit:
                matches = sorted(matches, key=lambda m: (-m[1], m[0]))[:limit]
            yield start + i, matches
        if on_progress:
            on_progress(len(sims), len(rounds))


def _keep_nearest(sims: np.ndarray, floor: float, limit: int) -> None:
    """Mask (in place) every candidate of a row below its `limit`-th largest
    similarity, in rows with more than `limit` at or above `floor`; ties at
    that value stay (matches_above cuts them by row)."""
    crowded = np.flatnonzero((sims >= floor).sum(axis=1) > limit)
    if not len(crowded):
        return
    rows = sims[crowded]
    kth = -np.partition(-rows, limit - 1, axis=1)[:, limit - 1]
    rows[rows < kth[:, None]] = -np.inf
    sims[crowded] = rows
