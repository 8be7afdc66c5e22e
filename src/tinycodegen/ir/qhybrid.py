"""IR of a quantized VotingClassifier ("qhybrid"), built by ``passes/quantize_hybrid.py``: every
member quantized by its own quantizer (trees, linear models, MLPs, RBF SVMs) and compiled as its
own C (``NAME_m<i>``); the vote is integer arithmetic, defined here bit for bit.

* Integer weights n_m (1s without weights; sklearn's weights when they are exact integer
  ratios, reduced to the smallest integers: see the quantizer).
* **soft**: each member gives predict_proba as integer numerators and a denominator
  (``num_c / den``: trees ``scores / (scale * n_trees)``, qnet ``proba_ints``, qsvm Platt);
  they are brought to one fixed-point scale, Q16, by floor division:
  ``q_c = floor(num_c * 2**16 / den)``; then ``S_c = sum_m n_m q_mc`` (uint32: the total
  weight is at most 255, so ``S_c <= 2**16 * 255 < 2**24``). predict is the first arg-max of S,
  predict_proba ``S_c / (2**16 * sum n_m)`` as the correctly rounded float.
* **hard**: sklearn's rule in integers: ``votes_c = sum of n_m over members predicting c``, the
  first maximum among classes 0 .. the largest prediction. predict_proba: zeros (sklearn has
  none for hard voting).

A row is rejected (-1, zeros) when any member rejects it, as the float VotingClassifier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinycodegen.ir.base import ModelMeta, Reference, rejected_rows

QBITS = 16
MAX_WEIGHT_SUM = 255
VOTES = ("hard", "soft")


def has_qproba(ir: Any) -> bool:
    """The member's predict_proba is a quotient of integers the vote can use."""
    if ir.kind == "qnet":
        return ir.proba != "none"
    if ir.kind == "qsvm":
        return ir.has_proba
    return ir.kind in ("qtree_ensemble", "qboosted_trees")


def max_den(ir: Any) -> int:
    """Largest denominator the member's integer predict_proba can return."""
    if ir.kind == "qtree_ensemble":
        return int(ir.denominator)
    if ir.kind == "qsvm":
        return 65535
    if ir.kind == "qboosted_trees":  # sigmoid: 65535; softmax: a sum of n_outputs E_k
        return 65535 * ir.n_outputs
    k = ir.meta.n_classes
    return 65535 * (1 if ir.binary else k)


def member_qproba(ir: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int64 numerators (n, k), int64 denominators (n,)): 0 / 0 for rejected rows."""
    if ir.kind in ("qsvm", "qboosted_trees"):
        return ir.qproba(X)
    if ir.kind == "qtree_ensemble":
        bad = rejected_rows(X, ir.meta.nan_policy)
        num = ir.scores(X)
        den = np.full(len(X), ir.denominator, dtype=np.int64)
    elif ir.kind == "qnet":
        bad, acc = ir.logits(X)
        num, den = ir.proba_ints(acc)
        num, den = num.astype(np.int64), den.astype(np.int64)
    else:
        raise ValueError(f"qhybrid: no integer predict_proba for {ir.kind} members")
    num[bad] = 0
    den[bad] = 0
    return num, den


def q16(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """floor(num * 2**16 / den) per class (den > 0 rows; others 0)."""
    d = np.maximum(den, 1)[:, None]
    return np.where(den[:, None] > 0, (num << QBITS) // d, 0)


@dataclass(frozen=True, eq=False)
class QHybridIR:
    meta: ModelMeta
    mode: str  # "int8" | "int16"
    vote: str  # "hard" | "soft"
    members: tuple[Any, ...]
    weights: np.ndarray  # int64 (n_members,), >= 0, sum in 1 .. MAX_WEIGHT_SUM
    kind: str = field(default="qhybrid", init=False)

    def __post_init__(self) -> None:
        if self.vote not in VOTES:
            raise ValueError(f"qhybrid: unknown vote {self.vote!r}")
        w = self.weights
        if len(w) != len(self.members) or (w < 0).any() or not 0 < w.sum() <= MAX_WEIGHT_SUM:
            raise ValueError("qhybrid: integer weights must be >= 0 with a sum in 1 .. 255")
        if self.vote == "soft" and not all(has_qproba(m) for m in self.members):
            raise ValueError("qhybrid: soft voting needs every member's integer predict_proba")
        w.setflags(write=False)

    def __len__(self) -> int:
        return len(self.members)

    @property
    def total(self) -> int:
        """Denominator of the soft vote's predict_proba: 2**16 * sum of the weights."""
        return int(self.weights.sum()) << QBITS

    def sums(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Soft vote: (rejected rows, int64 S (n, k); rejected rows all 0)."""
        X = np.asarray(X, dtype=np.float32)
        bad = np.zeros(len(X), dtype=bool)
        s = np.zeros((len(X), self.meta.n_classes), dtype=np.int64)
        for ir, w in zip(self.members, self.weights, strict=True):
            num, den = member_qproba(ir, X)
            bad |= den == 0
            s += int(w) * q16(num, den)
        s[bad] = 0
        return bad, s

    def votes(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Hard vote: (rejected rows, int64 votes (n, k), classes above the top prediction
        set to -1)."""
        X = np.asarray(X, dtype=np.float32)
        n, k = len(X), self.meta.n_classes
        bad = np.zeros(n, dtype=bool)
        votes = np.zeros((n, k), dtype=np.int64)
        top = np.zeros(n, dtype=np.int64)
        rows = np.arange(n)
        for ir, w in zip(self.members, self.weights, strict=True):
            pred = ir.reference(X).predict.astype(np.int64)
            bad |= pred < 0
            p = np.clip(pred, 0, None)
            votes[rows, p] += int(w)
            top = np.maximum(top, p)
        votes[np.arange(k)[None, :] > top[:, None]] = -1
        votes[bad] = 0
        return bad, votes

    def reference(self, X: np.ndarray) -> Reference:
        if self.vote == "soft":
            bad, s = self.sums(X)
            predict = np.argmax(s, axis=1).astype(np.int32)
            proba = (s.astype(np.float32) / np.float32(self.total)).astype(np.float64)
        else:
            bad, v = self.votes(X)
            predict = np.argmax(v, axis=1).astype(np.int32)
            proba = np.zeros(v.shape)
        predict[bad] = -1
        proba[bad] = 0.0
        return Reference(predict=predict, proba=proba, fallback=None)
