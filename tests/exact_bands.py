"""Test helpers for the exact linear / MLP families: inputs near decision boundaries, and the
band of inputs where sklearn's own double rounding (BLAS order, numpy's tanh) decides."""

from __future__ import annotations

import itertools

import numpy as np

from tinycodegen.core.numerics import U64, exact_dot, gamma, proba_from_scores
from tinycodegen.families.linear.ir import LinearIR
from tinycodegen.families.mlp.activations import LIPSCHITZ, act64
from tinycodegen.families.mlp.ir import MLPIR


def near_boundary(W: np.ndarray, b: np.ndarray, X: np.ndarray, rng) -> np.ndarray:
    """Rows solved for one feature so that a score (difference) is ~0, then moved by at most
    1e-6 relative (and a few float steps): within 1e-6 of the decision boundary."""
    out = []
    for x in np.asarray(X, dtype=np.float64):
        if len(W) == 1:
            w, c = W[0], b[0]
        else:
            i, k = rng.choice(len(W), 2, replace=False)
            w, c = W[i] - W[k], b[i] - b[k]
        nz = np.flatnonzero(w)
        if not len(nz):
            continue
        j = rng.choice(nz)
        x = x.copy()
        x[j] = -(c + w @ x - w[j] * x[j]) / w[j]
        for rel in (0.0, 1e-6, -1e-6, 3e-7 * rng.standard_normal()):
            y = x.copy()
            y[j] *= 1.0 + rel
            y32 = y.astype(np.float32)
            out.append(y32)
            out.append(y32.copy())
            out[-1][j] = np.nextafter(y32[j], np.float32(np.inf))
    return np.asarray(out, dtype=np.float32).reshape(-1, W.shape[1])


def linear_band(ir: LinearIR, X: np.ndarray) -> np.ndarray:
    """Per row and score: how far sklearn's BLAS double score may be from the exact one
    (gamma_{n+1} (|b| + sum |w z|) in double, any summation order), doubled for safety."""
    _, z = ir.inputs(X)
    g = (ir.n_inputs + 1) * 2.0**-53 / (1 - (ir.n_inputs + 1) * 2.0**-53)
    return 2 * g * (np.abs(z) @ np.abs(ir.coef.T) + np.abs(ir.intercept)) + 2.0**-1000


def linear_in_band(ir: LinearIR, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows where sklearn's own rounding can decide (predict, float32 decision, float32 proba):
    the answer is not the same over the box exact score +- band."""
    m, band = ir.decision(X), linear_band(ir, X)
    if ir.binary:
        pred = np.abs(m[:, 0]) <= band[:, 0]
    else:
        top = np.sort(m - band, axis=1)[:, -1:]
        pred = ((m + band) >= top).sum(axis=1) > 1
    dec = ((m - band).astype(np.float32) != (m + band).astype(np.float32)).any(axis=1)
    p0 = proba_from_scores(ir.proba, m, ir.meta.n_classes).astype(np.float32)
    proba = np.zeros(len(m), dtype=bool)
    for corner in itertools.product((-1.0, 1.0), repeat=ir.n_scores):
        pc = proba_from_scores(ir.proba, m + band * np.asarray(corner), ir.meta.n_classes)
        proba |= (pc.astype(np.float32) != p0).any(axis=1)
    return pred, dec, proba


def mlp_band(ir: MLPIR, X: np.ndarray) -> np.ndarray:
    """Per row and output: a bound on |sklearn's double logit - the C's exact-path logit|, by
    layers: 2 gamma_{n+1}(2**-53) (|b| + sum |w| (|h| + E)) + E sum |w| for the pre-activations
    (BLAS in any order vs correctly rounded), E' = lambda max(pre) + 2 EPS64 after tanh / expit
    (numpy's and libm's within EPS64 = 2**-48 of exact); doubled for safety."""
    _, h = ir.inputs(X)
    E = np.zeros(len(h))
    for li, (w, b) in enumerate(zip(ir.weights, ir.biases, strict=True)):
        g = gamma(w.shape[0] + 1, U64)
        aw = np.abs(w)
        pre = 2 * g * (np.abs(b) + (np.abs(h) + E[:, None]) @ aw) + E[:, None] * aw.sum(axis=0)
        if li == len(ir.weights) - 1:
            return 2 * pre + 2.0**-1000
        h = _layer(ir, li, h)
        E = LIPSCHITZ[ir.activation] * pre.max(axis=1) + 2.0**-47
    raise AssertionError("unreachable")


def _layer(ir: MLPIR, li: int, h: np.ndarray) -> np.ndarray:
    return act64(ir.activation, exact_dot(ir.weights[li], ir.biases[li], h))


def mlp_in_band(ir: MLPIR, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows where sklearn's own rounding can decide predict / the float32 probabilities."""
    _, z = ir.inputs(X)
    o, band = ir.logits(z), mlp_band(ir, X)
    if ir.binary:
        pred = np.abs(o[:, 0] - ir.threshold) <= band[:, 0]
    else:
        top = np.sort(o - band, axis=1)[:, -1:]
        pred = ((o + band) >= top).sum(axis=1) > 1
    kind = "sigmoid" if ir.binary else "softmax"
    p0 = proba_from_scores(kind, o, ir.meta.n_classes).astype(np.float32)
    proba = np.zeros(len(o), dtype=bool)
    for corner in itertools.product((-1.0, 1.0), repeat=ir.n_outputs):
        pc = proba_from_scores(kind, o + band * np.asarray(corner), ir.meta.n_classes)
        proba |= (pc.astype(np.float32) != p0).any(axis=1)
    return pred, proba


def boundary_rows(model, X: np.ndarray, rng, pairs: int = 12) -> np.ndarray:
    """Points where sklearn's prediction changes, found by bisection between rows it classifies
    differently, then moved by <= 1e-6 relative and a float step: near the decision boundary."""
    X = X.astype(np.float64)
    pred = model.predict(X)
    out = []
    for _ in range(pairs * 4):
        i, j = rng.integers(0, len(X), 2)
        if pred[i] == pred[j]:
            continue
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = (lo + hi) / 2
            if model.predict((X[i] + mid * (X[j] - X[i]))[None])[0] == pred[i]:
                lo = mid
            else:
                hi = mid
        x = X[i] + lo * (X[j] - X[i])
        for rel in (0.0, 1e-7, -1e-7, 1e-6, -1e-6):
            out.append((x * (1 + rel)).astype(np.float32))
        out.append(np.nextafter(out[-5], np.float32(np.inf)))
        if len(out) >= 6 * pairs:
            break
    return np.asarray(out, dtype=np.float32).reshape(-1, X.shape[1])


def minmax_scaled(train, tests: dict) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """NSL-KDD rows min-max scaled (with NumPy, in double, then rounded to float32) by the
    training split's range: (train rows, {name: test rows})."""
    lo = train.X.min(axis=0).astype(np.float64)
    span = np.where(train.X.max(axis=0) > lo, train.X.max(axis=0) - lo, 1.0)

    def scale(X):
        return ((X - lo) / span).astype(np.float32)

    return scale(train.X), {k: scale(d.X) for k, d in tests.items()}


def linear_with_weights(coef, intercept, classes):
    """A fitted LogisticRegression whose coef_ / intercept_ are then set to the given values."""
    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(0).standard_normal((40, len(coef[0])))
    y = np.asarray(classes)[np.arange(40) % len(classes)]
    model = LogisticRegression().fit(X, y)
    model.coef_ = np.asarray(coef, dtype=np.float64)
    model.intercept_ = np.asarray(intercept, dtype=np.float64)
    return model
