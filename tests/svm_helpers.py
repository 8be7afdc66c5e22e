"""Shared by the SVM and hybrid tests: input rows that stress decision boundaries, NSL-KDD data."""

from __future__ import annotations

import functools

import numpy as np

F32_MAX = np.finfo(np.float32).max
SPECIAL = [np.nan, np.inf, -np.inf]


def boundary_rows(model, X: np.ndarray, rng: np.random.Generator, pairs: int = 24,
                  steps: int = 40) -> np.ndarray:
    """Float rows on both sides of sklearn's decision boundaries, found by bisection between
    rows sklearn predicts differently: each pair ends as two neighbours within a few float
    ulps, so some pair value is within ~1e-6 of 0 there."""
    X = np.asarray(X, dtype=np.float32)
    pred = model.predict(X.astype(np.float64))
    a_idx, b_idx = [], []
    for _ in range(pairs * 4):
        i, j = rng.integers(0, len(X), 2)
        if pred[i] != pred[j]:
            a_idx.append(i)
            b_idx.append(j)
        if len(a_idx) == pairs:
            break
    if not a_idx:
        return np.zeros((0, X.shape[1]), dtype=np.float32)
    a, b = X[a_idx].copy(), X[b_idx].copy()
    pa = pred[a_idx]
    for _ in range(steps):
        mid = (a.astype(np.float64) + (b.astype(np.float64) - a) / 2).astype(np.float32)
        same = model.predict(mid.astype(np.float64)) == pa
        a[same] = mid[same]
        b[~same] = mid[~same]
    return np.vstack([a, b])


def special_rows(n_features: int, rng: np.random.Generator) -> np.ndarray:
    """NaN / +-inf in a random column (sklearn rejects them), and float extremes (accepted)."""
    rows = []
    for v in SPECIAL:
        r = rng.normal(size=n_features).astype(np.float32)
        r[rng.integers(0, n_features)] = v
        rows.append(r)
    rows.append(np.full(n_features, F32_MAX, np.float32))
    rows.append(np.full(n_features, -1e-45, np.float32))
    rows.append(np.zeros(n_features, np.float32))
    return np.vstack(rows).astype(np.float32)


def minmax_fit(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo = X.min(axis=0).astype(np.float64)
    span = X.max(axis=0).astype(np.float64) - lo
    span[span == 0] = 1.0
    return lo, span


def minmax(X: np.ndarray, lo: np.ndarray, span: np.ndarray) -> np.ndarray:
    """MinMax scaling in numpy, rounded to float32: models train and predict on float rows."""
    return ((X.astype(np.float64) - lo) / span).astype(np.float32)


@functools.cache
def nsl_subsample(n: int) -> tuple[np.ndarray, np.ndarray, tuple]:
    """A fixed stratified sample of KDDTrain+ (binary labels), MinMax-scaled to float32, and the
    scaling (fitted on all of KDDTrain+)."""
    from sklearn.model_selection import train_test_split

    from tinycodegen.datasets import nsl_kdd

    train = nsl_kdd.load("train")
    lo, span = minmax_fit(train.X)
    Xs, _, ys, _ = train_test_split(train.X, train.y, train_size=n, stratify=train.y,
                                    random_state=0)
    return minmax(Xs, lo, span), ys, (lo, span)


def nsl_split(split: str, scaling: tuple) -> np.ndarray:
    from tinycodegen.datasets import nsl_kdd

    return minmax(nsl_kdd.load(split).X, *scaling)
