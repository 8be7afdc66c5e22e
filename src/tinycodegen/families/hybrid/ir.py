"""IR of a VotingClassifier (hard or soft) or StackingClassifier over compiled member models.

Each member keeps its own IR (and its own C); this IR holds how sklearn combines them:

* hard voting: ``argmax(bincount(member predictions, weights))``: per row, the weights (or 1s)
  of the classes the members predict are summed in member order from 0.0; the first maximum
  among classes 0 .. max(prediction) wins. Exact: integer or sequential double sums.
* soft voting: ``np.average(member probas, axis=0, weights)``: numpy sums the member axis in
  member order (products by the weights first), then divides by the member count or by numpy's
  sum of the weights (computed by numpy at compile time); first arg-max.
* stacking: the members' predict_proba (binary: class 1's column only), decision_function or
  predict (the encoded label), then the raw input if passthrough, as one float64 row; the final
  linear model's scores (correctly rounded, as the linear family computes them) and its rule.

Exactness: trees', pipeline trees' and SVCs' double outputs are sklearn's bit for bit (the SVC's
on the host it was compiled on), so hard and soft votes over them are exact. Other members
(linear, MLP) compute their double outputs within a per-row bound of sklearn's
(:mod:`tinycodegen.core.members`); a soft vote or a final score whose margin is within
the
propagated bound is *uncertain*: the C answers with its own values and the reference marks the
row (reported like a fallback). Stacking's final scores are correctly rounded, so they are also
uncertain within sklearn's own double rounding band of the decision boundary, as linear models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinycodegen.core.base import ModelMeta, Reference
from tinycodegen.core.members import (
    INFLATE,
    bitwise,
    decision_width,
    member_outputs,
    standard_outputs,
)
from tinycodegen.core.numerics import U64, exact_dot, gamma, proba_from_scores

MODES = ("hard", "soft", "stack")
METHODS = ("predict_proba", "decision_function", "predict")


@dataclass(frozen=True, eq=False)
class HybridIR:
    meta: ModelMeta
    mode: str
    members: tuple[Any, ...]
    weights: np.ndarray | None = None  # float64 per member (voting), None: unweighted
    weight_sum: float = 0.0  # soft voting: numpy's sum of the weights (or the member count)
    methods: tuple[str, ...] = ()  # stacking: per member
    passthrough: bool = False
    final: Any | None = None  # stacking: the final linear model's IR
    kind: str = field(default="hybrid", init=False)
    # as a member of another Voting / Stacking / Calibrated model (core.members)
    @property
    def sklearn_bitwise(self) -> bool:
        """A soft vote of bitwise members (np.average replayed)."""
        return self.mode == "soft" and all(bitwise(m) for m in self.members)

    @property
    def decision_width(self) -> int | None:
        """Stacking: the final estimator's scores; votes have no decision_function."""
        return int(self.final.n_scores) if self.mode == "stack" else None

    def member_outputs(self, X: np.ndarray, need: str) -> tuple:
        if need == "decision_function":  # stacking: final scores
            m, band, bad = self.stack_scores(X)
            pred = self.reference(X).predict
            return pred, None, np.where(bad[:, None], 0.0, m), np.where(bad[:, None], 0.0, band)
        return standard_outputs(self, X, need)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"hybrid IR: unknown mode {self.mode!r}")
        if self.mode == "stack" and (self.final is None or len(self.methods) != len(self)):
            raise ValueError("hybrid IR: stacking needs a final model and a method per member")

    def __len__(self) -> int:
        return len(self.members)

    # ---- layout ------------------------------------------------------------------------------
    def column_widths(self) -> list[int]:
        """Stacking: number of meta features each member contributes."""
        k = self.meta.n_classes
        out = []
        for ir, meth in zip(self.members, self.methods, strict=True):
            if meth == "predict_proba":
                out.append(1 if k == 2 else k)
            elif meth == "decision_function":
                out.append(decision_width(ir))
            else:
                out.append(1)
        return out

    @property
    def meta_width(self) -> int:
        return sum(self.column_widths()) + (self.meta.n_features if self.passthrough else 0)

    def stack_bound(self) -> float:
        """G: the C's final score c is within G * (|b_c| + sum |w_ci f_i|) of the exact one, and
        so is sklearn's (any summation order), given the same features f."""
        n = self.meta_width
        return (gamma(n + 2, U64) + U64) / (1 - gamma(n + 2, U64)) * INFLATE

    # ---- reference ---------------------------------------------------------------------------
    def reference(self, X: np.ndarray) -> Reference:
        X = np.asarray(X, dtype=np.float32)
        outs = [member_outputs(ir, X, self._needs(i)) for i, ir in enumerate(self.members)]
        bad = self._rejected(outs, X)
        if self.mode == "hard":
            predict, proba, unsure = self._hard(outs), None, np.zeros(len(X), bool)
        elif self.mode == "soft":
            predict, proba, unsure = self._soft(outs)
        else:
            predict, proba, unsure = self._stack(outs, X, bad)
        predict[bad] = -1
        unsure &= ~bad
        if proba is not None:
            proba[bad] = 0.0
        return Reference(predict=predict.astype(np.int32), proba=proba, fallback=unsure)

    def _needs(self, i: int) -> str:
        if self.mode == "stack":
            return self.methods[i]
        return "predict_proba" if self.mode == "soft" else "predict"

    def _hard(self, outs: list) -> np.ndarray:
        n, k = len(outs[0][0]), self.meta.n_classes
        rows = np.arange(n)
        votes = np.zeros((n, k))
        top = np.zeros(n, dtype=np.int64)
        for m, (pred, _, _, _) in enumerate(outs):
            p = np.clip(pred, 0, None)
            votes[rows, p] = votes[rows, p] + (1.0 if self.weights is None else self.weights[m])
            top = np.maximum(top, p)
        votes[np.arange(k)[None, :] > top[:, None]] = -np.inf
        return np.argmax(votes, axis=1)

    def _soft(self, outs: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s = tol = None
        for m, (_, p, _, t) in enumerate(outs):
            w = 1.0 if self.weights is None else self.weights[m]
            d = p if self.weights is None else p * w
            s = d.copy() if s is None else s + d
            tol = abs(w) * t if tol is None else tol + abs(w) * t
        assert s is not None and tol is not None
        avg = s / (float(len(self)) if self.weights is None else self.weight_sum)
        # + a few double roundings of the average itself, which can differ once inputs do
        bound = np.where(tol.max(axis=1) > 0, tol.max(axis=1) / abs(self.weight_sum) * INFLATE
                         + 2.0**-50, 0.0)
        return np.argmax(avg, axis=1), avg, margin_unsure(avg, bound)

    def stack_features(self, outs: list, X: np.ndarray) -> np.ndarray:
        cols = []
        for (pred, proba, dec, _), meth in zip(outs, self.methods, strict=True):
            if meth == "predict_proba":
                cols.append(proba[:, 1:] if self.meta.n_classes == 2 else proba)
            elif meth == "decision_function":
                cols.append(dec)
            else:
                cols.append(np.clip(pred, 0, None).astype(np.float64)[:, None])
        if self.passthrough:
            cols.append(X.astype(np.float64))
        return np.hstack(cols)

    def _stack(self, outs: list, X: np.ndarray,
               bad: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        fin = self.final
        assert fin is not None
        m, band = self._scores(outs, X, bad)
        if fin.binary:
            unsure = ~(np.abs(m[:, 0]) > band[:, 0])
        else:
            unsure = band_unsure(m, band)
        proba = proba_from_scores(fin.proba, m, self.meta.n_classes)
        return fin.rule(m), proba, unsure

    def _scores(self, outs: list, X: np.ndarray,
                bad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        fin = self.final
        assert fin is not None
        z = self.stack_features(outs, np.where(bad[:, None], np.float32(0), X))
        z[bad] = 0.0
        cols = []
        for (_, _, _, t), meth in zip(outs, self.methods, strict=True):
            if meth == "predict":
                cols.append(np.zeros((len(X), 1)))
            else:  # binary predict_proba: only class 1's column is a feature
                two = meth == "predict_proba" and self.meta.n_classes == 2
                cols.append(t[:, 1:] if two else t)
        if self.passthrough:
            cols.append(np.zeros((len(X), self.meta.n_features)))
        tol = np.hstack(cols)
        m = exact_dot(fin.coef.T, fin.intercept, z)
        mag = np.broadcast_to(np.abs(fin.intercept), m.shape).copy()
        for i in range(z.shape[1]):
            mag = mag + np.abs(fin.coef[None, :, i] * z[:, i:i + 1])
        feat = tol @ np.abs(fin.coef).T * INFLATE  # members' distance to sklearn's features
        return m, mag * self.stack_bound() + feat + (z.shape[1] + 4) * 2.0**-1070

    def stack_scores(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stacking: (the C's final scores, a bound on their distance to sklearn's, rejected
        rows). sklearn's decision_function lies within the bound of the C's scores."""
        X = np.asarray(X, dtype=np.float32)
        outs = [member_outputs(ir, X, self._needs(i)) for i, ir in enumerate(self.members)]
        bad = self._rejected(outs, X)
        m, band = self._scores(outs, X, bad)
        return m, band, bad

    def _rejected(self, outs: list, X: np.ndarray) -> np.ndarray:
        bad = np.zeros(len(X), dtype=bool)
        for pred, *_ in outs:
            bad |= pred < 0
        if self.mode == "stack" and self.passthrough:  # the raw row reaches the final model
            bad |= ~np.isfinite(X).all(axis=1)
        return bad


def margin_unsure(avg: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """Rows whose first arg-max could change by moving every value by up to tol (per row)."""
    best = np.argmax(avg, axis=1)
    top = avg[np.arange(len(avg)), best]
    unsure = np.zeros(len(avg), dtype=bool)
    for c in range(avg.shape[1]):
        unsure |= (c != best) & ~(top - avg[:, c] > 2 * tol)
    return unsure & (tol > 0)


def band_unsure(m: np.ndarray, band: np.ndarray) -> np.ndarray:
    best = np.argmax(m, axis=1)
    r = np.arange(len(m))
    unsure = np.zeros(len(m), dtype=bool)
    for c in range(m.shape[1]):
        unsure |= (c != best) & ~(m[r, best] - band[r, best] > m[:, c] + band[:, c])
    return unsure
