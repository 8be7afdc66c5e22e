"""IR of an MLPClassifier: dense layers, one hidden activation, logistic or softmax output.

sklearn computes each layer as ``act(h @ W + b)`` in double and predicts class 1 when
``expit(logit) > 0.5`` (one output unit) or the first arg-max of the softmax. ``expit(o) > 0.5``
holds exactly when ``o >= threshold`` (the smallest double for which scipy's expit exceeds 1/2,
about 1.67e-16, found by the loader), and the softmax keeps the order of the logits, so predict
never evaluates the output activation.

**Fast path (float).** Layers in float (weights, input rounded to float), hidden activations
from ``tcg_act32.h`` (+ - * / only, absolute error <= EPS32, checked over every float input by
benchmarks/verify_act32.py). Per layer the C carries two floats: H >= max |h_i| and E, which
bounds both |its hidden values - the exact real network's| and |sklearn's double values - the
exact real network's|. Standard error analysis (as in ir/linear.py; u = 2**-24, gamma_n over the
n inputs, g = gamma_{n+1}(2**-53) for sklearn's BLAS sums in any order) gives for every unit j

    |pre_j - exact pre_j| <= alpha H + beta + nu E,   then   E' = lambda E_pre + eps

    alpha = max_j (gamma_n (1+u) + u) N1_j + D_j + g Nw_j     (N1_j = sum_i |wf_ij|,
    beta  = max_j gamma_n |bf_j| + |b_j - bf_j| + g |b_j|      Nw_j = sum_i |w_ij|,
    nu    = max_j (1 + 2g) Nw_j                                D_j = sum_i |w_ij - wf_ij|)

with lambda the activation's Lipschitz constant (1, 1/4 for logistic) and eps = max(EPS32,
EPS64), EPS64 = 2**-48 covering numpy's tanh and scipy's expit in double (and libm's, used by
this code's exact path, whose correctly rounded sums the same terms also bound). The output
layer adds, per logit c, its computed sum of magnitudes A_c = |bf_c| + sum_i |fl(wf_ic h_i)|:

    |fast logit - sklearn's logit| <= K A_c + (D_c + g Nw_c) H + 2 (1 + g) Nw_c E
                                      + |b_c - bf_c| + g |b_c|,  K = (gamma_n + u/(1-u))/(1-gamma_n)

All constants are inflated and rounded up as in ir/linear.py. When the logit (logit difference)
clears this bound the float answer is sklearn's (and the exact path's); NaN/inf anywhere leaves
the fast path. Weights of any magnitude below 2**100 are covered (tiny or subnormal ones enter
through D); beyond that the fast path is off.

**Exact path (double).** Every unit's pre-activation correctly rounded (tcg_eft.h), hidden tanh
and logistic from <math.h> (logistic as scipy's expit: 1 / (1 + exp(-a))). This differs from
sklearn's BLAS result by a few units in the last place (and numpy's own tanh differs from libm's
in the last bit for about a quarter of inputs), so the guarantee is: C == sklearn unless the
output logit (difference) lies within that double-rounding band of the boundary.

Underflow. Dekker's split is exact while every product w h is 0 or at least 2**-969 in
magnitude. sklearn's default L2 decay (alpha = 1e-4) drives the weights of inputs that are
constant in training (one-hot columns of unseen categories, constant columns) to subnormal
doubles, whose products fall below that; the loader accepts them (refusing them would refuse the
default MLPClassifier on NSL-KDD). For such a product the pieces carry at most 5 roundings of
2**-1075 each, so a pre-activation's exact sum is known to within n 2**-1072 (absolute): its
rounding can differ from the correct one only when the exact value lies within that distance of
a rounding boundary, an absolute band about 2**-1000 wide that adds to sklearn's own (never
observed: 0 mismatches on NSL-KDD with alpha = 1e-4). The same holds for hidden values that are
themselves below 2**-369.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import numpy as np

from tinycodegen.core.base import ModelMeta, Reference, rejected_rows
from tinycodegen.core.members import standard_outputs
from tinycodegen.core.numerics import (
    AMAX,
    FLT_MAX,
    TINY32,
    U32,
    U64,
    bound_const,
    exact_dot,
    gamma,
    layer32,
    proba_from_scores,
)
from tinycodegen.core.preprocess import InputTransform, model_inputs
from tinycodegen.families.linear.fold import FoldedFast, fold_linear, folded_bound_ok, folded_scores
from tinycodegen.families.mlp.activations import (
    ACTIVATIONS,
    EPS32,
    EPS64,
    LIPSCHITZ,
    Activation,
    act32,
    act64,
)


@dataclass(frozen=True)
class MLPBound:
    """float constants of the fast path (see the module doc)."""

    alpha: tuple[np.float32, ...]  # per hidden layer
    beta: tuple[np.float32, ...]
    nu: tuple[np.float32, ...]
    lam: np.float32
    eps: np.float32
    k_out: np.float32
    h_out: np.ndarray  # float32 per output unit: coefficient of H
    mu_out: np.ndarray  # float32 per output unit: coefficient of E
    b_out: np.ndarray  # float32 per output unit: constant term (underflow slack included)
    tiny: np.float32
    t_up: np.float32  # threshold rounded up (binary)
    e0: np.float32  # relative error of narrowing transformed inputs to float


def _layer_terms(w: np.ndarray, b: np.ndarray) -> tuple:
    """gamma_n (float), g (double, any order), and per unit: N1 = sum |wf|, Nw = sum |w|,
    D = sum |w - wf| (all rounded up past double summation error), bf = b rounded to float."""
    n = w.shape[0]
    up = 1.0 + 2 * (n + 1) * U64
    wf = w.astype(np.float32).astype(np.float64)
    n1, nw, d = (np.abs(v).sum(axis=0) * up for v in (wf, w, w - wf))
    return gamma(n, U32), gamma(n + 1, U64), n1, nw, d, b.astype(np.float32).astype(np.float64)


def _consts(v: np.ndarray) -> np.ndarray:
    return np.asarray([bound_const(float(x)) for x in v], dtype=np.float32)


@dataclass(frozen=True, eq=False)
class MLPIR:
    meta: ModelMeta
    weights: tuple[np.ndarray, ...]  # float64 (n_in, n_out) per layer, sklearn's coefs_ layout
    biases: tuple[np.ndarray, ...]  # float64 (n_out,) per layer
    activation: Activation  # hidden layers
    threshold: float  # one output unit: class 1 iff logit >= threshold
    transform: InputTransform | None = None
    kind: str = field(default="mlp", init=False)
    # as a member: its predict rejects exactly where tcg_input_ok (or its NAME_input) does
    plain_input_check: ClassVar[bool] = True
    # as a Voting / Stacking / Calibrated member (core.members)
    sklearn_bitwise: ClassVar[bool] = False
    decision_width: ClassVar[None] = None

    def member_outputs(self, X: np.ndarray, need: str) -> tuple:
        return standard_outputs(self, X, need)

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"MLP IR: unknown activation {self.activation!r}")
        if len(self.weights) != len(self.biases) or len(self.weights) < 1:
            raise ValueError("MLP IR: one bias vector per weight matrix needed")
        for w, b, w2 in zip(self.weights, self.biases, self.weights[1:] + (None,), strict=True):
            if w.shape[1] != len(b) or (w2 is not None and w2.shape[0] != w.shape[1]):
                raise ValueError("MLP IR: layer shapes do not chain")
            w.setflags(write=False)
            b.setflags(write=False)
        k = self.n_outputs
        if (k == 1 and self.meta.n_classes != 2) or (k > 1 and k != self.meta.n_classes):
            raise ValueError(f"MLP IR: {k} outputs for {self.meta.n_classes} classes")
        width = self.meta.n_features if self.transform is None else self.transform.n_outputs
        if width != self.n_inputs:
            raise ValueError(f"MLP IR: first layer takes {self.n_inputs} inputs, not {width}")

    @property
    def n_inputs(self) -> int:
        return int(self.weights[0].shape[0])

    @property
    def n_outputs(self) -> int:
        return int(self.weights[-1].shape[1])

    @property
    def binary(self) -> bool:
        return self.n_outputs == 1

    @property
    def widths(self) -> tuple[int, ...]:
        return (self.n_inputs,) + tuple(int(w.shape[1]) for w in self.weights)

    @property
    def fast_ok(self) -> bool:
        """Every weight and bias below 2**100 in magnitude (finite float bounds)."""
        return all(float(np.abs(a).max(initial=0.0)) < 2.0**100 for a in self.weights + self.biases)

    @property
    def bound(self) -> MLPBound:
        u = U32
        alpha, beta, nu = [], [], []
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            gn, g, n1, nw, d, bf = _layer_terms(w, b)
            alpha.append(bound_const(float(((gn * (1 + u) + u) * n1 + d + g * nw).max())))
            beta.append(bound_const(float((gn * np.abs(bf) + np.abs(b - bf) + g * np.abs(b))
                                          .max()) + TINY32))
            nu.append(bound_const(float(((1 + 2 * g) * nw).max())))
        w, b = self.weights[-1], self.biases[-1]
        gn, g, n1, nw, d, bf = _layer_terms(w, b)
        k_out = (gn + u / (1 - u)) / (1 - gn)
        eps = max(EPS32[self.activation], EPS64) if EPS32[self.activation] else 0.0
        return MLPBound(
            alpha=tuple(alpha), beta=tuple(beta), nu=tuple(nu),
            lam=np.float32(LIPSCHITZ[self.activation]), eps=bound_const(eps),
            k_out=bound_const(k_out), h_out=_consts(d + g * nw),
            mu_out=_consts(2 * (1 + g) * nw),
            b_out=_consts(np.abs(b - bf) + g * np.abs(b) + 4 * TINY32),
            tiny=bound_const(4 * TINY32), t_up=bound_const(max(self.threshold, 0.0)),
            e0=bound_const(u),
        )

    @cached_property
    def folded(self) -> FoldedFast | None:
        """The first layer on the raw input with the transform folded in (ir/linear_fold.py):
        its pre-activations and bound K a_j + D replace narrowing the transformed input."""
        if self.transform is None or not self.fast_ok or len(self.weights) < 2:
            return None
        return fold_linear(self.weights[0].T, self.biases[0], self.transform)

    # ---- reference evaluator ---------------------------------------------------------------
    def inputs(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X, dtype=np.float32)
        if self.transform is None:
            bad = rejected_rows(X, "reject")
        else:
            bad = np.asarray(self.transform.rejects(X), dtype=bool)
        z = model_inputs(self.transform, np.where(bad[:, None], np.float32(0), X))
        z[bad] = 0.0
        return bad, z

    def logits(self, z: np.ndarray) -> np.ndarray:
        """The exact path's output logits (double, rows x outputs)."""
        h = z
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            h = act64(self.activation, exact_dot(w, b, h))
        return exact_dot(self.weights[-1], self.biases[-1], h)

    def rule(self, o: np.ndarray) -> np.ndarray:
        if self.binary:
            return (o[:, 0] >= self.threshold).astype(np.int32)
        return np.argmax(o, axis=1).astype(np.int32)

    def fast_decide(self, z: np.ndarray, X: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Replay of the C fast path: (decided rows, class index where decided); the first
        layer from the raw rows X when the transform is folded."""
        rows = z.shape[0]
        if not self.fast_ok:
            return np.zeros(rows, dtype=bool), np.zeros(rows, dtype=np.int32)
        bd = self.bound
        big = np.zeros(rows, dtype=bool)
        ff = self.folded if X is not None else None
        if ff is not None:
            usable, pre0, a0 = folded_scores(ff, X)
            small, bound0 = folded_bound_ok(ff, a0)
            big = ~(usable & small)
        elif self.transform is not None:
            big = (np.abs(z) > FLT_MAX).any(axis=1)
        h = np.where(big[:, None], 0.0, z).astype(np.float32)
        with np.errstate(all="ignore"):
            H = np.abs(h).max(axis=1, initial=np.float32(0))
            E = np.zeros(rows, np.float32) if self.transform is None else bd.e0 * H + bd.tiny
            for li, (w, b) in enumerate(zip(self.weights[:-1], self.biases[:-1], strict=True)):
                if li == 0 and ff is not None:
                    pre = np.where(big[:, None], np.float32(0), pre0)
                    E = np.where(big, np.float32(0), bound0.max(axis=1, initial=np.float32(0)))
                else:
                    pre = layer32(w.astype(np.float32), b.astype(np.float32), h)
                    E = (bd.alpha[li] * H + bd.beta[li]) + bd.nu[li] * E
                h = act32(self.activation, pre)
                if self.activation in ("tanh", "logistic"):
                    E = bd.lam * E + bd.eps
                    H = np.ones(rows, np.float32)
                else:
                    H = np.abs(h).max(axis=1, initial=np.float32(0))
            s, a = layer32(self.weights[-1].astype(np.float32),
                           self.biases[-1].astype(np.float32), h, with_abs=True)
            ok = (a <= np.float32(AMAX)).all(axis=1) & ~big
            bound = ((bd.k_out * a + bd.h_out[None, :] * H[:, None]) + bd.mu_out[None, :]
                     * E[:, None]) + bd.b_out[None, :]
            if self.binary:
                one = s[:, 0] > bound[:, 0] + bd.t_up
                zero = s[:, 0] < -bound[:, 0]
                return ok & (one | zero), one.astype(np.int32)
            best = np.argmax(s, axis=1)
            r = np.arange(rows)
            sure = ok.copy()
            for c in range(self.n_outputs):
                sure &= (best == c) | ((s[r, best] - s[:, c]) > (bound[r, best] + bound[:, c]))
        return sure, best.astype(np.int32)

    def reference(self, X: np.ndarray) -> Reference:
        bad, z = self.inputs(X)
        o = self.logits(z)
        decided, fast_pred = self.fast_decide(z, np.asarray(X, dtype=np.float32))
        predict = np.where(decided, fast_pred, self.rule(o)).astype(np.int32)
        kind = "sigmoid" if self.binary else "softmax"
        proba = proba_from_scores(kind, o, self.meta.n_classes)
        predict[bad] = -1
        proba[bad] = 0.0
        return Reference(predict=predict, proba=proba, fallback=~decided & ~bad)

