"""IR of a quantized RBF or linear-kernel SVC ("qsvm"), built by ``passes/quantize_svm.py``;
``reference`` defines its integer arithmetic bit for bit (``emit/emit_qsvm.py`` matches it).

**Inputs** are the unsigned input codes u_j in [0, qmax] of the quantized linear models and MLPs
(``ir/qnet.py`` QInput: same calibration, same integer code computation, same rejection rule).
Support vectors are stored as codes s_kj on the same grid (rounded half up, clamped).

**Kernel.** Squared distance ``d2 = sum_j w_j (u_j - s_kj)^2`` with small per-input integer
weights w_j (all 1 when every input has the same step), in int32 (int64 for int16); one unit of
d2 is ``d2_unit`` squared model-input units. Kernel value, a 16-bit fixed-point
``65535 * exp(-gamma * d2_unit * d2)``: ``r = requant(min(d2, k_clamp), k_mult, k_shift)`` (the
argument in units of 16 / 65536) then ``K = interp(exp_table, 65536 - min(r, 65536))``
(``ir/qnet_ops.py``: the softmax's exp table over [-16, 0]; exp(-16) rounds to 0).

**Decision.** Integer dual coefficients c (int16 for int8, int32 for int16; one scale for the
model) and, per class pair (i, j) in libsvm's order, ``dec = sum_k c_k K_k - rho`` in int64
over class i's then class j's support vectors (libsvm's ``sv_coef`` layout); ``rho`` integer on
the same scale. predict: libsvm's one-vs-one vote (dec > 0 votes i, else j; the first class
with the most votes). ``break_ties`` is not replayed (the vote decides).

**Linear kernel.** Each pair's decision function is linear in the model inputs,
``w_p . z - rho_p`` with ``w_p = sum_k c_k sv_k``: it is stored as a quantized linear model over
the input codes (``passes/qnet_common``: weights folded onto the code grid, one shared scale,
int8 / int16 weights, integer bias), ``dec = lin_b + lin_w . u`` in int32 (int64 for int16).

**predict_proba** (binary models fitted with probability=True): Platt's
``P(class 0) = 1 / (1 + exp(A dec + B))`` as a 16-bit sigmoid: the logit
``L = p_sign * requant(clamp(dec, -p_clamp, p_clamp), p_mult, p_shift) + p_bias`` in units of
``SIG_UNIT`` (1/2048), ``P = sigmoid_q(L)`` and proba ``[P, 65535 - P] / 65535`` (correctly
rounded floats of two integers, as qnet). Multi-class probabilities (libsvm's iterative
pairwise coupling) are not quantized: the quantizer refuses them. Without Platt parameters
predict_proba writes zeros.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from tinycodegen.core.base import ModelMeta, Reference
from tinycodegen.core.preprocess import InputTransform
from tinycodegen.families.mlp import qnet_ops as ops
from tinycodegen.families.mlp.qnet import QInput, QLayer
from tinycodegen.families.svm.ir import OvoLayout

CMAX = {"int8": 2**15 - 1, "int16": 2**23 - 1}  # |dual coefficient code|
KMAX = 65535  # kernel values: 16-bit fixed point
EXACT_F64 = 2.0**53


@dataclass(frozen=True, eq=False)
class QPlatt:
    mult: int
    shift: int
    clamp: int  # |dec| clamp before the requantization (the sigmoid saturates beyond it)
    sign: int  # +1 / -1
    bias: int  # logit offset, SIG_UNIT units


@dataclass(frozen=True, eq=False)
class QSVMIR(OvoLayout):
    meta: ModelMeta
    mode: str  # "int8" | "int16"
    inp: QInput
    sv: np.ndarray  # int64 (n_sv, n_inputs): support vector codes in [0, qmax]
    wdist: np.ndarray  # int64 (n_inputs,): distance weight per input (>= 0)
    d2_unit: float  # real squared distance per unit of d2 (documentation, analysis)
    k_mult: int
    k_shift: int
    k_clamp: int
    n_support: np.ndarray  # int64 (n_classes,)
    coef: np.ndarray  # int64 (n_classes - 1, n_sv): libsvm's sv_coef layout
    rho: np.ndarray  # int64 (n_pairs,)
    coef_scale: float  # real value of one unit of dec
    platt: QPlatt | None = None
    lin_w: np.ndarray | None = None  # linear kernel: int64 (n_pairs, n_inputs)
    lin_b: np.ndarray | None = None  # int64 (n_pairs,)
    transform: InputTransform | None = None
    stats: dict[str, object] = field(default_factory=dict)
    kind: str = field(default="qsvm", init=False)

    # ---- as a member of a quantized VotingClassifier (families/hybrid/qir.py) ----
    @property
    def has_qproba(self) -> bool:
        return self.has_proba

    qproba_max_den: ClassVar[int] = 65535

    def vote_qproba(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.qproba(X)


    def __post_init__(self) -> None:
        k = self.meta.n_classes
        if self.mode not in ops.QMAX:
            raise ValueError(f"qsvm: bad mode {self.mode!r}")
        if len(self.n_support) != k or int(self.n_support.sum()) != len(self.sv):
            raise ValueError("qsvm: n_support does not match the support vectors")
        if self.coef.shape != (k - 1, len(self.sv)) or len(self.rho) != k * (k - 1) // 2:
            raise ValueError("qsvm: coefficient shapes do not match the classes")
        if self.sv.shape[1] != self.inp.n_inputs or len(self.wdist) != self.inp.n_inputs:
            raise ValueError("qsvm: support vectors do not match the inputs")
        if self.sv.min(initial=0) < 0 or self.sv.max(initial=0) > self.inp.qmax:
            raise ValueError("qsvm: support vector code outside [0, qmax]")
        if self.d2_max >= ops.ACC_LIMIT[self.mode] or self.wdist.min(initial=0) < 0:
            raise ValueError("qsvm: squared distance could overflow")
        if np.abs(self.coef).max(initial=0) > CMAX[self.mode]:
            raise ValueError("qsvm: dual coefficient outside the integer range")
        if self.acc_max >= 2**62:
            raise ValueError("qsvm: decision accumulator could overflow")
        if self.k_clamp * (self.k_mult + 1) >= 2**62:
            raise ValueError("qsvm: kernel requantization could overflow")
        if self.platt is not None and (k != 2 or self.platt.clamp * (self.platt.mult + 1)
                                       >= 2**62 or abs(self.platt.bias) >= 2**40):
            raise ValueError("qsvm: Platt scaling only for binary models, within int64")
        if self.lin_w is not None and self.lin_b is not None:
            worst = np.abs(self.lin_w).sum(axis=1) * self.inp.qmax + np.abs(self.lin_b)
            if (self.lin_w.shape != (len(self.rho), self.inp.n_inputs) or np.abs(
                    self.lin_w).max(initial=0) > ops.SMAX[self.mode]
                    or worst.max(initial=0) >= ops.ACC_LIMIT[self.mode]):
                raise ValueError("qsvm: linear weights outside the integer ranges")
            self.lin_w.setflags(write=False)
            self.lin_b.setflags(write=False)
        for a in (self.sv, self.wdist, self.n_support, self.coef, self.rho):
            a.setflags(write=False)

    # ---- structure ---------------------------------------------------------------------------
    @property
    def linear(self) -> bool:
        return self.lin_w is not None

    @property
    def layers(self) -> tuple[QLayer, ...]:
        """Linear kernel: the pairs' decision functions as one output layer (qnet's writer)."""
        assert self.lin_w is not None and self.lin_b is not None
        empty = np.zeros(0, dtype=np.int64)
        return (QLayer(weight=self.lin_w, bias=self.lin_b, act="out", mult=empty,
                       shift=empty),)

    @property
    def n_sv(self) -> int:
        return len(self.sv)

    @property
    def d2_max(self) -> int:
        return int(self.wdist.sum()) * self.inp.qmax**2

    @property
    def acc_max(self) -> int:
        return self.n_sv * CMAX[self.mode] * KMAX + int(np.abs(self.rho).max(initial=0))

    @property
    def has_proba(self) -> bool:
        return self.platt is not None

    def pair_coef(self) -> np.ndarray:
        """int64 (n_sv, n_pairs): each SV's coefficient in each pair's sum (0 if absent)."""
        st, ns = self.start, self.n_support
        out = np.zeros((self.n_sv, len(self.pairs)), dtype=np.int64)
        for p, (i, j) in enumerate(self.pairs):
            a = slice(st[i], st[i] + ns[i])
            b = slice(st[j], st[j] + ns[j])
            out[a, p] = self.coef[j - 1, a]
            out[b, p] = self.coef[i, b]
        return out

    # ---- reference evaluator (integers only) ------------------------------------------------
    def kernel(self, d2: np.ndarray) -> np.ndarray:
        r = ops.requant(np.minimum(d2, self.k_clamp), self.k_mult, self.k_shift)
        return ops.interp(ops.exp_table(), ops.LUT_X - np.minimum(r, ops.LUT_X))

    def distances(self, u: np.ndarray) -> np.ndarray:
        """int64 (n, n_sv) squared distances of code rows u (exact: every partial sum is an
        integer below 2**53, so float64 products and sums are exact in any order)."""
        w = self.wdist.astype(np.float64)
        s = self.sv.astype(np.float64)
        uf = u.astype(np.float64)
        d2 = ((uf * uf) @ w)[:, None] + ((s * s) @ w)[None, :] - 2.0 * (uf @ (s * w).T)
        return np.rint(d2).astype(np.int64)

    def decision(self, X: np.ndarray, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
        """(rejected rows, int64 dec (n, n_pairs); rejected rows all 0)."""
        bad, u = self.inp.codes(X)
        if self.lin_w is not None and self.lin_b is not None:
            out = u @ self.lin_w.T + self.lin_b[None, :]
            out[bad] = 0
            return bad, out
        pc = self.pair_coef()
        exact = self.n_sv * KMAX * CMAX[self.mode] < EXACT_F64
        out = np.zeros((len(u), len(self.pairs)), dtype=np.int64)
        for s in range(0, len(u), chunk):
            kv = self.kernel(self.distances(u[s:s + chunk]))
            if exact:
                acc = np.rint(kv.astype(np.float64) @ pc.astype(np.float64)).astype(np.int64)
            else:
                acc = kv @ pc
            out[s:s + chunk] = acc - self.rho[None, :]
        out[bad] = 0
        return bad, out

    def rule(self, dec: np.ndarray) -> np.ndarray:
        votes = np.zeros((len(dec), self.meta.n_classes), dtype=np.int64)
        for p, (i, j) in enumerate(self.pairs):
            pos = dec[:, p] > 0
            votes[pos, i] += 1
            votes[~pos, j] += 1
        return np.argmax(votes, axis=1).astype(np.int32)

    def platt_p(self, dec: np.ndarray) -> np.ndarray:
        """16-bit P(class 0) from the binary decision values (n,)."""
        pl = self.platt
        assert pl is not None
        d = pl.sign * np.clip(dec, -pl.clamp, pl.clamp)
        return ops.sigmoid_q(ops.requant(d, pl.mult, pl.shift) + pl.bias)

    def qproba(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(numerators (n, 2), denominators (n,)) of predict_proba; 0 / 0 for rejected rows."""
        bad, dec = self.decision(X)
        return self._proba_ints(bad, dec)

    def _proba_ints(self, bad: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n, k = len(dec), self.meta.n_classes
        if self.platt is None:
            return np.zeros((n, k), np.int64), np.zeros(n, np.int64)
        p = self.platt_p(dec[:, 0])
        num = np.stack([p, KMAX - p], axis=1).astype(np.int64)
        den = np.full(n, KMAX, dtype=np.int64)
        num[bad] = 0
        den[bad] = 0
        return num, den

    def reference(self, X: np.ndarray) -> Reference:
        bad, dec = self.decision(X)
        predict = self.rule(dec)
        num, den = self._proba_ints(bad, dec)
        proba = np.zeros(num.shape, dtype=np.float32)
        ok = den > 0
        proba[ok] = num[ok].astype(np.float32) / den[ok].astype(np.float32)[:, None]
        predict[bad] = -1
        return Reference(predict=predict, proba=proba.astype(np.float64), fallback=None)
