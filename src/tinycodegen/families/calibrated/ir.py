"""IR of a CalibratedClassifierCV: its fitted classifiers (one per fold with ensemble=True, one
with ensemble=False or a FrozenEstimator / cv="prefit") as member IRs, and their calibrators.

sklearn's predict_proba (``sklearn/calibration.py``), replayed operation for operation:

* each member's response: ``decision_function`` if it has one, else ``predict_proba``; binary:
  the single decision column or class 1's probability, multiclass: one column per class;
* each column through its calibrator, in double: sigmoid ``expit(-(a*T + b))`` (scipy's expit,
  ``1 / (1 + exp(-m))`` with the C library's exp), or isotonic ``np.interp`` of T clipped to
  ``[X_min_, X_max_]`` over ``X_thresholds_`` / ``y_thresholds_`` (numpy's formula: the value at
  a threshold itself, else ``slope * (T - x_j) + y_j``);
* binary: ``p0 = 1 - p1``; multiclass: each divided by the row sum in numpy's order, uniform
  ``1 / k`` where that sum is 0; values in ``(1, 1 + 1e-5]`` become 1;
* the members' probabilities added in member order from zero, divided by the member count;
  predict is the first arg-max of that average.

Exactness: trees', pipeline trees' and SVCs' double outputs are sklearn's bit for bit (the SVC's
under the BLAS order it was compiled for), so the calibrated probabilities and predict are
sklearn's (exp from the C library: another libm can differ in rare last bits, as for SVC's Platt
probabilities). Linear and MLP members compute their outputs within a per-row bound of sklearn's
(:mod:`tinycodegen.core.members`); the bound is carried through the calibrators (their
Lipschitz constants), the normalisation and the average, and a row whose arg-max margin is within
it is *uncertain* (reported like a fallback row): predict is sklearn's except inside sklearn's
own BLAS rounding band, the ``band`` guarantee.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from tinycodegen.core.base import ModelMeta, Reference
from tinycodegen.core.members import INFLATE, bitwise, member_outputs
from tinycodegen.core.numerics import expit
from tinycodegen.families.hybrid.ir import margin_unsure

METHODS = ("sigmoid", "isotonic")
RESPONSES = ("decision_function", "predict_proba")
CLIP_TOP = 1.0 + 1e-5  # sklearn's bound for "minimally exceeds 1.0"
ULPS = 2.0**-49  # a few double roundings of a value in [0, 1]


@dataclass(frozen=True, eq=False)
class Calibrator:
    """One column's calibrator: sigmoid (a, b) or isotonic (x, y thresholds, clip range)."""

    a: float = 0.0
    b: float = 0.0
    x: np.ndarray | None = None  # float64 increasing thresholds (isotonic)
    y: np.ndarray | None = None
    x_min: float = 0.0
    x_max: float = 0.0

    f32: bool = False  # isotonic fitted on float32 values: scipy's interp1d in float32

    @property
    def isotonic(self) -> bool:
        return self.x is not None

    def predict(self, t: np.ndarray) -> np.ndarray:
        if not self.isotonic:
            return expit(-(self.a * t + self.b))
        assert self.x is not None and self.y is not None
        if self.f32:
            x32, y32 = self.x.astype(np.float32), self.y.astype(np.float32)
            t32 = np.asarray(t).astype(np.float32)
            t32 = np.minimum(np.maximum(t32, x32[0]), x32[-1])
            return interp_f32(t32, x32, y32).astype(np.float64)
        return interp(np.minimum(np.maximum(t, self.x_min), self.x_max), self.x, self.y)

    def spread(self, t: np.ndarray, tol: np.ndarray) -> np.ndarray:
        """A bound on |p(t') - p(t)| over |t' - t| <= tol: every calibrator is monotone, so
        the values at t - tol and t + tol bracket p(t'). Computed isotonic values are monotone
        too in double (each rounding is; at a threshold the value is the threshold's own), so
        a flat stretch gives 0; float32 interp1d can step back one float32 ulp at a threshold,
        and exp from libm is not proven monotone: a few ulps more for those."""
        d = tol * INFLATE
        with np.errstate(all="ignore"):
            s = np.abs(self.predict(t + d) - self.predict(t - d)) * INFLATE
        s = np.where(np.isfinite(s), s, np.inf)
        extra = 0.0 if self.isotonic and not self.f32 else (2.0**-21 if self.f32 else ULPS)
        return np.where(tol > 0, s + extra, 0.0)


def interp(t: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """numpy's ``np.interp`` (t inside [xp[0], xp[-1]], xp strictly increasing), as the C does:
    j the last threshold <= t; fp[j] at a threshold or the last one, else
    ``slope * (t - xp[j]) + fp[j]`` (NaN: from the right end; equal ends: fp[j])."""
    t = np.asarray(t, dtype=np.float64)
    if len(xp) == 1:
        return np.full(t.shape, fp[0])
    j = np.clip(np.searchsorted(xp, t, side="right") - 1, 0, len(xp) - 1)
    last = j == len(xp) - 1
    jj = np.where(last, len(xp) - 2, j)
    with np.errstate(all="ignore"):
        slope = (fp[jj + 1] - fp[jj]) / (xp[jj + 1] - xp[jj])
        r = slope * (t - xp[jj]) + fp[jj]
        nan = np.isnan(r)
        r2 = slope * (t - xp[jj + 1]) + fp[jj + 1]
    r = np.where(nan, np.where(np.isnan(r2) & (fp[jj] == fp[jj + 1]), fp[jj], r2), r)
    return np.where(last | (xp[j] == t), fp[j], r)


def interp_f32(t: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """scipy's ``interp1d(kind="linear")._call_linear`` in float32 (thresholds fitted on float32
    values): i = searchsorted(xp, t) clipped to [1, n - 1], then
    ``(fp[i] - fp[i-1]) / (xp[i] - xp[i-1]) * (t - xp[i-1]) + fp[i-1]``, all in float32."""
    if len(xp) == 1:
        return np.full(t.shape, fp[0], dtype=np.float32)
    i = np.clip(np.searchsorted(xp, t, side="left"), 1, len(xp) - 1)
    with np.errstate(all="ignore"):
        slope = (fp[i] - fp[i - 1]) / (xp[i] - xp[i - 1])
        return (slope * (t - xp[i - 1]) + fp[i - 1]).astype(np.float32)


def normalize(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(p / row sum, row sum): sums in numpy's order (tcg_np_sum), all-zero rows uniform
    (tcg_normalize)."""
    k = p.shape[1]
    s = p[:, 0].copy()
    if k < 8:
        for c in range(1, k):
            s = s + p[:, c]
    else:  # numpy's eight interleaved partial sums, as tcg_np_sum
        r = [p[:, j].copy() for j in range(8)]
        i = 8
        while i + 8 <= k:
            r = [r[j] + p[:, i + j] for j in range(8)]
            i += 8
        s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for c in range(i, k):
            s = s + p[:, c]
    zero = s == 0.0
    out = p.copy()
    out[zero] = 1.0
    s = np.where(zero, float(k), s)
    return out / s[:, None], s


@dataclass(frozen=True, eq=False)
class CalibratedIR:
    meta: ModelMeta
    method: str
    members: tuple[Any, ...]
    responses: tuple[str, ...]  # per member: "decision_function" or "predict_proba"
    calibrators: tuple[tuple[Calibrator, ...], ...]  # per member: 1 (binary) or k
    kind: str = field(default="calibrated", init=False)
    transform_to_members: ClassVar[bool] = True  # in a Pipeline: every classifier takes it
    # as a Voting / Stacking member (core.members)
    decision_width: ClassVar[None] = None

    @property
    def sklearn_bitwise(self) -> bool:
        return bool(self.exact)

    def member_outputs(self, X: np.ndarray, need: str) -> tuple:
        """Its own propagated band (0 over exact classifiers)."""
        avg, tol, predict, _ = self.evaluate(X)
        return predict, avg, None, (tol if need == "predict_proba" else np.zeros((len(X), 1)))

    def lowered(self, run: Any) -> Any:
        """Every member through the passes (a Pipeline attaches its transform to each)."""
        return dataclasses.replace(self, members=tuple(run(m) for m in self.members))

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"calibrated IR: unknown method {self.method!r}")
        n = len(self.members)
        if not n or len(self.responses) != n or len(self.calibrators) != n:
            raise ValueError("calibrated IR: one response and calibrator set per member")
        want = 1 if self.meta.n_classes == 2 else self.meta.n_classes
        if any(len(c) != want for c in self.calibrators):
            raise ValueError(f"calibrated IR: {want} calibrator(s) per member")

    def __len__(self) -> int:
        return len(self.members)

    @property
    def exact(self) -> bool:
        """Every member's double outputs are sklearn's (no rounding band to carry)."""
        return all(bitwise(m) for m in self.members)

    def column(self, i: int) -> int:
        """Binary: which column of member i's response is calibrated (class 1's)."""
        return 1 if self.responses[i] == "predict_proba" else 0

    def member_proba(self, i: int, out: tuple) -> tuple[np.ndarray, np.ndarray]:
        """Member i's calibrated probabilities and their per-value distance bound to sklearn's."""
        k = self.meta.n_classes
        _, proba, dec, tol = out
        v = proba if self.responses[i] == "predict_proba" else dec
        n = len(v)
        p = np.zeros((n, k))
        t = np.zeros((n, k))
        cals = self.calibrators[i]
        if k == 2:
            col = self.column(i)
            cal = cals[0]
            p[:, 1] = cal.predict(v[:, col])
            p[:, 0] = 1.0 - p[:, 1]
            t[:, 1] = cal.spread(v[:, col], tol[:, col])
            t[:, 0] = np.where(t[:, 1] > 0, t[:, 1] + ULPS, 0.0)  # + 1 - p1's rounding
        else:
            for c, cal in enumerate(cals):
                p[:, c] = cal.predict(v[:, c])
                t[:, c] = cal.spread(v[:, c], tol[:, c])
            raw_tol = t
            p, s = normalize(p)
            tot = raw_tol.sum(axis=1)
            with np.errstate(all="ignore"):  # + the quotient's own rounding
                t = (raw_tol + p * tot[:, None]) / (s - tot)[:, None] * INFLATE + ULPS
            t = np.where((tot == 0)[:, None], 0.0, np.where(((s - 2 * tot) > 0)[:, None], t,
                                                            np.inf))
        p = np.where((p > 1.0) & (p <= CLIP_TOP), 1.0, p)
        return p, t

    def evaluate(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(average probabilities, their per-row distance bound to sklearn's, predict, bad)."""
        X = np.asarray(X, dtype=np.float32)
        n, k = len(X), self.meta.n_classes
        avg = np.zeros((n, k))
        tol = np.zeros((n, k))
        bad = np.zeros(n, dtype=bool)
        for i, ir in enumerate(self.members):
            out = member_outputs(ir, X, self.responses[i])
            bad |= out[0] < 0
            p, t = self.member_proba(i, out)
            avg = avg + p
            tol = tol + t
        avg = avg / float(len(self))
        tol = np.where(tol > 0, tol / len(self) + ULPS, 0.0)
        avg[bad] = 0.0
        tol[bad] = 0.0
        predict = np.argmax(avg, axis=1).astype(np.int32)
        predict[bad] = -1
        return avg, tol, predict, bad

    def reference(self, X: np.ndarray) -> Reference:
        avg, tol, predict, bad = self.evaluate(X)
        unsure = margin_unsure(avg, tol.max(axis=1)) & ~bad
        return Reference(predict=predict, proba=avg, fallback=unsure)
