"""The boosted IR's output links (raw sums -> probabilities) and predict rules, per library.

Each link replays its library's own arithmetic: sklearn's expit and softmax (NumPy), XGBoost's
float32 Sigmoid/Softmax with the C library's ``expf`` (:mod:`.link_xgboost`), LightGBM's double
sigmoid/softmax with the C library's ``exp`` (:mod:`.link_lightgbm`).
"""

from __future__ import annotations

import numpy as np

SIGMOID_LINKS = ("sk_binary", "xgb_sigmoid", "lgbm_sigmoid")  # one raw output
SOFTMAX_LINKS = ("sk_softmax", "sk_softmax_seq", "xgb_softmax", "lgbm_softmax")  # one per class
LINKS = SIGMOID_LINKS + SOFTMAX_LINKS
FLOAT_LINKS = ("xgb_sigmoid", "xgb_softmax")  # computed in float32 (XGBoost); the rest in double
PREDICT_RULES = (
    "raw_argmax",  # first maximum of the raw vector (sklearn GB/HGB multiclass)
    "raw_ge_zero",  # binary: class 1 iff raw >= 0 (sklearn GradientBoostingClassifier)
    "raw_gt_zero",  # binary: class 1 iff raw > 0 (sklearn HistGradientBoostingClassifier)
    "proba_argmax",  # first maximum of the probabilities as the library computes them
    "proba_gt_half",  # binary: class 1 iff p > 0.5 (p the positive class probability)
)


def link_proba(link: str, raw: np.ndarray, param: float = 1.0) -> np.ndarray:
    """Class probabilities (float64) from the raw outputs, as each library computes them."""
    with np.errstate(over="ignore", under="ignore", divide="ignore"):
        if link == "sk_binary":  # HalfBinomialLoss: expit(raw); exponential loss: expit(2 raw)
            from scipy.special import expit

            r = raw[:, 0].astype(np.float64)
            p = expit(r if param == 1.0 else np.float64(param) * r)
            return np.stack([1.0 - p, p], axis=1)
        if link in ("sk_softmax", "sk_softmax_seq"):  # sklearn.utils.extmath.softmax
            x = np.ascontiguousarray(raw, dtype=np.float64)
            x = np.exp(x - x.max(axis=1, keepdims=True))
            if link == "sk_softmax":  # C-ordered raw (GB): numpy's pairwise row sum
                return x / x.sum(axis=1, keepdims=True)
            s = x[:, 0].copy()  # F-ordered raw (HGB): numpy adds the columns in order
            for k in range(1, x.shape[1]):
                s = s + x[:, k]
            return x / s[:, None]
        if link == "xgb_sigmoid":  # XGBoost's float32 Sigmoid; predict_proba [1 - p, p]
            from tinycodegen.families.boosted.link_xgboost import xgb_binary_proba

            return xgb_binary_proba(raw).astype(np.float64)
        if link == "xgb_softmax":  # XGBoost's float32 Softmax (double wsum)
            from tinycodegen.families.boosted.link_xgboost import xgb_softmax

            return xgb_softmax(raw).astype(np.float64)
        if link in ("lgbm_sigmoid", "lgbm_softmax"):  # in double, with the C library's exp
            from tinycodegen.families.boosted import link_lightgbm

            if link == "lgbm_sigmoid":
                return link_lightgbm.sigmoid_proba(raw, param)
            return link_lightgbm.softmax_proba(raw)
    raise ValueError(f"boosted IR: unknown link {link!r}")


def predict_from(rule: str, raw: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Class index per row under a library's predict rule."""
    if rule == "raw_argmax":
        return np.argmax(raw, axis=1).astype(np.int32)
    if rule == "raw_ge_zero":
        return (raw[:, 0] >= 0).astype(np.int32)
    if rule == "raw_gt_zero":
        return (raw[:, 0] > 0).astype(np.int32)
    if rule == "proba_argmax":
        return np.argmax(proba, axis=1).astype(np.int32)
    if rule == "proba_gt_half":
        return (proba[:, 1] > 0.5).astype(np.int32)
    raise ValueError(f"boosted IR: unknown predict rule {rule!r}")
