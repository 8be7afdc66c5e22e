"""What a hybrid's reference needs from each member: its outputs as its C computes them, and a
bound on how far those double outputs can be from sklearn's, row by row.

* trees, pipeline trees, SVCs: 0 (their double outputs are sklearn's bit for bit; the SVC's on
  the host it was compiled on, when its BLAS order is replayed: else the hybrid's guarantee is
  "band");
* linear models: their scores are correctly rounded where sklearn's BLAS sums in some order, so
  a score is within gamma_{n+1}(2**-53) (|b| + sum |w_i z_i|) of sklearn's (the linear family's
  own band); probabilities move by at most half the largest score difference (sigmoid and
  softmax are 1/4- and 1/2-Lipschitz) plus a few ulps of exp;
* CalibratedClassifierCV: the band it propagates from its classifiers (0 over exact ones);
* anything else (MLP): ``APPROX_TOL``, an assumption, not a proof.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinycodegen.core.numerics import U64, gamma

BITWISE_KINDS = ("tree_ensemble", "pipeline_tree", "svc")
APPROX_TOL = 2.0**-30
INFLATE = 1.0 + 2.0**-20


def bitwise(ir: Any) -> bool:
    """The member's double predict_proba is sklearn's bit for bit: the bitwise kinds, soft votes
    of them (np.average replayed) and CalibratedClassifierCV over them."""
    if ir.kind == "hybrid":
        return ir.mode == "soft" and all(bitwise(m) for m in ir.members)
    if ir.kind == "calibrated":
        return bool(ir.exact)
    return ir.kind in BITWISE_KINDS


def decision_width(ir: Any) -> int:
    if ir.kind == "svc":
        return int(ir.decision_width)
    if ir.kind == "linear":
        return int(ir.n_scores)
    if ir.kind == "hybrid" and ir.mode == "stack":  # the final estimator's scores
        return int(ir.final.n_scores)
    raise ValueError(f"{ir.kind} members have no decision_function")


def member_outputs(ir: Any, X: np.ndarray, need: str) -> tuple:
    """(predict index, proba (n, k) or None, decision (n, w) or None, tol (n, w)): the member's
    outputs as its C computes them and the bound on their distance to sklearn's for ``need``
    (tol has the width of the output used: k for predict_proba, w for decision_function, 1 for
    predict, where it is 0)."""
    n = len(X)
    if ir.kind == "svc":
        ref = ir.reference(X, with_proba=False)
        if need == "predict":
            return ref.predict, None, None, np.zeros((n, 1))
        bad, z = ir.inputs(X)
        dec = ir.exact_decision_values(z)
        if need == "predict_proba":
            p = ir.exact_proba(dec)
            p[bad] = 0.0
            return ref.predict, p, None, np.zeros(p.shape)
        d = ir.sklearn_decision(dec).reshape(n, -1)
        d[bad] = 0.0
        return ref.predict, None, d, np.zeros(d.shape)
    if ir.kind == "hybrid" and need == "decision_function":  # stacking: final scores
        m, band, bad = ir.stack_scores(X)
        pred = ir.reference(X).predict
        return pred, None, np.where(bad[:, None], 0.0, m), np.where(bad[:, None], 0.0, band)
    if ir.kind == "calibrated":  # its own propagated band (0 over exact classifiers)
        avg, tol, predict, _ = ir.evaluate(X)
        return predict, avg, None, (tol if need == "predict_proba" else np.zeros((n, 1)))
    ref = ir.reference(X)
    if need == "predict":
        return ref.predict, ref.proba, None, np.zeros((n, 1))
    if need == "decision_function":
        d = ir.decision(X).reshape(n, -1)
        return ref.predict, None, d, _score_tol(ir, X)
    if ref.proba is None:
        raise ValueError(f"{ir.kind} member has no predict_proba reference")
    if bitwise(ir):
        tol = np.zeros(ref.proba.shape)
    elif ir.kind == "linear":
        s = _score_tol(ir, X).max(axis=1, keepdims=True)
        tol = np.broadcast_to(0.5 * s + 2.0**-49, ref.proba.shape).copy()
    else:
        tol = np.full(ref.proba.shape, APPROX_TOL)
    return ref.predict, ref.proba, None, tol


def _score_tol(ir: Any, X: np.ndarray) -> np.ndarray:
    """Linear member: per row and score, the band around sklearn's double score."""
    if ir.kind != "linear":
        return np.full((len(X), decision_width(ir)), APPROX_TOL)
    _, z = ir.inputs(X)
    mag = np.abs(z) @ np.abs(ir.coef).T + np.abs(ir.intercept)[None, :]
    g = (gamma(ir.n_inputs + 1, U64) + U64) * (1 + gamma(ir.n_inputs + 2, U64))
    return mag * g * INFLATE + 2.0**-1000
