"""Fixed, seeded, stratified row samples (for targets too slow to run every row)."""

from __future__ import annotations

import numpy as np


def stratified_sample(labels: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of ``k`` rows drawn per label in proportion to its count.

    Every label present gets at least one row when ``k`` allows; the draw is
    deterministic for a given ``labels``, ``k`` and ``seed``.
    """
    labels = np.asarray(labels)
    n = labels.shape[0]
    if k >= n:
        return np.arange(n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    quota = k * counts / n
    alloc = np.floor(quota).astype(np.int64)
    if k >= classes.size:
        alloc = np.maximum(alloc, 1)
    while alloc.sum() > k:  # the minimum of one row per class overshot
        alloc[np.argmax(alloc)] -= 1
    spare = k - int(alloc.sum())
    order = np.argsort(-(quota - np.floor(quota)), kind="stable")
    for c in order:
        if spare == 0:
            break
        if alloc[c] < counts[c]:
            alloc[c] += 1
            spare -= 1
    rng = np.random.default_rng(seed)
    picked = [
        rng.choice(np.flatnonzero(inverse == c), size=int(min(a, counts[c])), replace=False)
        for c, a in enumerate(alloc)
    ]
    return np.sort(np.concatenate(picked)).astype(np.int64)
