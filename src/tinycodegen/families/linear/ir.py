"""IR of a linear classifier: LogisticRegression, LinearSVC, SGDClassifier, RidgeClassifier...

sklearn computes the scores ``m = z @ coef.T + intercept`` in double (BLAS) and predicts
``classes[1]`` when ``m > 0`` (one score row) or the first arg-max (k rows). The C does the same
in two steps:

**Fast path (float).** ``s = bf + sum_i wf_i xf_i`` and ``a = |bf| + sum_i |fl(wf_i xf_i)|``
in float, where wf, bf, xf are the weights, intercept and input rounded to float (xf is the
input itself when there is no transform), each summed in 4 interleaved lanes so that no term
goes through more than h = ceil(n / 4) + 2 additions. With u = 2**-24 and gamma_h =
h u / (1 - h u), standard error analysis (Higham, ch. 3-4: any summation tree of height h)
gives, whenever a <= 2**126,

    |s - m| <= K a + D,   K = (gamma_h (1 + u) + 2u + c) / ((1 - u)(1 - gamma_h)) + K_sk

where c = u (weights rounded to float) or 2u + u**2 (weights and transformed inputs rounded),
D covers underflow (every nonzero weight must round to a normal float, else the fast path is
off), and K_sk = gamma_{n+1}(2**-53) (1 + 4u) / (1 - gamma_h) bounds sklearn's own double
rounding in any summation order (BLAS). The C keeps K, D as floats rounded up after inflation by
1 + 2**-20, which absorbs the roundings of evaluating ``K a + D`` and of comparing. So when
``s > K a + D`` (resp. ``< -(K a + D)``) both the exact real score and sklearn's double score are
positive (negative); for k rows, ``s_b - s_c > B_b + B_c`` for all c proves that b is sklearn's
arg-max. NaN or infinite input makes ``a`` NaN or infinite, which leaves the fast path.

**Exact path (double).** Otherwise each score is computed correctly rounded: every product is
split exactly (Dekker, no FMA needed) and the 2n + 1 pieces are summed exactly (Shewchuk
partials) and rounded once. This is exact whenever every nonzero |w_i z_i| lies in
[2**-969, 2**900], which holds for all float32 inputs because the loader accepts only weights
in [2**-600, 2**600]. The decision is then the sign (arg-max) of the correctly rounded value.

**Guarantee.** C == sklearn's predict for every input whose score (score difference) is not
within sklearn's own rounding band gamma_{n+1}(2**-53) (|b| + sum |w_i z_i|) of 0: there
sklearn's answer depends on its BLAS summation order (it can differ between batch sizes), and
the C returns the sign of the correctly rounded score. decision_function and predict_proba are
computed from the correctly rounded scores in double (exp from <math.h>) and rounded to float.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar, Literal

import numpy as np

from tinycodegen.core.base import ModelMeta, Reference, rejected_rows
from tinycodegen.core.members import linear_score_band, standard_outputs
from tinycodegen.core.numerics import (
    AMAX,
    FLT_MAX,
    TINY32,
    U32,
    U64,
    bound_const,
    exact_dot,
    gamma,
    lane_dot32,
    lane_height,
    normal_or_zero32,
    proba_from_scores,
)
from tinycodegen.core.preprocess import InputTransform, model_inputs
from tinycodegen.families.linear.fold import FoldedFast, fold_linear, folded_bound_ok, folded_scores

# "ovr_nan": one-vs-rest as scikit-learn before 1.8 computes it (an all-zero row is 0 / 0)
ProbaKind = Literal["none", "sigmoid", "softmax", "ovr", "ovr_nan", "mhuber"]
PROBA_KINDS = ("none", "sigmoid", "softmax", "ovr", "ovr_nan", "mhuber")


@dataclass(frozen=True)
class FastBound:
    """float constants of the fast-path test ``|s| > k * a + d`` (see the module doc)."""

    k: np.float32
    d: np.float32


def fast_bound(coef32: np.ndarray, n_in: int, transformed: bool) -> FastBound:
    u = U32
    gn = gamma(lane_height(n_in), u)
    c = 2 * u + u * u if transformed else u
    k_fast = (gn * (1 + u) + 2 * u + c) / ((1 - u) * (1 - gn))
    k_sk = gamma(n_in + 1, U64) * (1 + 4 * u) / (1 - gn)
    l1 = float(np.abs(coef32.astype(np.float64)).sum(axis=1).max(initial=0.0))
    d = max((4 * n_in + 8 + 2 * l1 * (1 + 2 * u)) * 2.0**-150, TINY32)
    return FastBound(k=bound_const(k_fast + k_sk), d=bound_const(d))


@dataclass(frozen=True, eq=False)
class LinearIR:
    meta: ModelMeta
    coef: np.ndarray  # float64 (k, n): one row = binary sign rule, k >= 2 rows = arg-max
    intercept: np.ndarray  # float64 (k,)
    proba: ProbaKind  # how sklearn's predict_proba maps the scores
    transform: InputTransform | None = None
    kind: str = field(default="linear", init=False)
    stacking_final: ClassVar[bool] = True  # a StackingClassifier's final estimator may be one
    # as a member: its predict rejects exactly where tcg_input_ok (or its NAME_input) does
    plain_input_check: ClassVar[bool] = True
    # as a Voting / Stacking / Calibrated member (core.members)
    sklearn_bitwise: ClassVar[bool] = False

    @property
    def decision_width(self) -> int:
        return int(self.n_scores)

    def with_sigmoid(self, a: float, b: float) -> LinearIR:
        """This model with the sigmoid 1 / (1 + exp(a s + b)) of its score as predict_proba."""
        coef = -a * self.coef
        intercept = -(a * self.intercept) - b
        return dataclasses.replace(self, coef=coef, intercept=intercept, proba="sigmoid")

    def score_band(self, X: np.ndarray) -> np.ndarray:
        return linear_score_band(self, X)

    def member_outputs(self, X: np.ndarray, need: str) -> tuple:
        return standard_outputs(self, X, need)

    def __post_init__(self) -> None:
        k, n = self.coef.shape
        if self.intercept.shape != (k,):
            raise ValueError("linear IR: intercept width differs from the number of score rows")
        if (k == 1 and self.meta.n_classes != 2) or (k > 1 and k != self.meta.n_classes):
            raise ValueError(f"linear IR: {k} score rows for {self.meta.n_classes} classes")
        if self.proba not in PROBA_KINDS:
            raise ValueError(f"linear IR: unknown probability kind {self.proba!r}")
        width = self.meta.n_features if self.transform is None else self.transform.n_outputs
        if width != n:
            raise ValueError(f"linear IR: coefficients take {n} inputs, the input gives {width}")
        for arr in (self.coef, self.intercept):
            arr.setflags(write=False)

    @property
    def n_inputs(self) -> int:
        """Width of the vector the scores are computed on (after the transform)."""
        return int(self.coef.shape[1])

    @property
    def n_scores(self) -> int:
        return int(self.coef.shape[0])

    @property
    def binary(self) -> bool:
        return self.n_scores == 1

    @property
    def coef32(self) -> np.ndarray:
        return self.coef.astype(np.float32)

    @property
    def intercept32(self) -> np.ndarray:
        return self.intercept.astype(np.float32)

    @property
    def fast(self) -> FastBound | None:
        """Constants of the float fast path, or None when a weight is not a normal float."""
        if not (normal_or_zero32(self.coef) and normal_or_zero32(self.intercept)):
            return None
        return fast_bound(self.coef32, self.n_inputs, self.transform is not None)

    @cached_property
    def folded(self) -> FoldedFast | None:
        """The fast path on the raw input with the transform folded in (ir/linear_fold.py)."""
        if self.transform is None or self.fast is None:
            return None
        return fold_linear(self.coef, self.intercept, self.transform)

    # ---- reference evaluator ---------------------------------------------------------------
    def rejected(self, X: np.ndarray) -> np.ndarray:
        if self.transform is None:
            return rejected_rows(X, "reject")
        return np.asarray(self.transform.rejects(X), dtype=bool)

    def inputs(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rejected rows, float64 model inputs with rejected rows zeroed)."""
        X = np.asarray(X, dtype=np.float32)
        bad = self.rejected(X)
        z = model_inputs(self.transform, np.where(bad[:, None], np.float32(0), X))
        z[bad] = 0.0
        return bad, z

    def decision(self, X: np.ndarray) -> np.ndarray:
        """Correctly rounded scores (rows, k) as the C's exact path computes them."""
        bad, z = self.inputs(X)
        m = exact_dot(self.coef.T, self.intercept, z)
        m[bad] = 0.0
        return m

    def rule(self, m: np.ndarray) -> np.ndarray:
        if self.binary:
            return (m[:, 0] > 0.0).astype(np.int32)
        return np.argmax(m, axis=1).astype(np.int32)

    def fast_decide(self, z: np.ndarray, X: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Replay of the C fast path: (decided rows, class index where decided); from the raw
        rows X when the transform is folded, else from the model inputs z."""
        rows = z.shape[0]
        fb = self.fast
        if fb is None:
            return np.zeros(rows, dtype=bool), np.zeros(rows, dtype=np.int32)
        if self.folded is not None and X is not None:
            usable, s, a = folded_scores(self.folded, X)
            small, bound = folded_bound_ok(self.folded, a)
            return self._decide(s, bound, usable & small)
        big = np.zeros(rows, dtype=bool)
        if self.transform is not None:
            big = (np.abs(z) > FLT_MAX).any(axis=1)
        xf = np.where(big[:, None], 0.0, z).astype(np.float32)
        s, a = lane_dot32(self.coef32, self.intercept32, xf)
        with np.errstate(all="ignore"):
            bound = fb.k * a + fb.d
            ok = (a <= np.float32(AMAX)).all(axis=1) & ~big
        return self._decide(s, bound, ok)

    def _decide(self, s: np.ndarray, bound: np.ndarray, ok: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        rows = s.shape[0]
        with np.errstate(all="ignore"):
            if self.binary:
                one, zero = s[:, 0] > bound[:, 0], s[:, 0] < -bound[:, 0]
                return ok & (one | zero), one.astype(np.int32)
            best = np.argmax(s, axis=1)
            r = np.arange(rows)
            sure = ok.copy()
            for c in range(self.n_scores):
                diff = s[r, best] - s[:, c]
                room = bound[r, best] + bound[:, c]
                sure &= (best == c) | (diff > room)
        return sure, best.astype(np.int32)

    def reference(self, X: np.ndarray) -> Reference:
        bad, z = self.inputs(X)
        m = exact_dot(self.coef.T, self.intercept, z)
        decided, fast_pred = self.fast_decide(z, np.asarray(X, dtype=np.float32))
        predict = np.where(decided, fast_pred, self.rule(m)).astype(np.int32)
        proba = proba_from_scores(self.proba, m, self.meta.n_classes)
        predict[bad] = -1
        proba[bad] = 0.0
        return Reference(predict=predict, proba=proba, fallback=~decided & ~bad)
