"""Binary detection metrics (attack = positive class 1) from the compiled model's outputs."""

from __future__ import annotations

import numpy as np

METRICS = ("accuracy", "precision", "recall", "f1", "fpr", "roc_auc")


def binary_metrics(y: np.ndarray, pred: np.ndarray, score: np.ndarray | None) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y).astype(int)
    pred = np.asarray(pred).astype(int)
    tp = int(((pred == 1) & (y == 1)).sum())
    tn = int(((pred == 0) & (y == 0)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    out = {
        "accuracy": (tp + tn) / len(y),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "fpr": fp / (fp + tn) if fp + tn else 0.0,
        "roc_auc": float(roc_auc_score(y, score)) if score is not None else float("nan"),
        "tp": tp, "tn": tn, "fp": fp, "fn": fn,
    }
    return out


def losses(m: dict[str, float]) -> dict[str, float]:
    """The seed's Table 7.1 view: 1 - score for every metric, FPR as itself."""
    return {k: (m[k] if k == "fpr" else 1.0 - m[k]) for k in METRICS}
