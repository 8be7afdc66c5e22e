"""IR of a kernel SVM classifier (SVC, NuSVC) and its reference evaluator.

sklearn's predict is libsvm's one-vs-one vote: pair (i, j) votes i when its decision value
``sum_k coef_k * K(x, sv_k) - rho`` is > 0, else j; the first class with the most votes wins
(with ``break_ties`` and the ovr shape: the arg-max of the ovr decision function).

The C decides in two steps, mirrored here:

* fast path (rbf kernel): kernel values and pair sums in float, plus a running bound on how far
  they can be from libsvm's double values (see :mod:`tinycodegen.families.svm.bounds`). When every
  pair's float value is farther from 0 than its bound, the signs, hence the vote, are libsvm's.
* exact path (every other row and kernel, decision_function and predict_proba): libsvm's
  double arithmetic operation for operation (:mod:`tinycodegen.families.svm.exact`), including the
  summation order of the BLAS ddot libsvm calls for every kernel value (``dot_order``, probed
  on the compiling host among the replayed OpenBLAS kernels, see ``svm_blas.md``;
  "sequential" for models fitted on sparse input, whose libsvm kernels are plain loops) and
  libm's exp / tanh.

Guarantee: predict, decision_function and predict_proba are sklearn's on the compiling host
(same BLAS kernel, same libm); on another libm only exp / tanh can differ in their last bits,
which can move predict only through the exact path or through predict_proba / the ovr values.
A host BLAS matching no replayed order (``dot_exact`` False) gets the sequential order: equal
to sklearn except inside its rounding band (guarantee "band").
Support vectors are stored once as float when every value is a float (models trained on float
data), else as double plus a float copy for the fast path.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import numpy as np

from tinycodegen.core.base import ModelMeta, Reference, rejected_rows
from tinycodegen.core.preprocess import InputTransform, model_inputs
from tinycodegen.families.svm import exact as ex
from tinycodegen.families.svm.bounds import FastConstants, fast_constants, fast_decide

KERNELS = ("linear", "poly", "rbf", "sigmoid")
FAST_KERNELS = ("rbf",)


class OvoLayout:
    """libsvm's one-vs-one layout, shared by the float and the quantized SVC IR (which hold
    ``meta`` and ``n_support``: support vectors per class, grouped by class)."""

    meta: ModelMeta
    n_support: np.ndarray

    @property
    def pairs(self) -> list[tuple[int, int]]:
        """The class pairs in libsvm's order."""
        k = self.meta.n_classes
        return [(i, j) for i in range(k) for j in range(i + 1, k)]

    @property
    def start(self) -> np.ndarray:
        """Index of each class's first support vector."""
        return np.concatenate([[0], np.cumsum(self.n_support)[:-1]]).astype(np.int64)


@dataclass(frozen=True, eq=False)
class SVCIR(OvoLayout):
    meta: ModelMeta
    kernel: str
    gamma: float
    coef0: float
    degree: int
    sv: np.ndarray  # float64 (n_sv, width), grouped by class as libsvm stores them
    n_support: np.ndarray  # int32 (n_classes,)
    dual_coef: np.ndarray  # float64 (n_classes - 1, n_sv): libsvm's sv_coef
    rho: np.ndarray  # float64 (n_pairs,): libsvm's rho (= -sklearn's _intercept_)
    prob_a: np.ndarray | None  # float64 (n_pairs,) Platt parameters, when probability=True
    prob_b: np.ndarray | None
    ovr: bool  # decision_function_shape == "ovr"
    break_ties: bool
    dot_order: str  # summation order of the host BLAS ddot (svm_exact.DOT_ORDERS)
    transform: InputTransform | None = None
    dot_exact: bool = True  # dot_order is the host BLAS's; False: a fallback, C equal up to band
    blas: str = ""  # the BLAS the order was probed on (for the header)
    kind: str = field(default="svc", init=False)
    # as a member: its predict rejects exactly where tcg_input_ok (or its NAME_input) does
    plain_input_check: ClassVar[bool] = True
    # as a Voting / Stacking / Calibrated member (core.members)
    sklearn_bitwise: ClassVar[bool] = True

    def with_sigmoid(self, a: float, b: float) -> SVCIR:
        """This SVC with Platt's sigmoid 1 / (1 + exp(a d + b)) as its predict_proba."""
        return dataclasses.replace(self, prob_a=np.array([a]), prob_b=np.array([-b]))

    def member_outputs(self, X: np.ndarray, need: str) -> tuple:
        n = len(X)
        ref = self.reference(X, with_proba=False)
        if need == "predict":
            return ref.predict, None, None, np.zeros((n, 1))
        bad, z = self.inputs(X)
        dec = self.exact_decision_values(z)
        if need == "predict_proba":
            p = self.exact_proba(dec)
            p[bad] = 0.0
            return ref.predict, p, None, np.zeros(p.shape)
        d = self.sklearn_decision(dec).reshape(n, -1)
        d[bad] = 0.0
        return ref.predict, None, d, np.zeros(d.shape)

    def __post_init__(self) -> None:
        k = self.meta.n_classes
        if self.kernel not in KERNELS:
            raise ValueError(f"svc IR: unknown kernel {self.kernel!r}")
        if self.dot_order not in ex.DOT_ORDERS:
            raise ValueError(f"svc IR: unknown ddot order {self.dot_order!r}")
        if len(self.n_support) != k or int(self.n_support.sum()) != len(self.sv):
            raise ValueError("svc IR: n_support does not match the support vectors")
        if self.dual_coef.shape != (k - 1, len(self.sv)) or len(self.rho) != self.n_pairs:
            raise ValueError("svc IR: coefficient shapes do not match the classes")
        for arr in (self.sv, self.n_support, self.dual_coef, self.rho, self.prob_a,
                    self.prob_b):
            if arr is not None:
                arr.setflags(write=False)

    # ---- structure ---------------------------------------------------------------------------
    @property
    def n_sv(self) -> int:
        return len(self.sv)

    @property
    def width(self) -> int:
        """Length of the vector the kernel sees (after any input transform)."""
        return self.sv.shape[1]

    @property
    def n_pairs(self) -> int:
        k = self.meta.n_classes
        return k * (k - 1) // 2

    @property
    def has_proba(self) -> bool:
        return self.prob_a is not None and self.prob_b is not None

    @property
    def decision_width(self) -> int:
        k = self.meta.n_classes
        return 1 if k == 2 else (k if self.ovr else self.n_pairs)

    @cached_property
    def pair_terms(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per pair (i, j): SV indices (class i's, then class j's) and their coefficients."""
        st, ns = self.start, self.n_support
        idx, coef = [], []
        for i, j in self.pairs:
            a = np.arange(st[i], st[i] + ns[i])
            b = np.arange(st[j], st[j] + ns[j])
            idx.append(np.concatenate([a, b]))
            coef.append(np.concatenate([self.dual_coef[j - 1, a], self.dual_coef[i, b]]))
        return idx, coef

    @property
    def sv_exact_f32(self) -> bool:
        """Every support vector value is a float: the C stores them once, as float."""
        return bool((self.sv.astype(np.float32).astype(np.float64) == self.sv).all())

    @property
    def has_fast_path(self) -> bool:
        return self.kernel in FAST_KERNELS

    @cached_property
    def fast(self) -> FastConstants | None:
        return fast_constants(self) if self.has_fast_path else None

    # ---- exact path (libsvm, bit for bit) ----------------------------------------------------
    def exact_decision_values(self, z: np.ndarray, chunk: int = 256) -> np.ndarray:
        """libsvm's dec_values (n, n_pairs) for float64 model inputs z."""
        out = np.empty((len(z), self.n_pairs))
        idx, coef = self.pair_terms
        for s in range(0, len(z), chunk):
            k = ex.kernel_values(z[s:s + chunk], self.sv, self.kernel, self.gamma, self.coef0,
                                 self.degree, self.dot_order)
            out[s:s + chunk] = ex.pair_sums(k, idx, coef, self.rho)
        return out

    def sklearn_decision(self, dec: np.ndarray) -> np.ndarray:
        """sklearn's decision_function from libsvm's values (binary: -dec; ovr transform)."""
        k = self.meta.n_classes
        if k == 2:
            return -dec
        if self.ovr:
            return ex.ovr_decision(dec, self.pairs, k)
        return dec

    def exact_predict(self, dec: np.ndarray) -> np.ndarray:
        k = self.meta.n_classes
        if self.break_ties and self.ovr and k > 2:
            return np.argmax(ex.ovr_decision(dec, self.pairs, k), axis=1).astype(np.int32)
        return ex.vote(dec, self.pairs, k)

    def exact_proba(self, dec: np.ndarray) -> np.ndarray:
        assert self.prob_a is not None and self.prob_b is not None
        return ex.probability(dec, self.pairs, self.meta.n_classes, self.prob_a, self.prob_b)

    # ---- reference: what the C returns -------------------------------------------------------
    def inputs(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rejected rows, float64 model inputs with rejected rows zeroed)."""
        X = np.asarray(X, dtype=np.float32)
        if self.transform is not None:
            bad = np.asarray(self.transform.rejects(X), dtype=bool)
        else:
            bad = rejected_rows(X, "reject")
        clean = np.where(bad[:, None], np.float32(0), X).astype(np.float32)
        return bad, model_inputs(self.transform, clean)

    def reference(self, X: np.ndarray, with_proba: bool = True) -> Reference:
        bad, z = self.inputs(X)
        n = len(z)
        decided = np.zeros(n, dtype=bool)
        predict = np.zeros(n, dtype=np.int32)
        if self.fast is not None:
            decided, predict = fast_decide(self, self.fast, z)
        decided &= ~bad
        need = ~bad & ~decided
        proba = None
        if with_proba and self.has_proba:
            dec = self.exact_decision_values(z)
            predict[need] = self.exact_predict(dec[need])
            proba = self.exact_proba(dec)
            proba[bad] = 0.0
        elif need.any():
            predict[need] = self.exact_predict(self.exact_decision_values(z[need]))
        predict[bad] = -1
        return Reference(predict=predict, proba=proba, fallback=need)
