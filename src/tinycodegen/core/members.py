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

APPROX_TOL = 2.0**-30
INFLATE = 1.0 + 2.0**-20

# What a member IR answers (no kind checks: each IR class says it):
#   sklearn_bitwise   its double predict_proba is sklearn's bit for bit
#   decision_width    number of decision_function columns its C computes, None: none
#   member_outputs(X, need)   the tuple below (standard_outputs for plain members)
#   score_band(X)     optional: per row and score, the band around sklearn's double score
#                     (linear models); members without one get APPROX_TOL


def bitwise(ir: Any) -> bool:
    """The member's double predict_proba is sklearn's bit for bit."""
    return bool(ir.sklearn_bitwise)


def decision_width(ir: Any) -> int:
    width = ir.decision_width
    if width is None:
        raise ValueError(f"{ir.kind} members have no decision_function")
    return int(width)


def member_outputs(ir: Any, X: np.ndarray, need: str) -> tuple:
    """(predict index, proba (n, k) or None, decision (n, w) or None, tol (n, w)): the member's
    outputs as its C computes them and the bound on their distance to sklearn's for ``need``
    (tol has the width of the output used: k for predict_proba, w for decision_function, 1 for
    predict, where it is 0)."""
    return ir.member_outputs(X, need)


def standard_outputs(ir: Any, X: np.ndarray, need: str) -> tuple:
    """:func:`member_outputs` of a member whose reference gives predict and predict_proba and
    whose ``decision`` gives decision_function."""
    n = len(X)
    ref = ir.reference(X)
    if need == "predict":
        return ref.predict, ref.proba, None, np.zeros((n, 1))
    if need == "decision_function":
        d = ir.decision(X).reshape(n, -1)
        return ref.predict, None, d, score_tol(ir, X)
    if ref.proba is None:
        raise ValueError(f"{ir.kind} member has no predict_proba reference")
    if bitwise(ir):
        tol = np.zeros(ref.proba.shape)
    elif hasattr(ir, "score_band"):  # sigmoid / softmax are 1/4- and 1/2-Lipschitz
        s = ir.score_band(X).max(axis=1, keepdims=True)
        tol = np.broadcast_to(0.5 * s + 2.0**-49, ref.proba.shape).copy()
    else:
        tol = np.full(ref.proba.shape, APPROX_TOL)
    return ref.predict, ref.proba, None, tol


def score_tol(ir: Any, X: np.ndarray) -> np.ndarray:
    """Per row and score, the band around sklearn's double score."""
    if hasattr(ir, "score_band"):
        return ir.score_band(X)
    return np.full((len(X), decision_width(ir)), APPROX_TOL)


def linear_score_band(ir: Any, X: np.ndarray) -> np.ndarray:
    """A linear model's scores: correctly rounded, sklearn's BLAS sums in some order."""
    _, z = ir.inputs(X)
    mag = np.abs(z) @ np.abs(ir.coef).T + np.abs(ir.intercept)[None, :]
    g = (gamma(ir.n_inputs + 1, U64) + U64) * (1 + gamma(ir.n_inputs + 2, U64))
    return mag * g * INFLATE + 2.0**-1000
